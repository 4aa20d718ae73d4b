"""Mailbox configuration: create, read, change, delete support addresses."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.mailboxes.repository import MailboxRepository
from omnicase.intake_email.mailboxes.schemas import Mailbox, MailboxCreate, MailboxDefaults, MailboxUpdate
from omnicase.intake_email.mailboxes.secrets import MailboxSecrets
from omnicase.intake_email.outbound.service import OutboundService
from omnicase.kit.brands import BrandDirectory
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import Conflict, FieldError, NotFound
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Page, decode_id_cursor, paginate


class MailboxNotFound(NotFound):
    pass


class MailboxAddressTaken(Conflict):
    slug = "mailbox-address-taken"


class MailboxInUse(Conflict):
    slug = "mailbox-in-use"


def _defaults_columns(defaults: MailboxDefaults) -> dict[str, Any]:
    return {
        "priority": defaults.priority.value if defaults.priority else None,
        "group_id": defaults.group_id,
        "tags": list(defaults.tags),
        "case_type": defaults.type,
    }


def _taken(address: str) -> MailboxAddressTaken:
    return MailboxAddressTaken(
        f"A mailbox for {address} already exists.",
        errors=[FieldError(field="body.address", message="already used by another mailbox", code="unique")],
    )


def _missing(mailbox_id: uuid.UUID) -> MailboxNotFound:
    return MailboxNotFound(f"Mailbox {mailbox_id} does not exist.")


class MailboxService:
    def __init__(self, session: AsyncSession, secrets: MailboxSecrets, brands: BrandDirectory) -> None:
        self.session = session
        self.secrets = secrets
        # case-core's brands: a mailbox naming one nobody has is refused.
        self.brands = brands
        self.repository = MailboxRepository(session)

    async def create(self, data: MailboxCreate) -> Mailbox:
        await self.brands.check({"body.brand": data.brand})
        now = utcnow()
        mailbox_id = uuid7()
        values = {
            "id": mailbox_id,
            "address": data.address,
            "display_name": data.display_name,
            "brand": data.brand,
            "auto_response": data.auto_response,
            "suggest_articles": data.suggest_articles,
            "signature": data.signature,
            "logo_url": data.logo_url,
            "webhook_secret": self.secrets.seal(data.webhook_secret, mailbox_id),
            "created_at": now,
            "updated_at": now,
            **_defaults_columns(data.defaults),
        }
        mailbox = await self.repository.insert(values)
        if mailbox is None:
            raise _taken(data.address)
        return mailbox

    async def get(self, mailbox_id: uuid.UUID) -> Mailbox:
        return await self.repository.get_or_raise(mailbox_id, _missing)

    async def find_with_secret(self, key: str) -> tuple[Mailbox | None, str | None]:
        """The mailbox ``key`` names (its id or its address) and its own webhook secret, opened (None: none)."""
        try:
            mailbox = await self.repository.get(uuid.UUID(key))
        except ValueError:
            mailbox = await self.repository.by_address(key)
        if mailbox is None:
            return None, None
        return mailbox, self.secrets.open(await self.repository.webhook_secret(mailbox.id), mailbox.id)

    async def page(self, cursor: str | None, limit: int) -> Page[Mailbox]:
        after = decode_id_cursor(cursor)
        rows = await self.repository.page(after=after, limit=limit + 1)
        return paginate(Page[Mailbox], rows, limit, key=lambda mailbox: [mailbox.id])

    async def update(self, mailbox_id: uuid.UUID, data: MailboxUpdate) -> Mailbox:
        current = await self.get(mailbox_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("brand") is not None and changes["brand"] != current.brand:
            await self.brands.check({"body.brand": changes["brand"]})
        values: dict[str, Any] = {}
        for name in ("display_name", "brand", "signature", "logo_url"):
            if name in changes:
                values[name] = changes[name]
        if "webhook_secret" in changes:
            values["webhook_secret"] = self.secrets.seal(changes["webhook_secret"], mailbox_id)
        for name in ("auto_response", "suggest_articles"):
            if changes.get(name) is not None:
                values[name] = changes[name]
        if data.defaults is not None:
            values.update(_defaults_columns(data.defaults))
        if data.address is not None and data.address != current.address:
            if await self.repository.address_taken(data.address, other_than=mailbox_id):
                raise _taken(data.address)
            values["address"] = data.address
            # A new address has not been shown to route here.
            values.update(verification_token=None, verified_at=None, verified_route=None, verified_from=None)
        values["updated_at"] = utcnow()
        updated = await self.repository.update(mailbox_id, values)
        if updated is None:
            raise _missing(mailbox_id)
        return updated

    async def start_verification(self, mailbox_id: uuid.UUID, outbound: OutboundService) -> Mailbox:
        """Send a test message to the address; it must come back in through the mailbox's route."""
        mailbox = await self.get(mailbox_id)
        token = secrets.token_hex(16)
        await self.repository.start_verification(mailbox_id, token, utcnow())
        await outbound.queue_verification(mailbox, token)
        return await self.get(mailbox_id)

    async def delete(self, mailbox_id: uuid.UUID) -> None:
        await self.get(mailbox_id)
        if await self.repository.has_history(mailbox_id):
            raise MailboxInUse(
                f"Mailbox {mailbox_id} has received or sent mail; its history must stay readable, "
                "so it cannot be deleted."
            )
        await self.repository.delete(mailbox_id)
