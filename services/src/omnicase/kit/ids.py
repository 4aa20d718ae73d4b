"""Identifiers: UUIDv7 (time-ordered) for events and rows that are listed by age."""

from __future__ import annotations

import os
import uuid

from omnicase.kit.clock import utcnow


def uuid7() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits.

    Time comes from the kit clock so ids made under a driven clock sort with it.
    """
    millis = int(utcnow().timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 68  # 12 bits
    rand_b = rand & ((1 << 62) - 1)  # 62 bits
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)
