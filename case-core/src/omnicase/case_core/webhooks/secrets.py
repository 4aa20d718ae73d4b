"""Webhook signing secrets at rest: sealed by the kit's master keys, shown to an admin once.

A subscription's ``secret`` and ``previous_secret`` columns hold sealed tokens
(:mod:`omnicase.kit.sealing`), each bound to its row and column, so a database dump, a
backup or a token copied to another row reveals nothing. The plain secret is in the answer
to the create and rotate calls only; the dispatcher opens the tokens just to sign.

Rows written before sealing (plain ``whsec_…``) still sign, and :meth:`SecretVault.reseal`
(a background pass, hourly and at start) seals them; the same pass re-wraps tokens sealed
under a master key that is no longer current, so a key rotation needs no downtime.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Literal

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.webhooks.models import webhook_subscriptions as subscriptions
from omnicase.case_core.webhooks.repository import DueDeliveryRow
from omnicase.kit.sealing import Sealer

Column = Literal["secret", "previous_secret"]
RESEAL_BATCH = 200


def _context(subscription_id: uuid.UUID, column: Column) -> str:
    return f"case_core.webhook_subscriptions.{column}:{subscription_id}"


class SecretVault:
    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer

    def seal(self, secret: str, subscription_id: uuid.UUID, column: Column = "secret") -> str:
        return self.sealer.seal(secret, _context(subscription_id, column))

    def open(self, stored: str, subscription_id: uuid.UUID, column: Column = "secret") -> str:
        """The plain secret (a row from before sealing holds it as it is until the reseal pass)."""
        return self.sealer.open_stored(stored, _context(subscription_id, column))

    def signing(self, delivery: DueDeliveryRow) -> DueDeliveryRow:
        """A claimed delivery with its subscription's secrets opened, for signing it."""
        subscription_id = delivery.subscription_id
        previous = delivery.previous_secret
        return dataclasses.replace(
            delivery,
            secret=self.open(delivery.secret, subscription_id),
            previous_secret=self.open(previous, subscription_id, "previous_secret") if previous else None,
        )

    async def reseal(self, session: AsyncSession) -> int:
        """Seal plain secrets and re-wrap those under an old master key, a batch at a time; how many changed."""
        current = f"omnicase:v1:{self.sealer.current}:%"
        stale = or_(
            subscriptions.c.secret.not_like(current),
            (subscriptions.c.previous_secret.is_not(None)) & subscriptions.c.previous_secret.not_like(current),
        )
        statement = (
            select(subscriptions.c.id, subscriptions.c.secret, subscriptions.c.previous_secret)
            .where(stale)
            .limit(RESEAL_BATCH)
            .with_for_update(skip_locked=True)
        )
        rows = (await session.execute(statement)).all()
        for row in rows:
            values = {"secret": self.sealer.reseal(row.secret, _context(row.id, "secret"))}
            if row.previous_secret:
                values["previous_secret"] = self.sealer.reseal(row.previous_secret, _context(row.id, "previous_secret"))
            await session.execute(update(subscriptions).where(subscriptions.c.id == row.id).values(**values))
        return len(rows)
