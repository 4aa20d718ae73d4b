"""Channel secrets at rest: provider tokens and signing secrets sealed by the kit's master keys.

The configuration keys in :data:`SECRET_KEYS` (a Twilio auth token, a voice channel's, a Meta app secret and
access tokens, an integrator's webhook secrets) are stored in the channel's JSON as sealed
tokens (:mod:`omnicase.kit.sealing`), each bound to its channel and key, so a database dump
reveals none; the API never shows them after they are set. Values stored before sealing
still work, and the reseal pass (hourly, and at start) seals them and re-wraps tokens
sealed under a master key that is no longer current.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.schemas import SECRET_KEYS
from omnicase.intake_web.models import channels, voice_channels
from omnicase.kit.sealing import Sealer


def _context(channel_id: uuid.UUID, key: str, index: int | None) -> str:
    return f"intake_web.channels.{key}{'' if index is None else f'[{index}]'}:{channel_id}"


class ChannelSecrets:
    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer

    def _each(self, settings: dict[str, Any], channel_id: uuid.UUID, change: Any) -> dict[str, Any]:
        changed = dict(settings)
        for key in SECRET_KEYS & settings.keys():
            value = settings[key]
            if isinstance(value, str):
                changed[key] = change(value, _context(channel_id, key, None))
            elif isinstance(value, list):
                changed[key] = [change(item, _context(channel_id, key, index)) for index, item in enumerate(value)]
        # A widget's captcha secret (its forms spam rules) sits inside them, as a form's does.
        spam = settings.get("spam")
        captcha = spam.get("captcha") if isinstance(spam, dict) else None
        if isinstance(spam, dict) and isinstance(captcha, dict) and isinstance(captcha.get("secret"), str):
            secret = change(captcha["secret"], _context(channel_id, "spam.captcha.secret", None))
            changed["spam"] = spam | {"captcha": captcha | {"secret": secret}}
        return changed

    def seal(self, settings: dict[str, Any], channel_id: uuid.UUID) -> dict[str, Any]:
        """The configuration as stored: every secret sealed."""
        return self._each(settings, channel_id, self.sealer.seal)

    def open(self, settings: dict[str, Any], channel_id: uuid.UUID) -> dict[str, Any]:
        """The configuration as the channel uses it (a secret stored before sealing is used as it is)."""
        return self._each(settings, channel_id, self.sealer.open_stored)

    async def reseal(self, session: AsyncSession) -> int:
        """Seal plain secrets and re-wrap those under an old master key; how many channels changed
        (messaging and voice channels alike)."""
        changed = 0
        for table in (channels, voice_channels):
            rows = (await session.execute(select(table.c.id, table.c.config).with_for_update(skip_locked=True))).all()
            for row in rows:
                settings = row.config["settings"]
                resealed = self._each(settings, row.id, self.sealer.reseal)
                if resealed != settings:
                    config = row.config | {"settings": resealed}
                    await session.execute(update(table).where(table.c.id == row.id).values(config=config))
                    changed += 1
        return changed
