"""When to try a failed outbound call again (webhooks, chat integrations): exponential backoff with
full jitter, or the receiver's Retry-After."""

from __future__ import annotations

import random
from datetime import datetime
from email.utils import parsedate_to_datetime

# Every jitter in the suite draws from this generator of its own, never the `random` module's shared
# state: services also run in threads of a test process, where hypothesis owns that state and fails a
# test whose generation it sees change.
JITTER = random.Random()


def backoff_seconds(round_attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full jitter (uniform in [ceiling/2, ceiling]) so a receiver coming back is not hit by every retry at once.

    The lower half is kept so a retry never comes immediately after a failure.
    """
    ceiling = min(cap, base * 2 ** max(0, round_attempt - 1))
    return (rng or JITTER).uniform(ceiling / 2, ceiling)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())
