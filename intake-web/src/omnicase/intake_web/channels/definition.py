"""A stored channel as the rest of the service sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from omnicase.intake_web.channels.schemas import (
    SECRET_KEYS,
    SUITE_CHANNEL,
    ChannelConfig,
    ChannelKind,
    ChannelOut,
    WidgetConfig,
)
from omnicase.intake_web.channels.secrets import ChannelSecrets
from omnicase.kit.events import CaseDefaults, Channel, Party

_CONFIG = TypeAdapter[ChannelConfig](ChannelConfig)


@dataclass(frozen=True)
class StoredChannel:
    id: uuid.UUID
    name: str
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime
    config: ChannelConfig
    defaults: CaseDefaults
    # Lower-cased: whose messages are held as spam.
    blocked_senders: frozenset[str] = frozenset()

    @classmethod
    def from_row(cls, row: Any, secrets: ChannelSecrets) -> StoredChannel:
        """The channel as stored, its secrets opened."""
        stored = row.config
        return cls(
            id=row.id,
            name=row.name,
            enabled=row.enabled,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            config=_CONFIG.validate_python(secrets.open(stored["settings"], row.id)),
            defaults=CaseDefaults.model_validate(stored.get("defaults", {})),
            blocked_senders=frozenset(stored.get("blocked_senders", [])),
        )

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind(self.config.kind)

    @property
    def suite_channel(self) -> Channel:
        return SUITE_CHANNEL[self.kind]

    @property
    def case_defaults(self) -> CaseDefaults:
        """What each case the channel opens gets: its defaults, and a widget's brand."""
        if isinstance(self.config, WidgetConfig):
            return self.defaults.model_copy(update={"brand": self.config.brand})
        return self.defaults

    def blocks(self, sender: Party) -> str | None:
        """The sender's identity on this channel's blocklist, if any."""
        for identity in (sender.phone, sender.handle, sender.email):
            if identity and identity.lower() in self.blocked_senders:
                return identity
        return None

    def thread_key(self, conversation: str) -> str:
        """Conversation ids are namespaced by channel, so replies find their way back through it."""
        return f"{self.kind.value}:{self.id}:{conversation}"

    def public(self, webhook_url: str) -> ChannelOut:
        settings = {k: v for k, v in self.config.model_dump(mode="json").items() if k not in SECRET_KEYS}
        captcha = (settings.get("spam") or {}).get("captcha")
        if captcha:
            # Write-only, as a form's: said to be set, never shown.
            shown = {k: v for k, v in captcha.items() if k != "secret"} | {"secret_set": True}
            settings["spam"] = settings["spam"] | {"captcha": shown}
        return ChannelOut(
            id=self.id,
            name=self.name,
            kind=self.kind,
            enabled=self.enabled,
            settings=settings,
            defaults=self.defaults,
            blocked_senders=sorted(self.blocked_senders),
            webhook_url=webhook_url,
            version=self.version,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def parse_thread_key(thread_key: str | None) -> tuple[ChannelKind, uuid.UUID, str] | None:
    """The channel kind, channel id and provider-side conversation of one of our thread keys."""
    if not thread_key:
        return None
    kind, _, rest = thread_key.partition(":")
    channel_id, _, conversation = rest.partition(":")
    try:
        return ChannelKind(kind), uuid.UUID(channel_id), conversation
    except ValueError:
        return None
