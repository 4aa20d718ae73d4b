"""Business-hours schedules as sla-engine's API shows them, turned into the kit's calendars.

sla-engine owns schedules (``GET /api/v1/business-hours/{id}``); reporting asks it, signed as
the service ``reporting`` with ``sla:read``, off any transaction, and keeps each answer for
``ttl`` seconds. The working-time arithmetic is the kit's (:mod:`omnicase.kit.business_time`),
the same functions that time the SLA clocks.
"""

from __future__ import annotations

import uuid
from datetime import date

import httpx

from omnicase.kit.business_time import BusinessCalendar, UnknownTimeZone, calendar_of
from omnicase.kit.clock import get_clock
from omnicase.kit.identity import service_identity_headers

SCOPES = frozenset({"sla:read"})


class SchedulesUnavailable(Exception):
    """sla-engine could not answer now; the durations are counted at a later turn."""


class ScheduleSource:
    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        ttl_seconds: float = 60.0,
        timeout_seconds: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.ttl_seconds = ttl_seconds
        self.timeout_seconds = timeout_seconds
        self._client = client
        self._owns_client = client is None
        self._cache: dict[uuid.UUID, tuple[float, BusinessCalendar | None]] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_seconds, trust_env=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None if self._owns_client else self._client

    async def calendar(self, schedule_id: uuid.UUID) -> BusinessCalendar | None:
        """The schedule's calendar; None when sla-engine has no such schedule (deleted) or it cannot be read."""
        now = get_clock().monotonic()
        cached = self._cache.get(schedule_id)
        if cached is not None and now - cached[0] < self.ttl_seconds:
            return cached[1]
        path = f"/api/v1/business-hours/{schedule_id}"
        headers = service_identity_headers(self.secret, "reporting", SCOPES)
        try:
            response = await self.client.get(self.base_url + path, headers=headers)
        except httpx.HTTPError as error:
            raise SchedulesUnavailable(f"sla-engine is unreachable ({type(error).__name__}: {error})") from error
        if response.status_code == 404:
            calendar = None
        elif not response.is_success:
            raise SchedulesUnavailable(f"sla-engine answered {response.status_code} to GET {path}")
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
