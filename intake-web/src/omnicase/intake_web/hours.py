"""sla-engine's business hours as intake-web's channels name them (a voice channel's, a chat widget's).

A channel names a schedule by id; it is checked when the channel is saved and read when a call or a
visitor arrives, through the kit's :class:`~omnicase.kit.schedules.ScheduleSource` (which keeps each
answer ``INTAKE_WEB_SCHEDULE_TTL_SECONDS``, so a busy channel asks sla-engine about once a minute, and
a failure to answer a few seconds, so an outage is not asked about on every call or page).
"""

from __future__ import annotations

import logging
import uuid

from omnicase.kit.clock import utcnow
from omnicase.kit.peers import PeerUnavailable
from omnicase.kit.schedules import ScheduleSource, StillUnavailable

logger = logging.getLogger(__name__)


async def check_schedule(schedules: ScheduleSource | None, field: str, schedule_id: uuid.UUID | None) -> None:
    """Refuse a channel naming a schedule sla-engine does not have (``field``, such as
    ``body.business_hours_id``): the kit's 404 ``unknown-reference``, or a 503 when sla-engine cannot
    answer, before anything is written. ``schedules`` is None only in a service built to read."""
    if schedule_id is None:
        return
    if schedules is None:
        raise RuntimeError("a channel is written by a service built without the schedules")
    await schedules.check({field: schedule_id})


async def working_now(schedules: ScheduleSource, schedule_id: uuid.UUID, *, unknown: bool, what: str) -> bool:
    """Whether ``schedule_id`` is in its working time now (holidays included). A schedule sla-engine no
    longer has counts as always working, as a channel naming none does; while sla-engine cannot say,
    the answer is ``unknown`` (each channel decides which failure costs its customers less). Both are
    logged, naming ``what`` asked."""
    try:
        calendar = await schedules.calendar(schedule_id)
    except PeerUnavailable as error:
        # Said once per failed read, not again for every ask the kit answers from that failure.
        level = logging.DEBUG if isinstance(error, StillUnavailable) else logging.WARNING
        logger.log(level, "sla-engine cannot say whether %s is in its hours (taken as %s): %s", what, unknown, error)
        return unknown
    if calendar is None:
        logger.warning("%s names business hours %s sla-engine does not have", what, schedule_id)
        return True
    return calendar.is_working(utcnow())
