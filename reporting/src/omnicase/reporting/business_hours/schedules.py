"""sla-engine's business-hours schedules as reporting reads them: the kit's source, signed as ``reporting``."""

from __future__ import annotations

from typing import Any

from omnicase.kit import schedules


class ScheduleSource(schedules.ScheduleSource):
    def __init__(self, base_url: str, secret: str, **options: Any) -> None:
        super().__init__(base_url, secret, caller="reporting", **options)
