"""Routing behaviour end to end inside one (rolled-back) transaction: cases in, offers,
assignments and case.commands out, with time driven by hand."""

from __future__ import annotations

import uuid

import pytest

from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.events import CaseStatus, Channel, Priority
from omnicase.routing.engine import Presence, RoutingModel, RuleConditions
from omnicase.routing.errors import OfferNotPending
from omnicase.routing.rules.schemas import RuleUpdate
from omnicase.routing.rules.service import RuleService
from omnicase.routing.testing import Seeder, commands_for, snapshot

pytestmark = pytest.mark.asyncio


def brand() -> str:
    # Rules match on a brand of this test's own, so no other test's rules can interfere.
    return f"brand-{uuid.uuid4().hex[:8]}"


async def used(seed: Seeder, agent_id: uuid.UUID) -> int:
    candidate = await seed.routing.repo.candidate(agent_id)
    assert candidate is not None
    return candidate.used_capacity


async def state(seed: Seeder, case_id: uuid.UUID) -> tuple[str, uuid.UUID | None, uuid.UUID | None]:
    case = await seed.routing.repo.get_case(case_id)
    assert case is not None
    return case.state, case.group_id, case.holder_id


async def test_new_case_goes_to_the_skilled_agent_with_most_free_capacity(seed: Seeder, clock: ManualClock) -> None:
    billing = await seed.skill()
    queue = await seed.group()
    b = brand()
    rule_id = await seed.rule(queue, RuleConditions(brands=[b], keywords=["refund"]), skills={billing: 5})
    best = await seed.agent(queue, skills={billing: 7}, capacity=10)
    busier = await seed.agent(queue, skills={billing: 9}, capacity=4)
    novice = await seed.agent(queue, skills={billing: 3})
    offline = await seed.agent(queue, skills={billing: 10}, online=False)
    unskilled = await seed.agent(queue)

    case = snapshot(brand=b, subject="Refund please")
    await seed.routing.apply_snapshot(case, actor="system", created=True)

    assert await state(seed, case.case_id) == ("assigned", queue, best)
    assert await used(seed, best) == 1
    commands = await commands_for(seed.session, case.case_id)
    # One command: the assignment carries the rule's group, case-core applies both.
    assert [kind for kind, _ in commands] == ["case.assign"]
    assert commands[0][1]["group_id"] == str(queue)
    assert commands[0][1]["assignee_id"] == str(best)

    log = await seed.routing.repo.list_decisions(case.case_id, after=None, limit=50)
    assert [entry["kind"] for entry in log] == ["queued", "assigned"]
    assert log[0]["rule_id"] == rule_id
    reasons = {uuid.UUID(c["agent_id"]): c for c in log[1]["details"]["candidates"]}
    assert reasons[best]["chosen"] is True
    assert reasons[busier]["eligible"] is True
    assert reasons[busier]["chosen"] is False
    assert "level 3, needs 5" in reasons[novice]["reason"]
    assert "offline" in reasons[offline]["reason"]
    assert "lacks skill" in reasons[unskilled]["reason"]


async def test_case_no_rule_matches_stays_in_its_own_group(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    other = await seed.group()
    await seed.rule(other, RuleConditions(brands=[brand()]))
    agent = await seed.agent(queue)

    case = snapshot(brand=brand(), group_id=queue)
    await seed.routing.apply_snapshot(case, actor="system", created=True)

    assert await state(seed, case.case_id) == ("assigned", queue, agent)
    assert [kind for kind, _ in await commands_for(seed.session, case.case_id)] == ["case.assign"]


async def test_case_in_no_queue_is_left_unrouted_with_the_reason(seed: Seeder, clock: ManualClock) -> None:
    case = snapshot(brand=brand())
    await seed.routing.apply_snapshot(case, actor="system", created=True)

    assert (await state(seed, case.case_id))[0] == "unrouted"
    log = await seed.routing.repo.list_decisions(case.case_id, after=None, limit=50)
    assert log[-1]["kind"] == "unrouted"
    assert await commands_for(seed.session, case.case_id) == []


async def test_capacity_is_never_overrun_by_costly_channels(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    agent = await seed.agent(queue, capacity=6, takes_calls=True)

    first = snapshot(group_id=queue, channel=Channel.VOICE)
    second = snapshot(group_id=queue, channel=Channel.VOICE)
    email = snapshot(group_id=queue, channel=Channel.EMAIL)
    for case in (first, second, email):
        await seed.routing.apply_snapshot(case, actor="system", created=True)

    assert (await state(seed, first.case_id))[0] == "assigned"
    assert (await state(seed, second.case_id))[0] == "waiting"
    assert (await state(seed, email.case_id))[0] == "assigned"
    assert await used(seed, agent) == 6


async def test_offer_not_accepted_in_time_goes_to_the_next_agent(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(offer_timeout=30)
    first = await seed.agent(queue, capacity=10)
    second = await seed.agent(queue, capacity=5)
    case = snapshot(group_id=queue)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    assert await state(seed, case.case_id) == ("offered", queue, first)
    assert await commands_for(seed.session, case.case_id) == []

    await clock.advance(29)
    assert await seed.routing.fire_due_timers(100) == 0
    await clock.advance(2)
    assert await seed.routing.fire_due_timers(100) == 1

    assert await state(seed, case.case_id) == ("offered", queue, second)
    assert await used(seed, first) == 0
    assert await used(seed, second) == 1
    log = await seed.routing.repo.list_decisions(case.case_id, after=None, limit=50)
    assert [entry["kind"] for entry in log][-2:] == ["expired", "offered"]
    candidates = {uuid.UUID(c["agent_id"]): c["reason"] for c in log[-1]["details"]["candidates"]}
    assert "declined or let this case's offer expire" in candidates[first]


async def test_accepting_an_offer_assigns_the_case_through_case_core(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(offer_timeout=30)
    agent = await seed.agent(queue)
    case = snapshot(group_id=queue)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    offer = (await seed.routing.repo.pending_offers_of(agent))[0]

    accepted = await seed.routing.accept(offer.id)

    assert accepted.status == "accepted"
    assert await state(seed, case.case_id) == ("assigned", queue, agent)
    commands = await commands_for(seed.session, case.case_id)
    assert commands[-1][0] == "case.assign"
    assert commands[-1][1]["assignee_id"] == str(agent)
    # The timeout no longer applies once accepted.
    await clock.advance(60)
    await seed.routing.fire_due_timers(100)
    assert await state(seed, case.case_id) == ("assigned", queue, agent)
    with pytest.raises(OfferNotPending):
        await seed.routing.accept(offer.id)


async def test_declined_offer_goes_to_the_next_agent_and_never_back(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(offer_timeout=30)
    first = await seed.agent(queue, capacity=10)
    second = await seed.agent(queue, capacity=5)
    case = snapshot(group_id=queue)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    offer = (await seed.routing.repo.pending_offers_of(first))[0]

    await seed.routing.decline(offer.id, "not my area")
    assert await state(seed, case.case_id) == ("offered", queue, second)
    assert await used(seed, first) == 0

    second_offer = (await seed.routing.repo.pending_offers_of(second))[0]
    await seed.routing.decline(second_offer.id, "busy")
    # Everyone in the queue said no: the case waits rather than bouncing back.
    assert await state(seed, case.case_id) == ("waiting", queue, None)


async def test_case_waiting_past_the_queue_limit_moves_to_the_fallback_queue(seed: Seeder, clock: ManualClock) -> None:
    fallback = await seed.group()
    queue = await seed.group(overflow_after=600, overflow_to=fallback)
    case = snapshot(group_id=queue)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    assert (await state(seed, case.case_id))[:2] == ("waiting", queue)
    helper = await seed.agent(fallback, online=False)

    await clock.advance(599)
    await seed.routing.fire_due_timers(100)
    assert (await state(seed, case.case_id))[:2] == ("waiting", queue)
    await clock.advance(2)
    await seed.routing.fire_due_timers(100)
    assert (await state(seed, case.case_id))[:2] == ("waiting", fallback)
    commands = await commands_for(seed.session, case.case_id)
    assert commands[-1] == ("case.change", {**commands[-1][1], "group_id": str(fallback)})

    await seed.presence(helper, Presence.ONLINE)
    assert await state(seed, case.case_id) == ("assigned", fallback, helper)


async def test_agent_going_offline_hands_back_unaccepted_work(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(offer_timeout=60)
    leaving = await seed.agent(queue, capacity=10)
    staying = await seed.agent(queue, capacity=5)
    case = snapshot(group_id=queue)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    assert await state(seed, case.case_id) == ("offered", queue, leaving)

    await seed.presence(leaving, Presence.OFFLINE)

    assert await state(seed, case.case_id) == ("offered", queue, staying)
    assert await used(seed, leaving) == 0
    assert await seed.routing.repo.pending_offers_of(leaving) == []


async def test_agent_coming_online_gets_the_oldest_highest_priority_work_that_fits(
    seed: Seeder, clock: ManualClock
) -> None:
    spanish = await seed.skill()
    queue = await seed.group()
    old_low = snapshot(group_id=queue, priority=Priority.LOW)
    urgent_needs_skill = snapshot(group_id=queue, priority=Priority.URGENT)
    urgent = snapshot(group_id=queue, priority=Priority.URGENT)
    newer_urgent = snapshot(group_id=queue, priority=Priority.URGENT)
    await seed.routing.apply_snapshot(old_low, actor="system", created=True)
    await clock.advance(10)
    await seed.routing.apply_snapshot(urgent_needs_skill, actor="system", created=True)
    await seed.routing.repo.update_case(urgent_needs_skill.case_id, required_skills={str(spanish): 5})
    await clock.advance(10)
    await seed.routing.apply_snapshot(urgent, actor="system", created=True)
    await clock.advance(10)
    await seed.routing.apply_snapshot(newer_urgent, actor="system", created=True)

    agent = await seed.agent(queue, capacity=2, online=False)
    await seed.presence(agent, Presence.ONLINE)

    assert (await state(seed, urgent.case_id))[0] == "assigned"
    assert (await state(seed, newer_urgent.case_id))[0] == "assigned"
    assert (await state(seed, urgent_needs_skill.case_id))[0] == "waiting"
    assert (await state(seed, old_low.case_id))[0] == "waiting"

    novice = await seed.agent(queue, skills={spanish: 4}, capacity=1, online=False)
    await seed.presence(novice, Presence.ONLINE)
    assert (await state(seed, old_low.case_id))[2] == novice
    speaker = await seed.agent(queue, skills={spanish: 6}, capacity=1, online=False)
    await seed.presence(speaker, Presence.ONLINE)
    assert await state(seed, urgent_needs_skill.case_id) == ("assigned", queue, speaker)


async def test_solved_case_frees_capacity_and_the_next_case_is_pushed_at_once(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    agent = await seed.agent(queue, capacity=1)
    first = snapshot(group_id=queue)
    second = snapshot(group_id=queue)
    await seed.routing.apply_snapshot(first, actor="system", created=True)
    await seed.routing.apply_snapshot(second, actor="system", created=True)
    assert (await state(seed, second.case_id))[0] == "waiting"

    solved = first.model_copy(update={"status": CaseStatus.SOLVED, "version": 3, "assignee_id": agent})
    await seed.routing.apply_snapshot(solved, actor=f"user:{agent}", changed=frozenset({"status"}))

    assert (await state(seed, first.case_id))[0] == "closed"
    assert await state(seed, second.case_id) == ("assigned", queue, agent)
    assert await used(seed, agent) == 1


async def test_reopened_case_is_routed_again(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    agent = await seed.agent(queue, capacity=1)
    case = snapshot(group_id=queue)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    closed = case.model_copy(update={"status": CaseStatus.CLOSED, "version": 2, "assignee_id": agent})
    await seed.routing.apply_snapshot(closed, actor="system", changed=frozenset({"status"}))
    assert await used(seed, agent) == 0

    reopened = closed.model_copy(update={"status": CaseStatus.OPEN, "version": 3, "assignee_id": None})
    await seed.routing.apply_snapshot(reopened, actor="contact:x", changed=frozenset({"status", "assignee_id"}))

    assert await state(seed, case.case_id) == ("assigned", queue, agent)
    assert await used(seed, agent) == 1


async def test_manual_assignment_is_respected_and_rules_do_not_move_it(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    vip = await seed.group()
    b = brand()
    await seed.rule(vip, RuleConditions(brands=[b], priorities=[Priority.URGENT]))
    routed = await seed.agent(queue, capacity=5)
    chosen = await seed.agent(capacity=5)
    case = snapshot(group_id=queue, brand=b)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    assert await state(seed, case.case_id) == ("assigned", queue, routed)

    by_admin = case.model_copy(update={"version": 2, "assignee_id": chosen})
    await seed.routing.apply_snapshot(by_admin, actor=f"user:{uuid.uuid4()}", changed=frozenset({"assignee_id"}))
    assert await state(seed, case.case_id) == ("manual", queue, chosen)
    assert await used(seed, routed) == 0
    assert await used(seed, chosen) == 1

    escalated = by_admin.model_copy(update={"version": 3, "priority": Priority.URGENT})
    await seed.routing.apply_snapshot(escalated, actor="user:someone", changed=frozenset({"priority"}))
    assert await state(seed, case.case_id) == ("manual", queue, chosen)
    log = await seed.routing.repo.list_decisions(case.case_id, after=None, limit=50)
    assert log[-1]["kind"] == "manual"


async def test_changed_rule_field_reroutes_waiting_work(seed: Seeder, clock: ManualClock) -> None:
    normal = await seed.group()
    vip = await seed.group()
    b = brand()
    await seed.rule(vip, RuleConditions(brands=[b], tags_any=["vip"]))
    case = snapshot(group_id=normal, brand=b)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    assert (await state(seed, case.case_id))[:2] == ("waiting", normal)

    tagged = case.model_copy(update={"version": 2, "tags": ["vip"]})
    await seed.routing.apply_snapshot(tagged, actor="user:x", changed=frozenset({"tags"}))

    assert (await state(seed, case.case_id))[:2] == ("waiting", vip)
    commands = await commands_for(seed.session, case.case_id)
    assert commands[-1][0] == "case.change"
    assert commands[-1][1]["group_id"] == str(vip)


async def test_stale_or_repeated_snapshots_change_nothing(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    agent = await seed.agent(queue, capacity=5)
    case = snapshot(group_id=queue, version=4)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    older = case.model_copy(update={"version": 3, "status": CaseStatus.SOLVED})
    await seed.routing.apply_snapshot(older, actor="system", changed=frozenset({"status"}))
    await seed.routing.apply_snapshot(case, actor="system", created=True)

    assert await state(seed, case.case_id) == ("assigned", queue, agent)
    assert await used(seed, agent) == 1
    assert len(await commands_for(seed.session, case.case_id)) == 1


async def test_round_robin_rotates_through_the_queue(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(model=RoutingModel.ROUND_ROBIN)
    agents = [await seed.agent(queue, capacity=10) for _ in range(3)]
    chosen = []
    for _ in range(6):
        case = snapshot(group_id=queue)
        await seed.routing.apply_snapshot(case, actor="system", created=True)
        chosen.append((await state(seed, case.case_id))[2])
        await clock.advance(1)
    assert sorted(map(str, chosen[:3])) == sorted(map(str, agents))
    assert chosen[3:] == chosen[:3]


async def test_language_rule_only_offers_to_agents_who_speak_it(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    b = brand()
    await seed.rule(queue, RuleConditions(brands=[b], languages=["de"]), require_language=True)
    await seed.agent(queue, capacity=20, languages=["en"])
    speaker = await seed.agent(queue, capacity=2, languages=["de", "en"])
    case = snapshot(brand=b, language="DE")
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    assert await state(seed, case.case_id) == ("assigned", queue, speaker)


async def test_a_case_no_speaker_of_its_language_takes_overflows_after_the_limit_to_anyone(
    seed: Seeder, clock: ManualClock
) -> None:
    anyone = await seed.group()
    korean = await seed.group(overflow_after=300, overflow_to=anyone)
    b = brand()
    await seed.rule(korean, RuleConditions(brands=[b], languages=["ko"]), require_language=True)
    await seed.agent(korean, capacity=20, languages=["en"])
    await seed.agent(korean, capacity=5, languages=["ko"], online=False)  # a speaker, away
    case = snapshot(brand=b, language="ko")
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    assert await state(seed, case.case_id) == ("waiting", korean, None), "Korean speakers first"

    helper = await seed.agent(anyone, capacity=5, languages=["en"])
    await clock.advance(299)
    await seed.routing.fire_due_timers(100)
    assert await state(seed, case.case_id) == ("waiting", korean, None)
    await clock.advance(2)
    await seed.routing.fire_due_timers(100)
    # Past the limit the language is a preference no longer: the overflow queue's agent answers.
    assert await state(seed, case.case_id) == ("assigned", anyone, helper)


async def test_a_speaker_who_comes_online_before_the_limit_gets_the_case(seed: Seeder, clock: ManualClock) -> None:
    anyone = await seed.group()
    korean = await seed.group(overflow_after=300, overflow_to=anyone)
    b = brand()
    await seed.rule(korean, RuleConditions(brands=[b], languages=["ko"]), require_language=True)
    await seed.agent(anyone, capacity=5, languages=["en"])
    speaker = await seed.agent(korean, capacity=5, languages=["ko"], online=False)
    case = snapshot(brand=b, language="ko")
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    await clock.advance(200)
    await seed.presence(speaker, Presence.ONLINE)
    assert await state(seed, case.case_id) == ("assigned", korean, speaker)


async def test_group_moved_by_a_person_is_followed_without_echo(seed: Seeder, clock: ManualClock) -> None:
    first = await seed.group()
    second = await seed.group()
    case = snapshot(group_id=first)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    helper = await seed.agent(second)
    assert await state(seed, case.case_id) == ("waiting", first, None)

    moved = case.model_copy(update={"version": 2, "group_id": second})
    await seed.routing.apply_snapshot(moved, actor="user:lead", changed=frozenset({"group_id"}))

    assert await state(seed, case.case_id) == ("assigned", second, helper)
    assert [kind for kind, _ in await commands_for(seed.session, case.case_id)] == ["case.assign"]


async def test_a_changed_rule_applies_to_the_very_next_case(seed: Seeder, clock: ManualClock) -> None:
    home = await seed.group()
    billing = await seed.group()
    b = brand()
    rule_id = await seed.rule(billing, RuleConditions(brands=[b], keywords=["invoice"]))
    first = snapshot(brand=b, group_id=home, subject="Invoice missing")
    await seed.routing.apply_snapshot(first, actor="system", created=True)
    assert (await state(seed, first.case_id))[1] == billing

    # Same instant, same rule id: only the conditions differ.
    await RuleService(seed.session).update(
        rule_id, RuleUpdate(conditions=RuleConditions(brands=[b], keywords=["refund"]))
    )
    second = snapshot(brand=b, group_id=home, subject="Invoice missing")
    await seed.routing.apply_snapshot(second, actor="system", created=True)
    assert (await state(seed, second.case_id))[1] == home


async def test_a_late_echo_of_our_own_command_does_not_undo_a_later_decision(seed: Seeder, clock: ManualClock) -> None:
    tier3 = await seed.group()
    tier2 = await seed.group(overflow_after=60, overflow_to=tier3)
    tier1 = await seed.group(overflow_after=60, overflow_to=tier2)
    case = snapshot(group_id=tier1)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    await clock.advance(61)
    await seed.routing.fire_due_timers(100)
    await clock.advance(61)
    await seed.routing.fire_due_timers(100)
    assert (await state(seed, case.case_id))[:2] == ("waiting", tier3)
    first_move = (await commands_for(seed.session, case.case_id))[0][1]

    # case-core applies the first move (tier 2) and reports it after routing moved on.
    echo = case.model_copy(update={"version": 2, "group_id": tier2})
    await seed.routing.apply_snapshot(echo, actor=first_move["reason"], changed=frozenset({"group_id"}))

    assert (await state(seed, case.case_id))[:2] == ("waiting", tier3)
    assert first_move["reason"].startswith("routing: overflow")
