"""Handler of ``case.events`` and ``sla.events``: keeps collaboration's projection of the cases (who
owns one, whether it is solved, its text, its next SLA due time), never writing a case (case-core is
its one writer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.collaboration.cases.repository import CaseRepository
from omnicase.kit.bus.batch import Batch, event_types
from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseUpdated,
    SlaClocksStarted,
    SlaMilestonesUpdated,
)

CONSUMER_GROUP = "collaboration"
ACCEPTS = event_types(CaseCreated, CaseUpdated, CaseMessageAdded, SlaClocksStarted, SlaMilestonesUpdated)


async def handle_case_events(session: AsyncSession, batch: Batch) -> None:
    newest: dict[Any, dict[str, Any]] = {}
    due: dict[Any, dict[str, Any]] = {}
    for received in batch:
        match received.data:
            case CaseCreated() as created:
                _keep(newest, _row(created.case, created.description))
            case CaseUpdated(case=snapshot) | CaseMessageAdded(case=snapshot) if snapshot is not None:
                _keep(newest, _row(snapshot, ""))
            case (
                SlaClocksStarted(case_id=case_id, clocks=clocks) | SlaMilestonesUpdated(case_id=case_id, clocks=clocks)
            ):
                # sla.events is keyed by case: a later event of the batch is the newer one.
                running = [clock.due_at for clock in clocks if clock.state == "running" and clock.due_at is not None]
                due[case_id] = {"case_id": case_id, "due_at": min(running, default=None), "updated_at": utcnow()}
    await CaseRepository(session).upsert(list(newest.values()))
    await CaseRepository(session).set_sla_due(list(due.values()))


def _keep(newest: dict[Any, dict[str, Any]], row: dict[str, Any]) -> None:
    # One row per case in the statement (ON CONFLICT cannot touch a row twice): its newest version,
    # with the first message's text when the batch holds the case's creation.
    current = newest.get(row["id"])
    if current is None:
        newest[row["id"]] = row
    elif row["version"] > current["version"]:
        newest[row["id"]] = {**row, "description": row["description"] or current["description"]}
    elif row["description"] and not current["description"]:
        current["description"] = row["description"]


def _row(case: CaseSnapshot, description: str) -> dict[str, Any]:
    solved = case.status in ("solved", "closed")
    return {
        "id": case.case_id,
        "number": case.number,
        "subject": case.subject[:1000],
        "description": description,
        "status": case.status.value,
        "priority": case.priority.value,
        "assignee_id": case.assignee_id,
        "group_id": case.group_id,
        "requester_id": case.requester_id,
        "brand": case.brand,
        "language": case.language,
        "version": case.version,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        # A case first seen already solved: solved when last changed, by its assignee.
        "solved_at": case.updated_at if solved else None,
        "solved_by": case.assignee_id if solved else None,
    }
