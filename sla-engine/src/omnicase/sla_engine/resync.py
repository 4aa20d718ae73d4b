"""Configuration changes reach cases already open.

A policy, automation or schedule change asks for a *resync*: one timer (one key, so
changes in quick succession restart one walk instead of piling up) that the timer
worker runs page by page over every case not closed, re-applying the current
configuration exactly as the next case event would.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.sla_engine.scheduler.repository import TimerRepository

RESYNC_TIMER = "resync"
RESYNC_KEY = "resync"


async def request_resync(session: AsyncSession) -> None:
    """The configuration changed (its version moved with it): walk every open case again, from now."""
    await TimerRepository(session).schedule(RESYNC_KEY, RESYNC_TIMER, utcnow(), payload={"after": None})
