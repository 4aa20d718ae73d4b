"""Business-hours schedules as sla-engine's API shows them, turned into the kit's calendars.

sla-engine owns schedules (``GET /api/v1/business-hours/{id}``); a service asks it, signed as
itself (``caller``) with ``sla:read``, off any transaction, and keeps each answer for ``ttl``
seconds, and a failure to answer for ``failure_seconds``: asked again within them it fails at once,
so an outage (a hung sla-engine above all) costs a caller asking per request, such as a chat
widget's hours asked by every open page, one timeout per schedule per that time, not one per ask.
The working-time arithmetic is the kit's (:mod:`omnicase.kit.business_time`), the same functions
that time the SLA clocks. Used by reporting (business-hours durations) and intake-web (a voice
channel's and a chat widget's opening hours, checked when the channel is saved).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date

import httpx

from omnicase.kit.business_time import BusinessCalendar, UnknownTimeZone, calendar_of
from omnicase.kit.clock import get_clock
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, ServiceUnavailable, refusal
from omnicase.kit.peers import PeerClient, PeerUnavailable

SCOPES = frozenset({"sla:read"})


class StillUnavailable(PeerUnavailable):
    """sla-engine could not answer a moment ago (within ``failure_seconds``), so it was not asked again."""


class ScheduleSource(PeerClient):
    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        caller: str,
        ttl_seconds: float = 60.0,
        failure_seconds: float = 5.0,
        timeout_seconds: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            "sla-engine",
            base_url,
            secret,
            caller=caller,
            scopes=SCOPES,
            timeout_seconds=timeout_seconds,
            client=client,
        )
        self.ttl_seconds = ttl_seconds
        self.failure_seconds = failure_seconds
        self._cache: dict[uuid.UUID, tuple[float, BusinessCalendar | None]] = {}
        self._failed: dict[uuid.UUID, tuple[float, PeerUnavailable]] = {}

    async def calendar(self, schedule_id: uuid.UUID) -> BusinessCalendar | None:
        """The schedule's calendar; None when sla-engine has no such schedule (deleted) or it cannot be read.
        :class:`PeerUnavailable` when sla-engine cannot answer, or could not within ``failure_seconds``."""
        now = get_clock().monotonic()
        cached = self._cache.get(schedule_id)
        if cached is not None and now - cached[0] < self.ttl_seconds:
            return cached[1]
        failed = self._failed.get(schedule_id)
        if failed is not None and now - failed[0] < self.failure_seconds:
            raise StillUnavailable(f"{failed[1]} (less than {self.failure_seconds:g} s ago; not asked again yet)")
        try:
            response = await self.get(f"/api/v1/business-hours/{schedule_id}")
        except PeerUnavailable as error:
            self._failed[schedule_id] = (get_clock().monotonic(), error)
            raise
        self._failed.pop(schedule_id, None)
        if response is None:
            calendar = None
        else:
            body = response.json()
            try:
                calendar = calendar_of(
                    body["time_zone"],
                    [(item["day"], item["start"], item["end"]) for item in body["intervals"]],
                    [
                        (date.fromisoformat(h["start_date"]), date.fromisoformat(h["end_date"]))
                        for h in body["holidays"]
                    ],
                )
            except (KeyError, ValueError, UnknownTimeZone):
                calendar = None
        self._cache[schedule_id] = (now, calendar)
        return calendar

    async def check(self, references: Mapping[str, uuid.UUID | None]) -> None:
        """Refuse a write naming a schedule sla-engine does not have: ``references`` maps each field
        (``body.business_hours_id``) to the schedule it names (None: none). A 404 ``unknown-reference``
        naming each such field; a 503 when sla-engine cannot answer (nothing is written either way).
        Asked afresh, never from the cache, and the cached answer is dropped: the schedule may be new."""
        unknown: list[FieldError] = []
        for field, schedule_id in references.items():
            if schedule_id is None:
                continue
            self._cache.pop(schedule_id, None)
            self._failed.pop(schedule_id, None)
            try:
                found = await self.get(f"/api/v1/business-hours/{schedule_id}")
            except PeerUnavailable as error:
                raise ServiceUnavailable(
                    "sla-engine cannot say whether the business hours exist right now; nothing was saved."
                ) from error
            if found is None:
                unknown.append(
                    FieldError(field=field, message="sla-engine has no such business hours", code=NOT_FOUND_CODE)
                )
        if unknown:
            raise refusal("No business-hours schedule has that id: create it first (/api/v1/business-hours).", unknown)
