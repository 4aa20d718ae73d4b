"""Makes the queued Slack Web API calls, with the kit's backoff between tries.

Each turn claims the due calls (``FOR UPDATE SKIP LOCKED``, so replicas share them), makes each
one and settles it in the same transaction: a call that succeeded is done (the thread's first
message records the thread on its swarm), one that may succeed later is due again after the
backoff (or Slack's ``Retry-After``), one that cannot, or that ran out of attempts, keeps its
error. The HTTP call happens while the row is locked: a first slice's volume (one call per swarm)
makes that cheap, and a crash mid-call leaves the row due, to be tried again. An invitation is
one step of two calls (users.lookupByEmail with the address routing has for the agent, then
conversations.invite into the connection's channel); repeating it is harmless.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.collaboration.experts.peers import Peers
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.collaboration.slack.client import SlackAnswer, SlackClient
from omnicase.collaboration.slack.repository import CallRecord, ConnectionRecord, SlackRepository
from omnicase.collaboration.slack.service import INVITE, SlackService
from omnicase.kit.backoff import backoff_seconds
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.peers import PeerUnavailable

logger = logging.getLogger(__name__)


class SlackWorker:
    def __init__(
        self,
        database: Database,
        settings: CollaborationSettings,
        slack: SlackService,
        client: SlackClient,
        peers: Peers,
    ) -> None:
        self.peers = peers
        self.database = database
        self.settings = settings
        self.slack = slack
        self.client = client

    async def run_once(self) -> int:
        """Make the due calls; how many were claimed (a full batch: more may be due)."""
        async with self.database.unit_of_work() as session:
            repository = SlackRepository(session)
            calls = await repository.claim_due(utcnow(), self.settings.slack_batch_size)
            if not calls:
                return 0
            connection = await repository.connection()
            for call in calls:
                if connection is None:
                    await repository.settle(call.id, {"due_at": None, "last_error": "Slack is not connected"})
                    continue
                answer = await self._make(session, connection, call)
                attempts = call.attempts + 1
                now = utcnow()
                if answer.outcome == "ok":
                    await repository.settle(
                        call.id, {"attempts": attempts, "due_at": None, "done_at": now, "last_error": None}
                    )
                    await self._succeeded(session, call, answer.result)
                elif answer.outcome == "retry" and attempts < self.settings.slack_max_attempts:
                    wait = answer.retry_after or backoff_seconds(
                        attempts, base=self.settings.slack_retry_base_seconds, cap=self.settings.slack_retry_max_seconds
                    )
                    await repository.settle(
                        call.id,
                        {"attempts": attempts, "due_at": now + timedelta(seconds=wait), "last_error": answer.error},
                    )
                else:
                    logger.warning(
                        "slack call failed",
                        extra={"method": call.method, "swarm_id": str(call.swarm_id), "error": answer.error},
                    )
                    await repository.settle(call.id, {"attempts": attempts, "due_at": None, "last_error": answer.error})
            return len(calls)

    async def _make(self, session: AsyncSession, connection: ConnectionRecord, call: CallRecord) -> SlackAnswer:
        token = self.slack.bot_token(connection)
        if call.method != INVITE:
            return await self.client.call(connection.api_url, token, call.method, call.payload)
        user_id = uuid.UUID(call.payload["user_id"])
        try:
            contact = await self.peers.agent_contact(user_id)
        except PeerUnavailable as error:
            return SlackAnswer("retry", error=str(error))
        if contact is None:
            return SlackAnswer("failed", error="routing has no email address for the agent")
        found = await self.client.call(
            connection.api_url, token, "users.lookupByEmail", {"email": contact.email}, form=True
        )
        if found.outcome != "ok":
            return found
        user = found.result.get("user")
        slack_user = user.get("id") if isinstance(user, dict) else None
        if not isinstance(slack_user, str):
            return SlackAnswer("failed", error="users.lookupByEmail answered no user id")
        # What this Slack user writes in a swarm's thread is the agent's from now on.
        await SlackRepository(session).map_user(slack_user, user_id, contact.name, utcnow())
        invited = await self.client.call(
            connection.api_url, token, "conversations.invite", {"channel": connection.channel_id, "users": slack_user}
        )
        # Someone already in the channel is where the invitation would have put them.
        return SlackAnswer("ok") if invited.error == "already_in_channel" else invited

    async def _succeeded(self, session: AsyncSession, call: CallRecord, result: dict[str, object]) -> None:
        if call.method == "chat.postMessage" and "thread_ts" not in call.payload:
            channel, ts = result.get("channel"), result.get("ts")
            if isinstance(channel, str) and isinstance(ts, str):
                await self.slack.thread_opened(session, call.swarm_id, channel, ts)
