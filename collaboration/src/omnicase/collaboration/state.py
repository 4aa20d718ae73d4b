"""What collaboration holds while it runs, built in one place at start: its services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from omnicase.collaboration.settings import CollaborationSettings
from omnicase.collaboration.swarms.service import SwarmService
from omnicase.kit.app import Runtime


@dataclass(frozen=True)
class CollaborationState:
    swarms: SwarmService


CollaborationRuntime = Runtime[CollaborationSettings, CollaborationState]


@asynccontextmanager
async def collaboration_state(runtime: Runtime[CollaborationSettings, Any]) -> AsyncIterator[CollaborationState]:
    yield CollaborationState(swarms=SwarmService(runtime.outbox))
