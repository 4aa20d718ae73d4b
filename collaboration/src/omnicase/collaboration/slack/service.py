"""The Slack integration: the workspace connection, a swarm's thread opened with the case's summary,
and messages posted in that thread brought back into the swarm through the Events API.

Without a connection swarms work entirely inside Omnicase; nothing here is called then.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.collaboration.cases.desk import CaseView
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.collaboration.slack.blocks import case_summary, mirrored
from omnicase.collaboration.slack.repository import ConnectionRecord, SlackRepository
from omnicase.collaboration.slack.schemas import SlackConnection, SlackConnectionWrite
from omnicase.collaboration.slack.signature import WINDOW_SECONDS, BadSignature, verify
from omnicase.collaboration.swarms.repository import SwarmRecord, SwarmRepository
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import BadRequest, NotFound, Unauthorized
from omnicase.kit.ids import uuid7
from omnicase.kit.sealing import Sealer

EVENTS_PATH = "/public/slack/events"
# A queued step of two Web API calls: users.lookupByEmail, then conversations.invite.
INVITE = "invite"


class SlackNotConnected(NotFound):
    slug, title = "slack-not-connected", "Slack is not connected"


class SlackRequestRefused(Unauthorized):
    slug, title = "slack-request-refused", "Not a request from Slack"


def _context(column: str) -> str:
    return f"collaboration.slack_connections.{column}:default"


class SlackService:
    def __init__(self, settings: CollaborationSettings, sealer: Sealer) -> None:
        self.settings = settings
        self.sealer = sealer

    # -- the connection (admins) -----------------------------------------------------------

    async def put(self, session: AsyncSession, payload: SlackConnectionWrite) -> SlackConnection:
        now = utcnow()
        record = await SlackRepository(session).put_connection(
            {
                "team_id": payload.team_id,
                "channel_id": payload.channel_id,
                "api_url": payload.api_url,
                "bot_token": self.sealer.seal(payload.bot_token, _context("bot_token")),
                "signing_secret": self.sealer.seal(payload.signing_secret, _context("signing_secret")),
                "created_at": now,
                "updated_at": now,
            }
        )
        return _shown(record)

    async def get(self, session: AsyncSession) -> SlackConnection:
        return _shown(await self._connection(session))

    async def delete(self, session: AsyncSession) -> None:
        if not await SlackRepository(session).delete_connection():
            raise SlackNotConnected("Slack is not connected.")

    def bot_token(self, connection: ConnectionRecord) -> str:
        return self.sealer.open(connection.bot_token, _context("bot_token"))

    # -- a swarm's thread ----------------------------------------------------------------------

    async def connected(self, session: AsyncSession) -> bool:
        return await SlackRepository(session).connection() is not None

    async def swarm_started(
        self, session: AsyncSession, swarm: SwarmRecord, case: CaseView, sla_due: datetime | None
    ) -> None:
        """With Slack connected, the thread's first message (the case's summary) is queued for the worker."""
        connection = await SlackRepository(session).connection()
        if connection is None:
            return
        case_url = f"{self.settings.console_url.rstrip('/')}/cases/{case.id}"
        payload = {"channel": connection.channel_id, **case_summary(case, swarm, case_url, sla_due)}
        await SlackRepository(session).add_call(
            {
                "id": uuid7(),
                "swarm_id": swarm.id,
                "method": "chat.postMessage",
                "payload": payload,
                "due_at": utcnow(),
                "created_at": utcnow(),
            }
        )

    async def member_joined(self, session: AsyncSession, swarm: SwarmRecord, member: str) -> None:
        """With Slack connected, an agent who joins is invited into the channel of the swarm's thread
        (found in Slack by the email routing has for them)."""
        kind, _, user_id = member.partition(":")
        if kind != "user" or await SlackRepository(session).connection() is None:
            return
        await SlackRepository(session).add_call(
            {
                "id": uuid7(),
                "swarm_id": swarm.id,
                "method": INVITE,
                "payload": {"user_id": user_id},
                "due_at": utcnow(),
                "created_at": utcnow(),
            }
        )

    async def message_posted(self, session: AsyncSession, swarm: SwarmRecord, author: str, text: str) -> None:
        """A message posted in Omnicase is mirrored into the swarm's open Slack thread (by the bot, named);
        before the thread opens, :meth:`thread_opened` mirrors it."""
        if swarm.slack_channel is None or swarm.slack_thread_ts is None:
            return
        if await SlackRepository(session).connection() is None:
            return
        await self._mirror(session, swarm.id, swarm.slack_channel, swarm.slack_thread_ts, author, text)

    async def thread_opened(self, session: AsyncSession, swarm_id: uuid.UUID, channel: str, thread_ts: str) -> None:
        """The swarm's thread is open: it is recorded on the swarm, and the messages posted in Omnicase
        before (while its first message was on its way) are mirrored into it, oldest first. The swarm's
        row is locked by the update, as a post locks it: a message is mirrored here or when posted, once."""
        swarms = SwarmRepository(session)
        await swarms.set_slack_thread(swarm_id, channel, thread_ts)
        for message in await swarms.messages_from(swarm_id, "omnicase"):
            author = message.author_name or message.author
            await self._mirror(session, swarm_id, channel, thread_ts, author, message.text)

    async def _mirror(
        self, session: AsyncSession, swarm_id: uuid.UUID, channel: str, thread_ts: str, author: str, text: str
    ) -> None:
        await SlackRepository(session).add_call(
            {
                "id": uuid7(),
                "swarm_id": swarm_id,
                "method": "chat.postMessage",
                "payload": mirrored(channel, thread_ts, author, text),
                "due_at": utcnow(),
                "created_at": utcnow(),
            }
        )

    # -- the Events API --------------------------------------------------------------------------

    async def receive(
        self, session: AsyncSession, body: bytes, timestamp: str | None, signature: str | None
    ) -> tuple[dict[str, Any], SwarmRecord | None, dict[str, Any] | None]:
        """Verify a request of Slack's Events API; answer, and the swarm and Slack message it brings, if any.

        Refused (401): a bad or missing signature, a timestamp outside ±5 minutes, a request already
        taken (the same signature again). A retry of an event already taken (same ``event_id``, Slack
        retries with a new timestamp) is answered 200 and not applied twice.
        """
        connection = await self._connection(session)
        now = utcnow()
        secret = self.sealer.open(connection.signing_secret, _context("signing_secret"))
        try:
            verify(secret, timestamp, signature, body, now)
        except BadSignature as error:
            raise SlackRequestRefused(f"Refused: {error}.") from error
        repository = SlackRepository(session)
        await repository.forget_seen_before(now - timedelta(seconds=2 * WINDOW_SECONDS))
        if not await repository.first_sight(f"signature:{signature}", now):
            raise SlackRequestRefused("Refused: this request was received already (a replay).")
        try:
            request = json.loads(body)
        except ValueError:
            raise BadRequest("The body is not JSON.") from None
        if not isinstance(request, dict):
            raise BadRequest("The body is not a JSON object.")
        if request.get("type") == "url_verification":
            return {"challenge": str(request.get("challenge", ""))}, None, None
        if request.get("type") != "event_callback" or request.get("team_id") != connection.team_id:
            return {"ok": True}, None, None
        event_id = str(request.get("event_id") or "")
        if not event_id or not await repository.first_sight(f"event:{event_id}", now):
            return {"ok": True}, None, None  # a retry of an event already taken
        event = request.get("event")
        if not isinstance(event, dict) or event.get("type") != "message" or event.get("subtype") or event.get("bot_id"):
            return {"ok": True}, None, None  # edits, joins and our own bot's posts stay in Slack
        channel, thread_ts, text = event.get("channel"), event.get("thread_ts"), event.get("text")
        if not (isinstance(channel, str) and isinstance(thread_ts, str) and isinstance(text, str) and text.strip()):
            return {"ok": True}, None, None
        swarm = await SwarmRepository(session).in_slack_thread(channel, thread_ts)
        if swarm is None or swarm.status != "open":
            return {"ok": True}, None, None
        return {"ok": True}, swarm, event

    async def _connection(self, session: AsyncSession) -> ConnectionRecord:
        connection = await SlackRepository(session).connection()
        if connection is None:
            raise SlackNotConnected("Slack is not connected.")
        return connection


def _shown(record: ConnectionRecord) -> SlackConnection:
    return SlackConnection(
        team_id=record.team_id,
        channel_id=record.channel_id,
        api_url=record.api_url,
        bot_token_set=True,
        signing_secret_set=True,
        events_url_path=EVENTS_PATH,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


async def slack_author(session: AsyncSession, event: dict[str, Any]) -> tuple[str, str | None]:
    """Who wrote a Slack message, and their name: the agent the Slack user is mapped to (``user:<id>``),
    else ``slack:<Slack user id>``."""
    slack_user = str(event.get("user") or "unknown")
    mapped = await SlackRepository(session).slack_user(slack_user)
    return (f"user:{mapped.user_id}", mapped.name) if mapped else (f"slack:{slack_user}", None)
