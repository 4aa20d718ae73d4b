"""Mailbox webhook secrets at rest: sealed by the kit's master keys, never shown after they are set.

A mailbox's ``webhook_secret`` (the inbound-parse signing key) is stored as a sealed token
(:mod:`omnicase.kit.sealing`) bound to its row, so a database dump reveals nothing; the API
only says whether one is set. Secrets stored before sealing still verify, and the reseal
pass (hourly, and at start) seals them and re-wraps tokens under an old master key.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.models import mailboxes
from omnicase.kit.periodic import periodic
from omnicase.kit.sealing import Sealer

if TYPE_CHECKING:
    from omnicase.intake_email.state import IntakeEmailRuntime

RESEAL_BATCH = 200
RESEAL_EVERY_SECONDS = 3600.0


def _context(mailbox_id: uuid.UUID) -> str:
    return f"intake_email.mailboxes.webhook_secret:{mailbox_id}"


class MailboxSecrets:
    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer

    def seal(self, secret: str | None, mailbox_id: uuid.UUID) -> str | None:
        return None if secret is None else self.sealer.seal(secret, _context(mailbox_id))

    def open(self, stored: str | None, mailbox_id: uuid.UUID) -> str | None:
        """The plain secret (one stored before sealing is used as it is until the reseal pass)."""
        return None if stored is None else self.sealer.open_stored(stored, _context(mailbox_id))

    async def reseal(self, session: AsyncSession) -> int:
        """Seal plain secrets and re-wrap those under an old master key, a batch at a time; how many changed."""
        statement = (
            select(mailboxes.c.id, mailboxes.c.webhook_secret)
            .where(mailboxes.c.webhook_secret.not_like(f"omnicase:v1:{self.sealer.current}:%"))
            .limit(RESEAL_BATCH)
            .with_for_update(skip_locked=True)
        )
        rows = (await session.execute(statement)).all()
        for row in rows:
            sealed = self.sealer.reseal(row.webhook_secret, _context(row.id))
            await session.execute(update(mailboxes).where(mailboxes.c.id == row.id).values(webhook_secret=sealed))
        return len(rows)


async def start_secret_reseal(runtime: IntakeEmailRuntime) -> Callable[[], Awaitable[None]]:
    """Background starter: the reseal pass at start, then hourly (a full batch runs the next at once)."""
    secrets = runtime.state.mailbox_secrets

    async def reseal_once() -> int:
        async with runtime.database.unit_of_work() as session:
            return await secrets.reseal(session)

    return periodic("intake-email-secret-reseal", RESEAL_EVERY_SECONDS, reseal_once, busy=bool).stop
