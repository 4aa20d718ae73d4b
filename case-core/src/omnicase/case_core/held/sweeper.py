"""The background part that expires held messages and prunes settled ones (any number of replicas)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from omnicase.case_core.held.service import SWEEP_BATCH, HeldMessageService
from omnicase.case_core.settings import CaseCoreRuntime
from omnicase.kit.app import Stop
from omnicase.kit.periodic import periodic

logger = logging.getLogger(__name__)


def held_messages_part(service: HeldMessageService) -> Callable[[CaseCoreRuntime], Awaitable[Stop]]:
    async def start(runtime: CaseCoreRuntime) -> Stop:
        async def sweep() -> int:
            async with runtime.database.unit_of_work() as session:
                expired, pruned = await service.sweep(session)
            if expired:
                logger.info("held messages expired", extra={"count": expired})
            return max(expired, pruned)

        # A full batch means more may be due: the next round starts at once.
        loop = periodic(
            "held-message-sweeper",
            service.settings.held_message_sweep_seconds,
            sweep,
            busy=lambda count: count >= SWEEP_BATCH,
        )
        return loop.stop

    return start
