"""Routes of /api/v1/collaboration/slack (admins connect the workspace) and /public/slack/events
(Slack's Events API, verified by its signature instead of the gateway's identity)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, status

from omnicase.collaboration.deps import SlackDep, SwarmsDep
from omnicase.collaboration.slack.schemas import SlackConnection, SlackConnectionWrite
from omnicase.collaboration.slack.service import EVENTS_PATH, SlackNotConnected, SlackRequestRefused, slack_author
from omnicase.collaboration.slack.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, Forbidden, problem_responses
from omnicase.kit.identity import CurrentIdentity, area_access

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
