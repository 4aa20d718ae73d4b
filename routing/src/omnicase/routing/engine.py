"""The routing decision itself: pure functions over in-memory data, no I/O.

Two questions, answered the same way for every caller (consumer, offer timeouts,
presence changes, the benchmark):

- :func:`match_rules`: which assignment rule applies to a case (first enabled
  match in order), with the reason every rule before it did not apply;
- :func:`select_agents`: which agents of a queue may take a piece of work, ranked
  by the queue's routing model, with the reason each one was or was not chosen.

Callers load the candidates with indexed queries and then try the ranked agents in
order against the database (a conditional capacity update), so a concurrent
replica taking the same agent's last unit only moves the choice down the list.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field

from omnicase.kit.events import Channel, Priority
from omnicase.kit.inputs import StrictInput, Trimmed


class RoutingModel(StrEnum):
    BEST_AVAILABLE = "best_available"
    ROUND_ROBIN = "round_robin"
    LEAST_ACTIVE = "least_active"


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class VoiceStatus(StrEnum):
    """Whether an agent takes calls now, apart from their presence: a call's case goes only to ``available``."""

    AVAILABLE = "available"
    BUSY = "busy"
    OFFLINE = "offline"


PRIORITY_RANK: dict[Priority, int] = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}

_NEVER = datetime.min.replace(tzinfo=UTC)


# --- rules -----------------------------------------------------------------------------


# A term is trimmed and must keep a character, and its published pattern says so.
Term = Annotated[str, Trimmed(200)]
Terms = Annotated[list[Term], Field(max_length=100)]


class RuleConditions(StrictInput):
    """What a case must look like for a rule to apply. Every condition given must hold;
    an empty list means "any". Matching is case-insensitive for text."""

    channels: list[Channel] = Field(default_factory=list, max_length=20, examples=[["email", "messaging"]])
    priorities: list[Priority] = Field(default_factory=list, max_length=10, examples=[["high", "urgent"]])
    brands: Terms = Field(default_factory=list, examples=[["acme"]])
    types: Terms = Field(default_factory=list, examples=[["incident"]])
    tags_all: Terms = Field(default_factory=list, description="The case carries every one of these tags.")
    tags_any: Terms = Field(default_factory=list, description="The case carries at least one of these tags.")
    custom_fields: dict[Term, Annotated[list[Any], Field(min_length=1, max_length=100)]] = Field(
        default_factory=dict,
        description="Field name → accepted values; the case's value must equal one of them.",
        examples=[{"plan": ["enterprise", "premium"]}],
    )
    organization_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    languages: Terms = Field(default_factory=list, examples=[["de", "fr"]])
    keywords: Terms = Field(
        default_factory=list,
        description="At least one of these words or phrases occurs in the subject or first message.",
        examples=[["refund", "chargeback"]],
    )


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What rules read about a case."""

    channel: Channel
    priority: Priority
    brand: str | None = None
    type: str | None = None
    tags: Sequence[str] = ()
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    organization_id: uuid.UUID | None = None
    language: str | None = None
    subject: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    rule_id: uuid.UUID
    name: str
    conditions: RuleConditions
    target_group_id: uuid.UUID
    required_skills: Mapping[uuid.UUID, int]
    require_language: bool = False


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    rule_id: uuid.UUID
    name: str
    matched: bool
    reason: str


@dataclass(frozen=True, slots=True)
class RuleMatch:
    rule: RuleSpec | None
    verdicts: list[RuleVerdict]


@lru_cache(maxsize=4096)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(keyword.strip())}(?!\w)", re.IGNORECASE)


def _fold(values: Sequence[str]) -> set[str]:
    return {value.casefold() for value in values}


def speaks(known: str, wanted: str | None) -> bool:
    """``known`` covers the ``wanted`` language tag: the same tag, or its primary language
    (someone who speaks ``de`` serves ``de-AT``)."""
    if not wanted:
        return False
    known, wanted = known.casefold(), wanted.casefold()
    return wanted == known or wanted.startswith(known + "-")


def rule_mismatch(conditions: RuleConditions, case: CaseFacts) -> str | None:
    """The first condition ``case`` fails, in words, or ``None`` when every condition holds."""
    if conditions.channels and case.channel not in conditions.channels:
        return f"channel {case.channel} is not one of {', '.join(conditions.channels)}"
    if conditions.priorities and case.priority not in conditions.priorities:
        return f"priority {case.priority} is not one of {', '.join(conditions.priorities)}"
    if conditions.brands and (case.brand or "").casefold() not in _fold(conditions.brands):
        return f"brand {case.brand!r} is not one of {', '.join(conditions.brands)}"
    if conditions.types and (case.type or "").casefold() not in _fold(conditions.types):
        return f"type {case.type!r} is not one of {', '.join(conditions.types)}"
    tags = _fold(case.tags)
    if conditions.tags_all and not _fold(conditions.tags_all) <= tags:
        missing = sorted(_fold(conditions.tags_all) - tags)
        return f"tags {', '.join(missing)} missing"
    if conditions.tags_any and not _fold(conditions.tags_any) & tags:
        return f"none of the tags {', '.join(conditions.tags_any)}"
    for name, accepted in conditions.custom_fields.items():
        if case.custom_fields.get(name) not in accepted:
            return f"custom field {name}={case.custom_fields.get(name)!r} is not one of {accepted!r}"
    if conditions.organization_ids and case.organization_id not in conditions.organization_ids:
        return "organization does not match"
    if conditions.languages and not any(speaks(language, case.language) for language in conditions.languages):
        return f"language {case.language!r} is not one of {', '.join(conditions.languages)}"
    if conditions.keywords:
        text = f"{case.subject}\n{case.description}"
        if not any(_keyword_pattern(keyword).search(text) for keyword in conditions.keywords if keyword.strip()):
            return f"none of the keywords {', '.join(conditions.keywords)} in subject or message"
    return None


def match_rules(rules: Sequence[RuleSpec], case: CaseFacts) -> RuleMatch:
    """The first rule (in the given order) whose conditions all hold."""
    verdicts: list[RuleVerdict] = []
    for rule in rules:
        mismatch = rule_mismatch(rule.conditions, case)
        if mismatch is None:
            verdicts.append(RuleVerdict(rule.rule_id, rule.name, True, "all conditions hold"))
            return RuleMatch(rule, verdicts)
        verdicts.append(RuleVerdict(rule.rule_id, rule.name, False, mismatch))
    return RuleMatch(None, verdicts)


# --- agents -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent as a queue sees it at the moment of the decision."""

    agent_id: uuid.UUID
    presence: Presence
    capacity: int
    used_capacity: int
    active_cases: int
    skills: Mapping[uuid.UUID, int]
    languages: frozenset[str] = frozenset()
    last_assigned_at: datetime | None = None
    queue_last_offered_at: datetime | None = None
    voice: VoiceStatus = VoiceStatus.OFFLINE

    @property
    def free_capacity(self) -> int:
        return self.capacity - self.used_capacity


@dataclass(frozen=True, slots=True)
class WorkItem:
    """The piece of work to place: what it needs and whom it must skip."""

    cost: int
    required_skills: Mapping[uuid.UUID, int] = field(default_factory=dict)
    language: str | None = None
    require_language: bool = False
    excluded: frozenset[uuid.UUID] = frozenset()
    # A call's case (channel voice): only an agent available for calls may take it.
    call: bool = False


@dataclass(frozen=True, slots=True)
class CandidateVerdict:
    agent_id: uuid.UUID
    eligible: bool
    reason: str
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    ranked: list[Candidate]
    verdicts: list[CandidateVerdict]

    @property
    def best(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None


def ineligibility(
    work: WorkItem, candidate: Candidate, skill_names: Mapping[uuid.UUID, str] | None = None
) -> str | None:
    """Why ``candidate`` cannot take ``work`` now, or ``None`` when they can."""
    if candidate.agent_id in work.excluded:
        return "declined or let this case's offer expire"
    if candidate.presence is not Presence.ONLINE:
        return f"is {candidate.presence}"
    if work.call and candidate.voice is not VoiceStatus.AVAILABLE:
        return f"is {candidate.voice} for calls"
    for skill_id, minimum in work.required_skills.items():
        level = candidate.skills.get(skill_id)
        name = (skill_names or {}).get(skill_id, str(skill_id))
        if level is None:
            return f"lacks skill {name}"
        if level < minimum:
            return f"skill {name} at level {level}, needs {minimum}"
    if (
        work.require_language
        and work.language
        and not any(speaks(known, work.language) for known in candidate.languages)
    ):
        return f"does not speak {work.language}"
    if candidate.free_capacity < work.cost:
        return f"{candidate.free_capacity} capacity units free, needs {work.cost}"
    return None


def _rank_key(model: RoutingModel) -> Any:
    if model is RoutingModel.ROUND_ROBIN:
        return lambda c: (c.queue_last_offered_at or _NEVER, c.last_assigned_at or _NEVER, c.agent_id)
    if model is RoutingModel.LEAST_ACTIVE:
        return lambda c: (c.active_cases, c.last_assigned_at or _NEVER, c.agent_id)
    return lambda c: (-c.free_capacity, c.last_assigned_at or _NEVER, c.agent_id)


RANKING_EXPLAINED: dict[RoutingModel, str] = {
    RoutingModel.BEST_AVAILABLE: "most free capacity, then longest since last assignment",
    RoutingModel.ROUND_ROBIN: "longest since last offered work from this queue",
    RoutingModel.LEAST_ACTIVE: "fewest active cases, then longest since last assignment",
}


def select_agents(
    work: WorkItem,
    candidates: Sequence[Candidate],
    model: RoutingModel,
    skill_names: Mapping[uuid.UUID, str] | None = None,
) -> Selection:
    """Every eligible candidate, best first by ``model``, and a verdict for each candidate.

    Ties break on the agent id so the same inputs always give the same answer.
    """
    eligible: list[Candidate] = []
    rejected: list[CandidateVerdict] = []
    for candidate in candidates:
        reason = ineligibility(work, candidate, skill_names)
        if reason is None:
            eligible.append(candidate)
        else:
            rejected.append(CandidateVerdict(candidate.agent_id, False, reason))
    eligible.sort(key=_rank_key(model))
    explained = RANKING_EXPLAINED[model]
    verdicts = [
        CandidateVerdict(candidate.agent_id, True, f"eligible; ranked {rank} by {explained}", rank)
        for rank, candidate in enumerate(eligible, start=1)
    ]
    return Selection(eligible, verdicts + rejected)
