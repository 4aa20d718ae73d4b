"""Channel configuration: create, read, replace, delete messaging and integrator channels."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.definition import StoredChannel
from omnicase.intake_web.channels.delivery_repository import PENDING, DeliveryRepository
from omnicase.intake_web.channels.repository import ChannelRepository
from omnicase.intake_web.channels.schemas import ChannelIn, ChannelMessage, Delivery, WidgetConfig
from omnicase.intake_web.channels.secrets import ChannelSecrets
from omnicase.intake_web.defaults import check_brands
from omnicase.intake_web.hours import check_schedule
from omnicase.intake_web.messages.repository import InboundMessageRepository
from omnicase.kit.brands import BrandDirectory
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NotFound
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Page, decode_id_cursor, paginate
from omnicase.kit.schedules import ScheduleSource


class ChannelNotFound(NotFound):
    slug = "channel-not-found"


def _missing(channel_id: uuid.UUID) -> ChannelNotFound:
    return ChannelNotFound(f"Channel {channel_id} does not exist.")


def _brands_named(data: ChannelIn) -> dict[str, str | None]:
    named: dict[str, str | None] = {"body.defaults.brand": data.defaults.brand}
    if isinstance(data.config, WidgetConfig):
        named["body.config.brand"] = data.config.brand
    return named


class ChannelService:
    def __init__(
        self,
        session: AsyncSession,
        secrets: ChannelSecrets,
        brands: BrandDirectory | None = None,
        schedules: ScheduleSource | None = None,
    ) -> None:
        self.secrets = secrets
        # case-core's brands and sla-engine's schedules, for the writes (a channel naming one nobody has is
        # refused).
        self.brands = brands
        self.schedules = schedules
        self.channels = ChannelRepository(session)
        self.messages = InboundMessageRepository(session)
        self.deliveries = DeliveryRepository(session)

    def _values(self, data: ChannelIn, channel_id: uuid.UUID) -> dict[str, Any]:
        settings = self.secrets.seal(data.config.model_dump(mode="json"), channel_id)
        return {
            "name": data.name,
            "kind": data.config.kind.value,
            "enabled": data.enabled,
            "config": {
                "settings": settings,
                "defaults": data.defaults.model_dump(mode="json"),
                "blocked_senders": sorted({sender.lower() for sender in data.blocked_senders}),
            },
        }

    async def _check_references(self, data: ChannelIn) -> None:
        await check_brands(self.brands, _brands_named(data))
        if isinstance(data.config, WidgetConfig):
            await check_schedule(self.schedules, "body.config.business_hours_id", data.config.business_hours_id)

    async def create(self, data: ChannelIn) -> StoredChannel:
        await self._check_references(data)
        channel_id = uuid7()
        return StoredChannel.from_row(
            await self.channels.add(channel_id, self._values(data, channel_id), utcnow()), self.secrets
        )

    async def get(self, channel_id: uuid.UUID) -> StoredChannel:
        row = await self.channels.get_or_raise(channel_id, _missing)
        return StoredChannel.from_row(row, self.secrets)

    async def find(self, channel_id: uuid.UUID) -> StoredChannel | None:
        row = await self.channels.get(channel_id)
        return None if row is None else StoredChannel.from_row(row, self.secrets)

    async def seen(self, channel_id: uuid.UUID, dedupe_keys: list[str]) -> set[str]:
        """Which of a provider's message keys the channel has stored already."""
        return await self.messages.existing_dedupe_keys(f"channel:{channel_id}", dedupe_keys)

    async def list(self, cursor: str | None, limit: int) -> list[StoredChannel]:
        """The channels after ``cursor``: ``limit + 1`` of them when there are more (see ``paginate``)."""
        rows = await self.channels.page(decode_id_cursor(cursor), limit + 1)
        return [StoredChannel.from_row(row, self.secrets) for row in rows]

    async def replace(self, channel_id: uuid.UUID, data: ChannelIn) -> StoredChannel:
        await self._check_references(data)
        row = await self.channels.replace(channel_id, self._values(data, channel_id), utcnow())
        if row is None:
            raise _missing(channel_id)
        return StoredChannel.from_row(row, self.secrets)

    async def delete(self, channel_id: uuid.UUID) -> None:
        if not await self.channels.delete(channel_id):
            raise _missing(channel_id)

    async def messages_of(self, channel_id: uuid.UUID, cursor: str | None, limit: int) -> Page[ChannelMessage]:
        await self.get(channel_id)
        rows = await self.messages.page_for_channel(channel_id, decode_id_cursor(cursor), limit + 1)

        def message(row: Any) -> ChannelMessage:
            return ChannelMessage(
                id=row.id,
                status=row.status,
                thread_key=row.event["thread_key"],
                sender=row.event["sender"],
                text=row.event["text"],
                attachments=row.event.get("attachments", []),
                case_id=row.case_id,
                received_at=row.received_at,
                acknowledged_at=row.acknowledged_at,
                published_count=row.publish_count,
            )

        return paginate(Page[ChannelMessage], rows, limit, key=lambda row: [row.id], item=message)

    async def deliveries_of(self, channel_id: uuid.UUID, cursor: str | None, limit: int) -> Page[Delivery]:
        await self.get(channel_id)
        rows = await self.deliveries.page_for_channel(channel_id, decode_id_cursor(cursor), limit + 1)

        def delivery(row: Any) -> Delivery:
            return Delivery(
                outbound_id=row.outbound_id,
                case_id=row.case_id,
                status=row.status,
                attempts=row.attempts,
                next_attempt_at=row.next_attempt_at if row.status == PENDING else None,
                last_error=row.last_error,
                provider_message_id=row.provider_message_id,
                sms_encoding=row.sms_encoding,
                sms_segments=row.sms_segments,
                created_at=row.created_at,
                finished_at=row.finished_at,
            )

        return paginate(Page[Delivery], rows, limit, key=lambda row: [row.outbound_id], item=delivery)
