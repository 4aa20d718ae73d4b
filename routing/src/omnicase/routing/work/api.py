"""Queues' waiting work, offers (accept, decline) and each case's routing and decision log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    decode_id_cursor,
    paginate,
)
from omnicase.routing.access import Reader
from omnicase.routing.deps import RoutingDep
from omnicase.routing.errors import CaseNotKnown, GroupNotFound
from omnicase.routing.work.repository import CaseRow, QueueRow
from omnicase.routing.work.schemas import (
    Decision,
    Offer,
    OfferStatus,
    QueuedWork,
    QueueSummary,
    RoutedCase,
    offer_of,
)

queues = APIRouter(prefix="/api/v1/queues", tags=["queues"])
routing_router = APIRouter(prefix="/api/v1/routing", tags=["routing"])


@queues.get(
    "",
    dependencies=[Reader],
    operation_id="list_queues",
    summary="Every queue with its waiting work count and longest wait",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed),
)
async def list_queues(routing: RoutingDep, cursor: CursorQuery = None, limit: LimitQuery = 50) -> Page[QueueSummary]:
    groups = await routing.repo.queues_page(decode_id_cursor(cursor), limit + 1)
    counts = await routing.repo.queue_summaries([group.id for group in groups[:limit]])
    now = utcnow()

    def summary(group: QueueRow) -> QueueSummary:
        waiting, offered, oldest = counts.get(group.id, (0, 0, None))
        return QueueSummary(
            group_id=group.id,
            name=group.name,
            routing_model=group.routing_model.value,
            waiting=waiting,
            offered=offered,
            oldest_queued_at=oldest,
            longest_wait_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )

    return paginate(Page[QueueSummary], groups, limit, key=lambda group: [group.id], item=summary)


@queues.get(
    "/{group_id}/work",
    dependencies=[Reader],
    operation_id="list_queue_work",
    summary="A queue's waiting and offered work, in the order it will be handed out",
    description="Highest priority first, then longest waiting.",
    responses=AUTH_PROBLEMS | problem_responses(GroupNotFound, ValidationFailed),
)
async def list_queue_work(
    group_id: uuid.UUID, routing: RoutingDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[QueuedWork]:
    if await routing.repo.queue(group_id) is None:
        raise GroupNotFound(f"Group {group_id} does not exist.")
    after = decode_cursor(cursor, int, datetime, uuid.UUID)
    rows = await routing.repo.queue_work(group_id, after=after, limit=limit + 1)
    now = utcnow()

    def work(row: CaseRow) -> QueuedWork:
        return QueuedWork(
            case_id=row.case_id,
            number=row.number,
            subject=row.subject,
            channel=row.channel,
            priority=row.priority,
            state="offered" if row.state == "offered" else "waiting",
            offered_to=row.holder_id if row.state == "offered" else None,
            queued_at=row.queued_at or now,
            wait_seconds=max(0.0, (now - (row.queued_at or now)).total_seconds()),
            cost=row.cost,
            required_skills=row.required_skills,
        )

    return paginate(
        Page[QueuedWork], rows, limit, key=lambda row: [row.priority_rank, row.queued_at or now, row.case_id], item=work
    )


@routing_router.get(
    "/cases/{case_id}",
    dependencies=[Reader],
    operation_id="get_case_routing",
    summary="Where routing has put a case",
    responses=AUTH_PROBLEMS | problem_responses(CaseNotKnown),
)
async def get_case(case_id: uuid.UUID, routing: RoutingDep) -> RoutedCase:
    case = await routing.repo.get_case(case_id)
    if case is None:
        raise CaseNotKnown(f"Routing has not seen case {case_id}.")
    return RoutedCase.model_validate(case, from_attributes=True)


@routing_router.get(
    "/cases/{case_id}/decisions",
    dependencies=[Reader],
    operation_id="list_case_decisions",
    summary="Every routing decision about a case, oldest first, with its reasons",
    responses=AUTH_PROBLEMS | problem_responses(CaseNotKnown, ValidationFailed),
)
async def list_decisions(
    case_id: uuid.UUID, routing: RoutingDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[Decision]:
    if await routing.repo.get_case(case_id) is None:
        raise CaseNotKnown(f"Routing has not seen case {case_id}.")
    key = decode_cursor(cursor, int)
    rows = await routing.repo.list_decisions(case_id, after=key[0] if key else None, limit=limit + 1)
    return paginate(Page[Decision], rows, limit, key=lambda row: [row["seq"]], item=Decision.model_validate)


@routing_router.get(
    "/offers",
    dependencies=[Reader],
    operation_id="list_offers",
    summary="Offers, oldest first (an agent console polls its pending ones)",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed),
)
async def list_offers(
    routing: RoutingDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    agent_id: Annotated[uuid.UUID | None, Query(description="Only this agent's offers.")] = None,
    status: Annotated[OfferStatus | None, Query(description="Only offers in this status.")] = None,
) -> Page[Offer]:
    after = decode_id_cursor(cursor)
    rows = await routing.repo.list_offers(agent_id=agent_id, status=status, after=after, limit=limit + 1)
    return paginate(Page[Offer], rows, limit, key=lambda row: [row.id], item=offer_of)
