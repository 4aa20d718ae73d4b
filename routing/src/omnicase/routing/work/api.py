"""Queues' waiting work, offers (accept, decline) and each case's routing and decision log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import (
    CursorQuery,
    Int16,
    LimitQuery,
    Page,
    cursor_query,
)
from omnicase.routing.access import Reader
from omnicase.routing.deps import RoutingDep
from omnicase.routing.errors import CaseNotKnown, GroupNotFound
from omnicase.routing.work.schemas import (
    Decision,
    Offer,
    OfferStatus,
    QueuedWork,
    QueueSummary,
    RoutedCase,
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
    return await routing.queues(cursor, limit)


@queues.get(
    "/{group_id}/work",
    dependencies=[Reader],
    operation_id="list_queue_work",
    summary="A queue's waiting and offered work, in the order it will be handed out",
    description="Highest priority first, then longest waiting.",
    responses=AUTH_PROBLEMS | problem_responses(GroupNotFound, ValidationFailed),
)
async def list_queue_work(
    group_id: uuid.UUID,
    routing: RoutingDep,
    cursor: Annotated[str | None, cursor_query(Int16, datetime, uuid.UUID)] = None,
    limit: LimitQuery = 50,
) -> Page[QueuedWork]:
    return await routing.queue_work(group_id, cursor, limit)


@routing_router.get(
    "/cases/{case_id}",
    dependencies=[Reader],
    operation_id="get_case_routing",
    summary="Where routing has put a case",
    responses=AUTH_PROBLEMS | problem_responses(CaseNotKnown),
)
async def get_case(case_id: uuid.UUID, routing: RoutingDep) -> RoutedCase:
    return await routing.routed_case(case_id)


@routing_router.get(
    "/cases/{case_id}/decisions",
    dependencies=[Reader],
    operation_id="list_case_decisions",
    summary="Every routing decision about a case, oldest first, with its reasons",
    responses=AUTH_PROBLEMS | problem_responses(CaseNotKnown, ValidationFailed),
)
async def list_decisions(
    case_id: uuid.UUID,
    routing: RoutingDep,
    cursor: Annotated[str | None, cursor_query(int)] = None,
    limit: LimitQuery = 50,
) -> Page[Decision]:
    return await routing.decisions(case_id, cursor, limit)


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
    return await routing.offers(cursor, limit, agent_id=agent_id, status=status)
