"""Temporary failures wait longer each time, up to the configured ceiling."""

from __future__ import annotations

from omnicase.intake_email.outbound.sender import backoff
from omnicase.intake_email.settings import IntakeEmailSettings


def test_backoff_doubles_from_the_initial_delay_up_to_the_maximum() -> None:
    settings = IntakeEmailSettings(send_backoff_initial_seconds=30, send_backoff_max_seconds=600)
    assert [backoff(settings, attempts) for attempts in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]
