"""``omnicase reporting rebuild``: the read model computed again from the owners' data (the calls too, from
intake-web's call records: each record made back into the ``voice.events`` it was told with).

Why the APIs and not the topics: a topic keeps days, not the desk's history, and the outbox keeps
``OMNICASE_OUTBOX_RETENTION_HOURS``; case-core and sla-engine keep everything, and no service reads
another's tables. Each case's history is turned back into the events that made it (created, each
status change at its time and version, each public agent reply, the rating, the SLA clocks now) and
folded by the same code as the consumer (:class:`~omnicase.reporting.readmodel.service.ReadModelService`),
so a rebuilt row is what the consumer would have made. Dimensions are the case's current ones, as the
metrics use. Surveys sent are not in case-core's API: a rebuilt model knows the surveys that were
rated (from the cases' ratings) and none that went unanswered, so its response rates read high until
new surveys go out; the README says so.

The tables are emptied first and filled page by page (200 cases, each in its own transaction), so the
metrics are partial until it ends; run it when the schema changes or the model is known to be wrong,
with the consumer running: events consumed meanwhile land on rows the rebuild writes again with the
owners' newer state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import text

from omnicase.kit.bus.batch import Received
from omnicase.kit.db import Database
from omnicase.kit.events import (
    CallAnswered,
    CallCallbackRequested,
    CallEnded,
    CallStarted,
    CallVoicemailRecorded,
    CaseCreated,
    CaseMessageAdded,
    CaseSatisfactionRated,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    EventData,
    FieldChange,
    SlaClock,
    SlaMilestonesUpdated,
)
from omnicase.kit.ids import uuid7
from omnicase.reporting.business_hours.service import BusinessHoursService
from omnicase.reporting.calls.service import CallReadModelService
from omnicase.reporting.readmodel.service import ReadModelService
from omnicase.reporting.rebuild.owners import Owners

# Swarms stay (collaboration has no history API to read them again): a case made again takes the
# start of its first swarm from them, and they take its dimensions. Deflections stay too (knowledge
# tells only counts per article), with the dimensions they had.
_EMPTY = text(
    "TRUNCATE reporting.cases, reporting.status_changes, reporting.open_spans, reporting.sla_clocks, "
    "reporting.case_policies, reporting.surveys, reporting.calls"
)
# TRUNCATE fires no statement trigger: the hourly rollups are counted again from what stays (swarms,
# deflections), and the rebuild's writes add the rest as the consumer's do.
_RECOUNT = text("SELECT reporting.recount_rollups()")
SOURCE = "reporting-rebuild"
_STATES = {
    "running": "running",
    "paused": "paused",
    "achieved": "achieved",
    "breached": "running",
    "cancelled": "cancelled",
}


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _received(data: EventData, case_id: uuid.UUID, at: datetime) -> Received[EventData]:
    envelope = data.envelope(source=SOURCE, subject=str(case_id)).model_copy(update={"time": at, "id": uuid7()})
    return Received(envelope, data)


def case_events(
    case: dict[str, Any],
    history: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    sla: dict[str, Any] | None,
    schedule_of: Callable[[str | None], uuid.UUID | None],
) -> list[Received[EventData]]:
    """The events that made ``case`` as it is now, oldest first."""
    case_id = uuid.UUID(case["id"])
    created = _time(case["created_at"])
    snapshot = CaseSnapshot.model_validate(
        {**case, "case_id": case["id"], "status": CaseStatus.NEW, "version": 1, "updated_at": case["created_at"]}
    )
    timeline: list[tuple[datetime, int, Received[EventData]]] = [
        (created, 0, _received(CaseCreated(case=snapshot), case_id, created))
    ]
    status = CaseStatus.NEW
    for entry in history:
        if entry["field"] != "status" or entry["new"] is None:
            continue
        at = _time(entry["at"])
        new = CaseStatus(entry["new"])
        changed = snapshot.model_copy(update={"status": new, "version": max(entry["version"], 2), "updated_at": at})
        updated = CaseUpdated(
            case_id=case_id,
            version=changed.version,
            changes={"status": FieldChange(old=status.value, new=new.value)},
            actor=entry["actor"],
            case=changed,
        )
        timeline.append((at, 1, _received(updated, case_id, at)))
        status = new
    for message in messages:
        if message["direction"] != "outbound" or not message["public"] or message.get("author_role") != "agent":
            continue
        at = _time(message["created_at"])
        reply = CaseMessageAdded(
            case_id=case_id,
            message_id=uuid.UUID(message["id"]),
            direction="outbound",
            public=True,
            author=message["author"],
            author_role="agent",
            channel=message.get("channel") or case["channel"],
        )
        timeline.append((at, 1, _received(reply, case_id, at)))
    rating = case.get("satisfaction")
    if rating and rating.get("rating"):
        at = _time(rating["rated_at"])
        current = snapshot.model_copy(update={"status": status, "version": case["version"], "updated_at": at})
        rated = CaseSatisfactionRated(
            case_id=case_id,
            version=case["version"],
            survey_id=uuid.UUID(rating["survey_id"]),
            rating=rating["rating"],
            reason=rating.get("reason"),
            comment=rating.get("comment"),
            rated_at=at,
            case=current,
        )
        timeline.append((at, 2, _received(rated, case_id, at)))
    if sla is not None and sla.get("milestones"):
        clocks = [
            SlaClock(
                milestone=item["kind"],
                cycle=item["cycle"],
                state=_STATES[item["status"]],
                breached=item["breached"],
                due_at=item["due_at"],
                warn_at=item["warn_at"],
                achieved_at=item["achieved_at"],
            )
            for item in sla["milestones"]
            if item["target_minutes"] is not None
        ]
        policy = sla.get("policy_id")
        clocks_now = SlaMilestonesUpdated(
            case_id=case_id,
            policy_id=uuid.UUID(policy) if policy else None,
            schedule_id=schedule_of(policy),
            clocks=clocks,
        )
        last = max(at for at, _, _ in timeline)
        timeline.append((last, 3, _received(clocks_now, case_id, last)))
    timeline.sort(key=lambda item: (item[0], item[1]))
    return [received for _, _, received in timeline]


# The final statuses a call's end is told with (``CallEndStatus``); any other status is a call not over.
_ENDED = ("completed", "busy", "failed", "no-answer", "canceled")


def call_events(channel: dict[str, Any], call: dict[str, Any]) -> list[Received[EventData]]:
    """The ``voice.events`` intake-web published of a call, made again from its record (what the calls list
    shows) and its channel (the brand): started, answered, ended, the voicemail, the callback asked.

    A voicemail is an inbound call's recording with nobody answering (an answered call's recording is the
    conversation's); its time is the call's end, as the record keeps no other.
    """
    call_id, channel_id = uuid.UUID(call["id"]), uuid.UUID(channel["id"])
    case_id = uuid.UUID(call["case_id"]) if call.get("case_id") else None
    direction = call["direction"]
    started = _time(call["started_at"])
    events: list[tuple[datetime, EventData]] = [
        (
            started,
            CallStarted(
                call_id=call_id,
                call_sid=call["call_sid"],
                channel_id=channel_id,
                direction=direction,
                from_number=call["from_number"],
                to_number=call["to_number"],
                brand=channel.get("brand") or (channel.get("defaults") or {}).get("brand"),
                case_id=case_id,
                started_at=started,
                placed_by=f"user:{call['placed_by']}" if call.get("placed_by") else None,
            ),
        )
    ]
    if call.get("answered_at"):
        answered = _time(call["answered_at"])
        events.append(
            (
                answered,
                CallAnswered(
                    call_id=call_id,
                    channel_id=channel_id,
                    direction=direction,
                    answered_by=f"user:{call['answered_by']}" if call.get("answered_by") else None,
                    case_id=case_id,
                    answered_at=answered,
                    wait_seconds=max(0, int((answered - started).total_seconds())),
                ),
            )
        )
    ended = _time(call["ended_at"]) if call.get("ended_at") else None
    if ended is not None and call["status"] in _ENDED:
        events.append(
            (
                ended,
                CallEnded(
                    call_id=call_id,
                    channel_id=channel_id,
                    direction=direction,
                    status=call["status"],
                    duration_seconds=call.get("duration_seconds"),
                    case_id=case_id,
                    started_at=started,
                    ended_at=ended,
                ),
            )
        )
    voicemail = direction == "inbound" and call.get("recording_url") and not call.get("answered_by")
    if voicemail:
        events.append(
            (
                ended or started,
                CallVoicemailRecorded(
                    call_id=call_id,
                    channel_id=channel_id,
                    from_number=call["from_number"],
                    recording_url=call["recording_url"],
                    case_id=case_id,
                    recorded_at=ended or started,
                ),
            )
        )
    if call.get("callback_requested_at"):
        requested = _time(call["callback_requested_at"])
        events.append(
            (
                requested,
                CallCallbackRequested(
                    call_id=call_id,
                    channel_id=channel_id,
                    via="voicemail" if voicemail else "keypress",
                    case_id=case_id,
                    requested_at=requested,
                ),
            )
        )
    return [
        Received(data.envelope(source=SOURCE, subject=str(call_id)).model_copy(update={"time": at}), data)
        for at, data in events
    ]


async def rebuild(database: Database, owners: Owners, business_hours: BusinessHoursService | None = None) -> int:
    """Empty the read model and fill it again from the owners (cases, then each voice channel's calls);
    returns the number of cases."""
    async with database.unit_of_work() as session:
        await session.execute(_EMPTY)
        await session.execute(_RECOUNT)
    read_model = ReadModelService()
    schedules: dict[str, uuid.UUID | None] = {}
    total = 0
    async for cases in owners.case_pages():
        batch: list[Received[EventData]] = []
        for case in cases:
            sla = await owners.case_sla(case["id"])
            policy_id = sla.get("policy_id") if sla else None
            if policy_id and policy_id not in schedules:
                policy = await owners.policy(policy_id)
                schedule = policy.get("schedule_id") if policy else None
                schedules[policy_id] = uuid.UUID(schedule) if schedule else None
            batch += case_events(
                case,
                await owners.history(case["id"]),
                await owners.public_messages(case["id"]),
                sla,
                lambda policy: schedules.get(policy) if policy else None,
            )
        async with database.unit_of_work() as session:
            await read_model.apply(session, batch)
        total += len(cases)
    calls = CallReadModelService()
    async for channels in owners.voice_channel_pages():
        for channel in channels:
            async for page in owners.call_pages(channel["id"]):
                async with database.unit_of_work() as session:
                    await calls.apply(session, [event for call in page for event in call_events(channel, call)])
    if business_hours is not None:
        while await business_hours.count_once():
            pass
    return total
