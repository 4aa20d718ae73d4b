"""The background worker that resolves pending notifications' recipients from routing.

Each round claims a batch (SKIP LOCKED, leased) in one short transaction, asks routing
with no transaction open, then records each outcome in its own transaction. Any number
of replicas can run it; a replica that dies mid-round only delays its batch.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from omnicase.case_core.directory import StaffDirectory
from omnicase.case_core.notifications.repository import NotificationRepository, NotificationRow
from omnicase.case_core.notifications.service import PRUNE_BATCH, NotificationService, Resolution
from omnicase.case_core.settings import CaseCoreRuntime
from omnicase.kit.app import Stop
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.events import Party
from omnicase.kit.peers import PeerUnavailable
from omnicase.kit.periodic import periodic, stop_all

logger = logging.getLogger(__name__)


async def resolve(directory: StaffDirectory, notification: NotificationRow) -> Resolution:
    kind, target = notification.recipient_kind, notification.recipient_id
    if kind == "email":
        return Resolution((Party(email=notification.recipient_email),))
    if target is None:  # never queued pending so: a trigger without its agent or group records it failed
        return Resolution(error=f"the notification names no {kind}", permanent=True)
    try:
        if kind == "agent":
            agent = await directory.agent(target)
            if agent is None:
                return Resolution(error=f"routing knows no agent {target}", permanent=True)
            if not agent.email:
                return Resolution(error=f"agent {agent.name or target} has no email address in routing", permanent=True)
            return Resolution((Party(email=agent.email, name=agent.name or None),))
        members = await directory.group_members(target)
    except PeerUnavailable as error:
        return Resolution(error=str(error))
    if members is None:
        return Resolution(error=f"routing knows no group {target}", permanent=True)
    parties = tuple(Party(email=m.email, name=m.name or None) for m in members if m.email)
    if not parties:
        return Resolution(error=f"group {target} has no member with an email address", permanent=True)
    return Resolution(parties)


class NotificationDispatcher:
    def __init__(self, database: Database, service: NotificationService, directory: StaffDirectory) -> None:
        self.database = database
        self.service = service
        self.directory = directory

    async def run_once(self) -> int:
        """Resolve every notification due now (one batch); returns how many were tried."""
        settings = self.service.settings
        now = utcnow()
        lease = timedelta(seconds=settings.routing_timeout_seconds * 4 + 30)
        async with self.database.unit_of_work() as session:
            claimed = await NotificationRepository(session).claim_due(
                now=now, lease_until=now + lease, limit=settings.notification_batch_size
            )
        # One after another: a few calls each, and routing is not to be flooded.
        for notification in claimed:
            resolution = await resolve(self.directory, notification)
            async with self.database.unit_of_work() as session:
                await self.service.record(session, notification, resolution)
        return len(claimed)

    async def housekeep(self) -> tuple[int, int]:
        """Time out unreported notifications and prune old ones (until a round deletes less than a batch)."""
        failed = deleted = 0
        while True:
            async with self.database.unit_of_work() as session:
                timed_out, pruned = await self.service.housekeep(session)
            failed, deleted = failed + timed_out, deleted + pruned
            if pruned < PRUNE_BATCH:
                return failed, deleted


def notifications_part(
    service: NotificationService, directory: StaffDirectory
) -> Callable[[CaseCoreRuntime], Awaitable[Stop]]:
    """The app's background part: resolve and hand over notifications from start-up until shutdown."""

    async def start(runtime: CaseCoreRuntime) -> Stop:
        dispatcher = NotificationDispatcher(runtime.database, service, directory)
        settings = service.settings
        return stop_all(
            [
                periodic("notification-housekeeping", settings.notification_housekeeping_seconds, dispatcher.housekeep),
                # A full batch means more may be due: the next round starts at once.
                periodic(
                    "notification-dispatcher",
                    settings.notification_poll_seconds,
                    dispatcher.run_once,
                    busy=lambda tried: tried >= settings.notification_batch_size,
                ),
            ],
            then=directory.aclose,
        )

    return start
