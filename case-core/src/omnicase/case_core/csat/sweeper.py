"""The background part that sends due satisfaction surveys (any number of replicas: SKIP LOCKED)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from omnicase.case_core.csat.service import SWEEP_BATCH, CsatService
from omnicase.case_core.settings import CaseCoreRuntime
from omnicase.kit.app import Stop
from omnicase.kit.periodic import periodic

logger = logging.getLogger(__name__)


def surveys_part(service: CsatService) -> Callable[[CaseCoreRuntime], Awaitable[Stop]]:
    async def start(runtime: CaseCoreRuntime) -> Stop:
        async def sweep() -> int:
            async with runtime.database.unit_of_work() as session:
                settled = await service.send_due(session)
            if settled:
                logger.info("satisfaction surveys settled", extra={"count": settled})
            return settled

        # A full batch means more may be due: the next round starts at once.
        loop = periodic(
            "csat-survey-sweeper",
            runtime.settings.csat_sweep_seconds,
            sweep,
            busy=lambda count: count >= SWEEP_BATCH,
        )
        return loop.stop

    return start
