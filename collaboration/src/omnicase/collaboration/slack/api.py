"""Routes of /api/v1/collaboration/slack (admins connect the workspace) and /public/slack/events
(Slack's Events API, verified by its signature instead of the gateway's identity)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, status

from omnicase.collaboration.deps import PeersDep, SlackDep, SwarmsDep
from omnicase.collaboration.slack.repository import SlackRepository, SlackUserRecord
from omnicase.collaboration.slack.schemas import SlackConnection, SlackConnectionWrite, SlackUser, SlackUserWrite
from omnicase.collaboration.slack.service import EVENTS_PATH, SlackNotConnected, SlackRequestRefused, slack_author
from omnicase.collaboration.slack.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from omnicase.kit.clock import utcnow
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import (
    NOT_FOUND_CODE,
    BadRequest,
    FieldError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    UnknownReference,
    problem_responses,
    refusal,
)
from omnicase.kit.identity import CurrentIdentity, area_access
from omnicase.kit.pagination import InvalidCursor, LimitQuery, Page, cursor_query, decode_cursor, paginate
from omnicase.kit.peers import PeerUnavailable

router = APIRouter(
    prefix="/api/v1/collaboration/slack", tags=["slack"], dependencies=[Depends(area_access("collaboration"))]
)
public_router = APIRouter(tags=["slack"])


def _admin(identity: CurrentIdentity) -> None:
    if identity.role not in ("admin", "integration"):
        raise Forbidden("Only an admin connects Slack.")


ADMIN = [Depends(_admin)]


@router.put(
    "",
    operation_id="set_slack_connection",
    summary="Connect the Slack workspace (bot token and signing secret are write-only)",
    dependencies=ADMIN,
    responses=problem_responses(Forbidden),
)
async def set_slack_connection(payload: SlackConnectionWrite, slack: SlackDep, session: SessionDep) -> SlackConnection:
    return await slack.put(session, payload)


@router.get(
    "",
    operation_id="get_slack_connection",
    summary="The Slack connection, without its secrets",
    dependencies=ADMIN,
    responses=problem_responses(Forbidden, SlackNotConnected),
)
async def get_slack_connection(slack: SlackDep, session: SessionDep) -> SlackConnection:
    return await slack.get(session)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_slack_connection",
    summary="Disconnect Slack (swarms go on inside Omnicase)",
    dependencies=ADMIN,
    responses=problem_responses(Forbidden, SlackNotConnected),
)
async def delete_slack_connection(slack: SlackDep, session: SessionDep) -> None:
    await slack.delete(session)


SlackUserId = Annotated[str, Path(pattern=r"^[A-Z0-9]{2,40}$", description="The Slack user's id, such as U0123ABCD.")]


class SlackUserNotMapped(NotFound):
    slug, title = "slack-user-not-mapped", "Slack user not mapped"


def _shown_user(record: SlackUserRecord) -> SlackUser:
    return SlackUser(
        slack_user_id=record.slack_user_id, agent_id=record.user_id, name=record.name, mapped_at=record.mapped_at
    )


@router.put(
    "/users/{slack_user_id}",
    operation_id="map_slack_user",
    summary="Say which agent a Slack user is (what they write in a swarm's Slack thread is theirs)",
    dependencies=ADMIN,
    responses=problem_responses(Forbidden, UnknownReference, ServiceUnavailable),
)
async def map_slack_user(
    slack_user_id: SlackUserId, payload: SlackUserWrite, peers: PeersDep, session: SessionDep
) -> SlackUser:
    """The agent must be one routing has (its name is taken from there); a newer mapping, by hand or by
    an invitation's email lookup, replaces this one."""
    try:
        agent = await peers.agent(payload.agent_id)
    except PeerUnavailable as error:
        raise ServiceUnavailable(f"routing cannot say who agent {payload.agent_id} is now: {error}.") from error
    if agent is None:
        raise refusal(
            f"routing has no agent {payload.agent_id}.",
            [FieldError(field="body.agent_id", message="no such agent in routing", code=NOT_FOUND_CODE)],
        )
    name = agent.get("name")
    record = await SlackRepository(session).map_user(
        slack_user_id, payload.agent_id, name if isinstance(name, str) else None, utcnow()
    )
    return _shown_user(record)


@router.get(
    "/users",
    operation_id="list_slack_users",
    summary="The Slack users mapped to agents (by hand or by an invitation's email lookup)",
    dependencies=ADMIN,
    responses=problem_responses(Forbidden, InvalidCursor),
)
async def list_slack_users(
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: Annotated[str | None, cursor_query(str)] = None,
) -> Page[SlackUser]:
    key = decode_cursor(cursor, str)
    rows = await SlackRepository(session).slack_users(None if key is None else key[0], limit)
    return paginate(Page[SlackUser], rows, limit, key=lambda row: [row.slack_user_id], item=_shown_user)


@router.delete(
    "/users/{slack_user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="unmap_slack_user",
    summary="Forget which agent a Slack user is (their Slack messages are slack:<id> again)",
    dependencies=ADMIN,
    responses=problem_responses(Forbidden, SlackUserNotMapped),
)
async def unmap_slack_user(slack_user_id: SlackUserId, session: SessionDep) -> None:
    if not await SlackRepository(session).unmap_user(slack_user_id):
        raise SlackUserNotMapped(f"Slack user {slack_user_id} is mapped to no agent.")


@public_router.post(
    EVENTS_PATH,
    operation_id="receive_slack_event",
    summary="Slack's Events API: a message in a swarm's thread comes back into the swarm",
    description=(
        "Verified with Slack's v0 signature (`X-Slack-Signature`, `X-Slack-Request-Timestamp` within five "
        "minutes); a request received before is refused, a retried event (same `event_id`) is answered "
        "and not applied twice. Answers a `url_verification` with its challenge."
    ),
    responses=problem_responses(SlackRequestRefused, SlackNotConnected, BadRequest),
)
async def receive_slack_event(
    request: Request, slack: SlackDep, swarms: SwarmsDep, session: SessionDep
) -> dict[str, Any]:
    body = await request.body()
    answer, swarm, event = await slack.receive(
        session, body, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER)
    )
    if swarm is not None and event is not None:
        author, author_name = await slack_author(session, event)
        await swarms.add_message(
            session,
            swarm,
            author=author,
            author_name=author_name,
            text=str(event["text"]).strip()[:20_000],
            mentions=[],
            source="slack",
        )
    return answer
