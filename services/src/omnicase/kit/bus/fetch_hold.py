"""How long the broker may hold a consumer's fetch: briefly while records flow, longer once quiet.

Tansu answers a fetch within half its wait, data or not, and a record arriving meanwhile
waits for the next fetch: every hop of a case's path (intake → case → routing →
assignment, an offer → the agent's console) pays up to half the wait. A short wait
throughout would have an idle suite ask the broker several times as often (six idle
consumers: 7 to 9 % of a core of broker at 50 ms, 13 to 15 % at 20 ms), so the wait is short
only while records come, and the first record after a lull pays the longer one. After a long
lull (a night, a quiet topic) the wait grows again: at 250 ms six idle consumers cost the broker
and themselves a fifth of what they cost at 50 ms, and a record arriving then is no burst's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer


@dataclass
class FetchHold:
    busy_ms: int = 20
    quiet_ms: int = 50
    quiet_after_seconds: float = 2.0
    idle_ms: int = 250
    idle_after_seconds: float = 30.0
    _last_records: float = field(default=0.0, init=False)

    def after_fetch(self, consumer: AIOKafkaConsumer | None, got_records: bool) -> None:
        """Set the wait of ``consumer``'s next fetches from what its last ``getmany`` returned.

        aiokafka reads its fetcher's wait for each fetch request it builds but offers no
        setter; a version without the attribute keeps the wait the consumer was made with.
        """
        now = time.monotonic()
        if got_records:
            self._last_records = now
        wait, lull = self.busy_ms, now - self._last_records
        if lull >= self.idle_after_seconds:
            wait = max(wait, self.idle_ms)
        elif lull >= self.quiet_after_seconds:
            wait = max(wait, self.quiet_ms)
        current = held_ms(consumer)
        if current is not None and current != wait:
            consumer._fetcher._fetch_max_wait_ms = wait  # type: ignore[union-attr]


def held_ms(consumer: AIOKafkaConsumer | None) -> int | None:
    """How long the broker may hold ``consumer``'s next fetch (None before it started)."""
    wait = getattr(getattr(consumer, "_fetcher", None), "_fetch_max_wait_ms", None)
    return wait if isinstance(wait, int) else None
