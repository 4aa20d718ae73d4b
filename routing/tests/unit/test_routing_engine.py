"""The routing decision itself: rule matching and agent ranking, no I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from omnicase.kit.events import Channel, Priority
from omnicase.routing.engine import (
    Candidate,
    CaseFacts,
    Presence,
    RoutingModel,
    RuleConditions,
    RuleSpec,
    WorkItem,
    match_rules,
    rule_mismatch,
    select_agents,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def facts(**overrides: object) -> CaseFacts:
    values: dict[str, object] = {
        "channel": Channel.EMAIL,
        "priority": Priority.NORMAL,
        "brand": "Acme",
        "type": "question",
        "tags": ("VIP", "billing"),
        "custom_fields": {"plan": "enterprise", "seats": 40},
        "organization_id": None,
        "language": "de",
        "subject": "Refund for order 42",
        "description": "I was charged twice.",
    }
    values.update(overrides)
    return CaseFacts(**values)  # type: ignore[arg-type]


def rule(name: str, **conditions: object) -> RuleSpec:
    return RuleSpec(
        rule_id=uuid.uuid4(),
        name=name,
        conditions=RuleConditions.model_validate(conditions),
        target_group_id=uuid.uuid4(),
        required_skills={},
    )


@pytest.mark.parametrize(
    ("conditions", "holds"),
    [
        ({}, True),
        ({"channels": ["email", "web"]}, True),
        ({"channels": ["voice"]}, False),
        ({"priorities": ["high", "urgent"]}, False),
        ({"brands": ["ACME"]}, True),
        ({"types": ["incident"]}, False),
        ({"tags_all": ["vip", "billing"]}, True),
        ({"tags_all": ["vip", "legal"]}, False),
        ({"tags_any": ["legal", "Billing"]}, True),
        ({"tags_any": ["legal"]}, False),
        ({"custom_fields": {"plan": ["enterprise", "premium"]}}, True),
        ({"custom_fields": {"seats": [40]}}, True),
        ({"custom_fields": {"plan": ["free"]}}, False),
        ({"custom_fields": {"region": ["eu"]}}, False),
        ({"languages": ["DE", "fr"]}, True),
        ({"languages": ["fr"]}, False),
        ({"keywords": ["refund"]}, True),
        ({"keywords": ["charged twice"]}, True),
        ({"keywords": ["fund"]}, False),  # whole words only
        ({"channels": ["email"], "keywords": ["invoice"]}, False),
    ],
)
def test_every_condition_must_hold(conditions: dict[str, object], holds: bool) -> None:
    assert (rule_mismatch(RuleConditions.model_validate(conditions), facts()) is None) is holds


def test_organization_condition_matches_only_listed_organizations() -> None:
    org = uuid.uuid4()
    conditions = RuleConditions(organization_ids=[org])
    assert rule_mismatch(conditions, facts(organization_id=org)) is None
    assert rule_mismatch(conditions, facts(organization_id=uuid.uuid4())) == "organization does not match"
    assert rule_mismatch(conditions, facts()) is not None


def test_first_matching_rule_wins_and_every_skipped_rule_says_why() -> None:
    rules = [rule("voice", channels=["voice"]), rule("refunds", keywords=["refund"]), rule("catch-all")]
    match = match_rules(rules, facts())
    assert match.rule is rules[1]
    assert [(v.name, v.matched) for v in match.verdicts] == [("voice", False), ("refunds", True)]
    assert "channel email" in match.verdicts[0].reason


def test_no_rule_matches() -> None:
    match = match_rules([rule("voice", channels=["voice"])], facts())
    assert match.rule is None
    assert len(match.verdicts) == 1


def test_conditions_reject_unknown_keys_and_blank_terms() -> None:
    with pytest.raises(ValidationError):
        RuleConditions.model_validate({"colour": ["red"]})
    with pytest.raises(ValidationError):
        RuleConditions.model_validate({"keywords": ["  "]})
    with pytest.raises(ValidationError):
        RuleConditions.model_validate({"custom_fields": {"plan": []}})


SKILL = uuid.uuid4()


def agent(
    free: int,
    *,
    capacity: int = 10,
    level: int | None = 5,
    presence: Presence = Presence.ONLINE,
    active: int = 0,
    idle_minutes: int = 0,
    offered_minutes: int | None = None,
    languages: frozenset[str] = frozenset(),
) -> Candidate:
    return Candidate(
        agent_id=uuid.uuid4(),
        presence=presence,
        capacity=capacity,
        used_capacity=capacity - free,
        active_cases=active,
        skills={SKILL: level} if level is not None else {},
        languages=languages,
        last_assigned_at=T0 - timedelta(minutes=idle_minutes),
        queue_last_offered_at=None if offered_minutes is None else T0 - timedelta(minutes=offered_minutes),
    )


def test_best_available_needs_every_skill_then_most_free_capacity_then_longest_idle() -> None:
    roomy = agent(8, idle_minutes=1)
    roomy_idle = agent(8, idle_minutes=30)
    tight = agent(2, idle_minutes=60)
    novice = agent(10, level=2)
    away = agent(10, presence=Presence.AWAY)
    full = agent(0)
    work = WorkItem(cost=3, required_skills={SKILL: 4})

    selection = select_agents(work, [roomy, tight, novice, away, roomy_idle, full], RoutingModel.BEST_AVAILABLE)

    assert selection.ranked == [roomy_idle, roomy]
    reasons = {v.agent_id: v.reason for v in selection.verdicts}
    assert "level 2, needs 4" in reasons[novice.agent_id]
    assert reasons[away.agent_id] == "is away"
    assert reasons[tight.agent_id] == "2 capacity units free, needs 3"
    assert reasons[full.agent_id] == "0 capacity units free, needs 3"


def test_round_robin_prefers_whoever_was_offered_work_longest_ago() -> None:
    recent = agent(1, offered_minutes=1)
    never = agent(1, offered_minutes=None)
    earlier = agent(9, offered_minutes=10)
    selection = select_agents(WorkItem(cost=1), [recent, earlier, never], RoutingModel.ROUND_ROBIN)
    assert selection.ranked == [never, earlier, recent]


def test_least_active_prefers_fewest_active_cases() -> None:
    busy = agent(9, active=4)
    calm = agent(1, active=1)
    selection = select_agents(WorkItem(cost=1), [busy, calm], RoutingModel.LEAST_ACTIVE)
    assert selection.ranked == [calm, busy]


def test_excluded_agents_and_language_are_respected() -> None:
    passed = agent(10)
    english = agent(10, languages=frozenset({"en"}))
    german = agent(1, languages=frozenset({"de"}))
    work = WorkItem(cost=1, language="DE", require_language=True, excluded=frozenset({passed.agent_id}))
    selection = select_agents(work, [passed, english, german], RoutingModel.BEST_AVAILABLE)
    assert selection.ranked == [german]
    reasons = {v.agent_id: v.reason for v in selection.verdicts}
    assert reasons[english.agent_id] == "does not speak DE"
    assert "declined" in reasons[passed.agent_id]


def test_same_inputs_give_the_same_answer() -> None:
    twins = [agent(5, idle_minutes=3) for _ in range(5)]
    first = select_agents(WorkItem(cost=1), twins, RoutingModel.BEST_AVAILABLE).ranked
    second = select_agents(WorkItem(cost=1), list(reversed(twins)), RoutingModel.BEST_AVAILABLE).ranked
    assert first == second


def test_a_language_covers_its_regional_variants_but_not_the_reverse() -> None:
    austrian = facts(language="de-AT")
    assert rule_mismatch(RuleConditions(languages=["de"]), austrian) is None
    assert rule_mismatch(RuleConditions(languages=["de-CH"]), austrian) is not None
    german = agent(5, languages=frozenset({"de"}))
    swiss = agent(5, languages=frozenset({"de-ch"}))
    work = WorkItem(cost=1, language="de-AT", require_language=True)
    assert select_agents(work, [german, swiss], RoutingModel.BEST_AVAILABLE).ranked == [german]
