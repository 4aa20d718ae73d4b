"""Publish again what case-core has not confirmed in time (the kit's :mod:`omnicase.kit.intake`): a
broker that lost a message, or a case-core that dead-lettered it and was since fixed, gets it again."""

from __future__ import annotations

from datetime import timedelta

from omnicase.intake_web.messages.repository import InboundMessageRepository
from omnicase.intake_web.metrics import REPUBLISHED
from omnicase.intake_web.service import SPEC
from omnicase.kit.db import Database
from omnicase.kit.intake import republish_unconfirmed
from omnicase.kit.outbox import Outbox

BATCH = 200


async def republish_unacknowledged(database: Database, outbox: Outbox, older_than: timedelta) -> int:
    """One pass; returns how many messages were published again."""
    count = await republish_unconfirmed(database, outbox, SPEC.name, InboundMessageRepository, older_than, BATCH)
    REPUBLISHED.inc(count)
    return count
