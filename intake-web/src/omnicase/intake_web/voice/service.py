"""Voice channel configuration: create, read, replace, delete; and the calls a channel took."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.secrets import ChannelSecrets
from omnicase.intake_web.defaults import check_brands
from omnicase.intake_web.hours import check_schedule
from omnicase.intake_web.voice.repository import VoiceCallRepository, VoiceChannelRepository
from omnicase.intake_web.voice.schemas import VoiceCall, VoiceChannelIn, VoiceChannelOut, VoiceConfig
from omnicase.kit.brands import BrandDirectory
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NotFound
from omnicase.kit.events import CaseDefaults
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Page, decode_id_cursor, paginate
from omnicase.kit.schedules import ScheduleSource


class VoiceChannelNotFound(NotFound):
    slug = "voice-channel-not-found"


class VoiceCallNotFound(NotFound):
    slug = "voice-call-not-found"


def _missing(channel_id: uuid.UUID) -> VoiceChannelNotFound:
    return VoiceChannelNotFound(f"Voice channel {channel_id} does not exist.")


@dataclass(frozen=True)
class VoiceUrls:
    """Where the provider reaches a channel: its incoming call webhook, its call callbacks, the hold
    loop a caller waiting for an agent comes back to, the end of the agent's dialled leg, and the TwiML of
    an outbound call the customer answered."""

    calls: str
    events: str
    hold: str
    dialed: str
    outbound: str

    @classmethod
    def of(cls, base: str, channel_id: uuid.UUID) -> VoiceUrls:
        calls = f"{base}/public/voice/channels/{channel_id}/calls"
        return cls(
            calls=calls,
            events=f"{calls}/events",
            hold=f"{calls}/hold",
            dialed=f"{calls}/dialed",
            outbound=f"{calls}/outbound",
        )


@dataclass(frozen=True)
class StoredVoiceChannel:
    id: uuid.UUID
    name: str
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime
    config: VoiceConfig
    defaults: CaseDefaults

    @classmethod
    def from_row(cls, row: Any, secrets: ChannelSecrets) -> StoredVoiceChannel:
        """The channel as stored, its auth token opened."""
        defaults = CaseDefaults.model_validate(row.config.get("defaults", {}))
        config = VoiceConfig.model_validate(secrets.open(row.config["settings"], row.id))
        if config.brand:
            defaults = defaults.model_copy(update={"brand": config.brand})
        return cls(
            id=row.id,
            name=row.name,
            enabled=row.enabled,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            config=config,
            defaults=defaults,
        )

    def urls(self, public_base: str) -> VoiceUrls:
        """Where the provider calls this channel: under its own base URL, or this service's public one."""
        return VoiceUrls.of(str(self.config.webhook_base_url or public_base).rstrip("/"), self.id)

    def thread_key(self, caller: str) -> str:
        """A caller's calls on this channel are one conversation, so they join the caller's open case."""
        return f"voice:{self.id}:{caller}"


def _brands_named(data: VoiceChannelIn) -> dict[str, str | None]:
    return {"body.brand": data.brand, "body.defaults.brand": data.defaults.brand}


class VoiceChannelService:
    """Built per request: ``public_base`` is where the provider reaches this service (for the webhook URLs)."""

    def __init__(
        self,
        session: AsyncSession,
        secrets: ChannelSecrets,
        public_base: str = "",
        brands: BrandDirectory | None = None,
        schedules: ScheduleSource | None = None,
    ) -> None:
        self.secrets = secrets
        # case-core's brands and sla-engine's schedules, for the writes (a channel naming one nobody
        # has is refused).
        self.brands = brands
        self.schedules = schedules
        self.public_base = public_base
        self.channels = VoiceChannelRepository(session)
        self.calls = VoiceCallRepository(session)

    def _values(self, data: VoiceChannelIn, channel_id: uuid.UUID) -> dict[str, Any]:
        return {
            "name": data.name,
            "enabled": data.enabled,
            "config": {
                "settings": self.secrets.seal(data.config().model_dump(mode="json"), channel_id),
                "defaults": data.defaults.model_dump(mode="json"),
            },
        }

    def _stored(self, row: Any) -> StoredVoiceChannel:
        return StoredVoiceChannel.from_row(row, self.secrets)

    async def _check_references(self, data: VoiceChannelIn) -> None:
        await check_brands(self.brands, _brands_named(data))
        await check_schedule(self.schedules, "body.business_hours_id", data.business_hours_id)

    async def create(self, data: VoiceChannelIn) -> StoredVoiceChannel:
        await self._check_references(data)
        channel_id = uuid7()
        return self._stored(await self.channels.add(channel_id, self._values(data, channel_id), utcnow()))

    async def get(self, channel_id: uuid.UUID) -> StoredVoiceChannel:
        return self._stored(await self.channels.get_or_raise(channel_id, _missing))

    async def find(self, channel_id: uuid.UUID) -> StoredVoiceChannel | None:
        row = await self.channels.get(channel_id)
        return None if row is None else self._stored(row)

    async def page(self, cursor: str | None, limit: int) -> Page[VoiceChannelOut]:
        rows = await self.channels.page(decode_id_cursor(cursor), limit + 1)
        return paginate(
            Page[VoiceChannelOut], rows, limit, key=lambda row: [row.id], item=lambda row: self._out(self._stored(row))
        )

    async def replace(self, channel_id: uuid.UUID, data: VoiceChannelIn) -> StoredVoiceChannel:
        await self._check_references(data)
        row = await self.channels.replace(channel_id, self._values(data, channel_id), utcnow())
        if row is None:
            raise _missing(channel_id)
        return self._stored(row)

    async def delete(self, channel_id: uuid.UUID) -> None:
        if not await self.channels.delete(channel_id):
            raise _missing(channel_id)

    async def view(self, channel: StoredVoiceChannel) -> VoiceChannelOut:
        """The channel as the API shows it (``resource_routes``' view)."""
        return self._out(channel)

    def _out(self, channel: StoredVoiceChannel) -> VoiceChannelOut:
        urls = channel.urls(self.public_base)
        return VoiceChannelOut(
            **channel.config.model_dump(exclude={"auth_token"}),
            id=channel.id,
            name=channel.name,
            enabled=channel.enabled,
            defaults=channel.defaults,
            voice_url=urls.calls,
            status_callback_url=urls.events,
            version=channel.version,
            created_at=channel.created_at,
            updated_at=channel.updated_at,
        )

    async def calls_of(self, channel_id: uuid.UUID, cursor: str | None, limit: int) -> Page[VoiceCall]:
        await self.get(channel_id)
        rows = await self.calls.page_for_channel(channel_id, decode_id_cursor(cursor), limit + 1)
        return paginate(
            Page[VoiceCall],
            rows,
            limit,
            key=lambda row: [row.id],
            item=lambda row: VoiceCall.model_validate(row._mapping),
        )

    async def call(self, call_id: uuid.UUID) -> VoiceCall:
        """One call as the calls list shows it."""
        row = await self.calls.one(call_id)
        if row is None:
            raise VoiceCallNotFound(f"Call {call_id} does not exist.")
        return VoiceCall.model_validate(row._mapping)
