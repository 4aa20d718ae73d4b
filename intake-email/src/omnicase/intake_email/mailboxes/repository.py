"""Every query of the mailboxes domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from omnicase.intake_email.mailboxes.schemas import Mailbox, MailboxDefaults, MailboxVerification
from omnicase.intake_email.models import config_version, mailboxes, outbound_messages, raw_messages
from omnicase.kit.config_version import read_config_version
from omnicase.kit.inputs import email_key
from omnicase.kit.repository import Repository


def _to_mailbox(row: Row[Any]) -> Mailbox:
    return Mailbox(
        id=row.id,
        address=row.address,
        display_name=row.display_name,
        brand=row.brand,
        defaults=MailboxDefaults(
            priority=row.priority, group_id=row.group_id, tags=list(row.tags or []), type=row.case_type
        ),
        auto_response=row.auto_response,
        suggest_articles=row.suggest_articles,
        signature=row.signature,
        logo_url=row.logo_url,
        webhook_secret_set=row.webhook_secret is not None,
        verification=MailboxVerification(
            status="verified" if row.verified_at else "pending" if row.verification_token else "unverified",
            requested_at=row.verification_requested_at,
            verified_at=row.verified_at,
            route=row.verified_route,
            received_from=row.verified_from,
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class MailboxRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> Mailbox | None:
        """Insert; None when the address is taken."""
        row = (
            await self.session.execute(
                insert(mailboxes)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["address"])
                .returning(mailboxes)
            )
        ).first()
        return None if row is None else _to_mailbox(row)

    async def get(self, mailbox_id: uuid.UUID) -> Mailbox | None:
        row = (await self.session.execute(select(mailboxes).where(mailboxes.c.id == mailbox_id))).first()
        return None if row is None else _to_mailbox(row)

    async def by_address(self, address: str) -> Mailbox | None:
        row = (await self.session.execute(select(mailboxes).where(mailboxes.c.address == email_key(address)))).first()
        return None if row is None else _to_mailbox(row)

    async def by_addresses(self, addresses: Sequence[str]) -> dict[str, Mailbox]:
        lowered = sorted({email_key(address) for address in addresses})
        if not lowered:
            return {}
        rows = (await self.session.execute(select(mailboxes).where(mailboxes.c.address.in_(lowered)))).all()
        return {row.address: _to_mailbox(row) for row in rows}

    async def all(self) -> list[Mailbox]:
        return [_to_mailbox(row) for row in (await self.session.execute(select(mailboxes))).all()]

    async def generation(self) -> int:
        """The configuration version: it moves with every change of the table, in any process."""
        return await read_config_version(self.session, config_version)

    async def webhook_secret(self, mailbox_id: uuid.UUID) -> str | None:
        secret: str | None = await self.session.scalar(
            select(mailboxes.c.webhook_secret).where(mailboxes.c.id == mailbox_id)
        )
        return secret

    async def is_own_address(self, address: str) -> bool:
        found = await self.session.scalar(select(func.count()).where(mailboxes.c.address == email_key(address)))
        return bool(found)

    async def oldest(self, *, brand: str | None = None) -> Mailbox | None:
        """The first mailbox made (of ``brand``, when given)."""
        query = select(mailboxes).order_by(mailboxes.c.created_at).limit(1)
        if brand is not None:
            query = query.where(mailboxes.c.brand == brand)
        row = (await self.session.execute(query)).first()
        return None if row is None else _to_mailbox(row)

    async def start_verification(self, mailbox_id: uuid.UUID, token: str, now: datetime) -> None:
        await self.session.execute(
            update(mailboxes)
            .where(mailboxes.c.id == mailbox_id)
            .values(verification_token=token, verification_requested_at=now)
        )

    async def complete_verification(
        self, mailbox_id: uuid.UUID, token: str, *, route: str, received_from: str | None, now: datetime
    ) -> bool:
        """Mark verified when ``token`` is the mailbox's outstanding one; False otherwise."""
        result = await self.session.execute(
            update(mailboxes)
            .where(mailboxes.c.id == mailbox_id, mailboxes.c.verification_token == token)
            .values(
                verification_token=None,
                verified_at=now,
                verified_route=route,
                verified_from=received_from,
                updated_at=now,
            )
            .returning(mailboxes.c.id)
        )
        return result.first() is not None

    async def page(self, *, after: uuid.UUID | None, limit: int) -> list[Mailbox]:
        query = select(mailboxes).order_by(mailboxes.c.id).limit(limit)
        if after is not None:
            query = query.where(mailboxes.c.id > after)
        return [_to_mailbox(row) for row in (await self.session.execute(query)).all()]

    async def update(self, mailbox_id: uuid.UUID, values: dict[str, Any]) -> Mailbox | None:
        row = (
            await self.session.execute(
                update(mailboxes).where(mailboxes.c.id == mailbox_id).values(**values).returning(mailboxes)
            )
        ).first()
        return None if row is None else _to_mailbox(row)

    async def address_taken(self, address: str, *, other_than: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(func.count()).where(mailboxes.c.address == address, mailboxes.c.id != other_than)
        )
        return bool(found)

    async def delete(self, mailbox_id: uuid.UUID) -> bool:
        result = await self.session.execute(mailboxes.delete().where(mailboxes.c.id == mailbox_id))
        return bool(getattr(result, "rowcount", 0))

    async def has_history(self, mailbox_id: uuid.UUID) -> bool:
        used = await self.session.scalar(
            select(
                or_(
                    exists().where(raw_messages.c.mailbox_id == mailbox_id),
                    exists().where(outbound_messages.c.mailbox_id == mailbox_id),
                )
            )
        )
        return bool(used)
