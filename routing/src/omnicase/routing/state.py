"""What routing holds while it runs, built in one place at start: its timer worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from omnicase.kit.app import Runtime
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.work.timers import TimerWorker


@dataclass(frozen=True)
class RoutingState:
    # Offer timeouts and the periodic push of waiting work (started by a background starter).
    timers: TimerWorker


RoutingRuntime = Runtime[RoutingSettings, RoutingState]


@asynccontextmanager
async def routing_state(runtime: Runtime[RoutingSettings, Any]) -> AsyncIterator[RoutingState]:
    yield RoutingState(timers=TimerWorker(runtime))
