"""Publish again the mail case-core has not acknowledged: every ``republish_interval_seconds``, what
was last published more than ``republish_after_seconds`` ago (the kit's :mod:`omnicase.kit.intake`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.intake_email.metrics import EMAIL_REPUBLISHED
from omnicase.intake_email.state import IntakeEmailRuntime
from omnicase.kit.intake import republish_unconfirmed
from omnicase.kit.periodic import periodic

logger = logging.getLogger(__name__)

BATCH = 200


async def republish_pending(runtime: IntakeEmailRuntime) -> int:
    """One round; returns how many messages were staged again."""
    older_than = timedelta(seconds=runtime.settings.republish_after_seconds)
    count = await republish_unconfirmed(
        runtime.database, runtime.outbox, runtime.spec.name, RawMessageRepository, older_than, BATCH
    )
    if count:
        EMAIL_REPUBLISHED.inc(count)
        logger.warning("republished unacknowledged messages", extra={"count": count})
    return count


async def start_republisher(runtime: IntakeEmailRuntime) -> Callable[[], Awaitable[None]] | None:
    settings = runtime.settings

    async def republish() -> int:
        return await republish_pending(runtime)

    # A full batch means more may be waiting: the next round starts at once.
    loop = periodic(
        "intake-email-republisher",
        settings.republish_interval_seconds,
        republish,
        busy=lambda count: count == BATCH,
        wait_first=True,
    )
    return loop.stop
