"""``/api/v1/agents``: agents, their skills, queues, presence and current load."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from omnicase.kit.errors import UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, decode_id_cursor, paginate
from omnicase.routing.access import Admin, AgentOrAdmin, Reader
from omnicase.routing.agents.schemas import (
    Agent,
    AgentCreate,
    AgentLoad,
    AgentUpdate,
    PresenceUpdate,
    VoiceStatusUpdate,
)
from omnicase.routing.agents.service import AgentService
from omnicase.routing.deps import RoutingDep
from omnicase.routing.engine import Presence, VoiceStatus
from omnicase.routing.errors import AgentExists, AgentNotFound, OfferNotFound, OfferNotPending, StillInUse
from omnicase.routing.work.schemas import Offer, OfferDecline, OfferStatus, offer_of

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])


@router.post(
    "",
    dependencies=[Admin],
    status_code=201,
    operation_id="create_agent",
    summary="Make a user a routing agent",
    description="A new agent starts offline; set their presence to `online` to start receiving work.",
    responses=AUTH_PROBLEMS | problem_responses(AgentExists, ValidationFailed, UnknownReference),
)
async def create_agent(payload: AgentCreate, routing: RoutingDep) -> Agent:
    return await AgentService(routing).create(payload)


@router.get(
    "",
    dependencies=[Reader],
    operation_id="list_agents",
    summary="List agents",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed),
)
async def list_agents(
    routing: RoutingDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    presence: Annotated[Presence | None, Query(description="Only agents with this presence.")] = None,
    voice: Annotated[VoiceStatus | None, Query(description="Only agents with this voice status.")] = None,
    group_id: Annotated[uuid.UUID | None, Query(description="Only members of this queue.")] = None,
    skill_id: Annotated[uuid.UUID | None, Query(description="Only agents holding this skill.")] = None,
) -> Page[Agent]:
    items = await AgentService(routing).page(
        decode_id_cursor(cursor), limit + 1, presence=presence, voice=voice, group_id=group_id, skill_id=skill_id
    )
    return paginate(Page[Agent], items, limit, key=lambda agent: [agent.user_id])


@router.get(
    "/{user_id}",
    dependencies=[Reader],
    operation_id="get_agent",
    summary="Get an agent",
    responses=AUTH_PROBLEMS | problem_responses(AgentNotFound),
)
async def get_agent(user_id: uuid.UUID, routing: RoutingDep) -> Agent:
    return await AgentService(routing).get(user_id)


@router.patch(
    "/{user_id}",
    dependencies=[Admin],
    operation_id="update_agent",
    summary="Change an agent's name, languages, capacity, skills or queues",
    description="Fields left out stay as they are; `skills` and `group_ids` replace the whole list. "
    "More capacity, skills or queues push fitting waiting work to the agent at once.",
    responses=AUTH_PROBLEMS | problem_responses(AgentNotFound, ValidationFailed, UnknownReference),
)
async def update_agent(user_id: uuid.UUID, payload: AgentUpdate, routing: RoutingDep) -> Agent:
    return await AgentService(routing).update(user_id, payload)


@router.delete(
    "/{user_id}",
    dependencies=[Admin],
    status_code=204,
    operation_id="delete_agent",
    summary="Remove an agent (refused while they hold cases)",
    responses=AUTH_PROBLEMS | problem_responses(AgentNotFound, StillInUse),
)
async def delete_agent(user_id: uuid.UUID, routing: RoutingDep) -> Response:
    await AgentService(routing).delete(user_id)
    return Response(status_code=204)


@router.put(
    "/{user_id}/presence",
    dependencies=[AgentOrAdmin],
    operation_id="set_agent_presence",
    summary="Set an agent's presence",
    description="`online`: waiting work that fits is pushed at once. `away`: no new work; pending offers stay. "
    "`offline`: no new work and pending offers go back to their queues.",
    responses=AUTH_PROBLEMS | problem_responses(AgentNotFound),
)
async def set_presence(user_id: uuid.UUID, payload: PresenceUpdate, routing: RoutingDep) -> Agent:
    return await AgentService(routing).set_presence(user_id, payload)


@router.put(
    "/{user_id}/voice",
    dependencies=[AgentOrAdmin],
    operation_id="set_agent_voice_status",
    summary="Say whether an agent takes calls",
    description="`available`: a call's case may be offered to the agent (with presence `online` and room), and "
    "waiting calls that fit are pushed at once; `offline`: no calls (other work still comes). Routing sets `busy` "
    "itself when the agent answers or places a call, and, when it ends and the agent's `voice_wrap_up_seconds` "
    "are over, sets back what the agent last said; setting a status ends a call or wrap-up routing still "
    "counted. Each change is told as `agent.voice_status_changed` on the live stream.",
    responses=AUTH_PROBLEMS | problem_responses(AgentNotFound, ValidationFailed),
)
async def set_voice_status(user_id: uuid.UUID, payload: VoiceStatusUpdate, routing: RoutingDep) -> Agent:
    return await AgentService(routing).set_voice_status(user_id, payload)


@router.get(
    "/{user_id}/load",
    dependencies=[Reader],
    operation_id="get_agent_load",
    summary="An agent's current load: capacity used and the cases holding it",
    responses=AUTH_PROBLEMS | problem_responses(AgentNotFound),
)
async def get_load(user_id: uuid.UUID, routing: RoutingDep) -> AgentLoad:
    return await AgentService(routing).load(user_id)


@router.get(
    "/{user_id}/offers",
    dependencies=[Reader],
    operation_id="list_agent_offers",
    summary="An agent's offers, oldest first (a console polls the pending ones)",
    responses=AUTH_PROBLEMS | problem_responses(AgentNotFound, ValidationFailed),
)
async def list_agent_offers(
    user_id: uuid.UUID,
    routing: RoutingDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    status: Annotated[OfferStatus | None, Query(description="Only offers in this status.")] = None,
) -> Page[Offer]:
    await AgentService(routing).get(user_id)
    return await routing.offers(cursor, limit, agent_id=user_id, status=status)


@router.post(
    "/{user_id}/offers/{offer_id}/accept",
    dependencies=[AgentOrAdmin],
    operation_id="accept_offer",
    summary="Accept an offer: the case is assigned to the agent",
    responses=AUTH_PROBLEMS | problem_responses(OfferNotFound, OfferNotPending),
)
async def accept_offer(user_id: uuid.UUID, offer_id: uuid.UUID, routing: RoutingDep) -> Offer:
    return offer_of(await routing.accept(offer_id, agent_id=user_id))


@router.post(
    "/{user_id}/offers/{offer_id}/decline",
    dependencies=[AgentOrAdmin],
    operation_id="decline_offer",
    summary="Decline an offer: the case goes to the next agent",
    responses=AUTH_PROBLEMS | problem_responses(OfferNotFound, OfferNotPending, ValidationFailed),
)
async def decline_offer(
    user_id: uuid.UUID, offer_id: uuid.UUID, routing: RoutingDep, payload: OfferDecline | None = None
) -> Offer:
    reason = payload.reason if payload is not None else "declined"
    return offer_of(await routing.decline(offer_id, reason, agent_id=user_id))
