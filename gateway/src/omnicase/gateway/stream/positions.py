"""Stream event ids: where a client stands in every partition the stream reads.

An id is the next offset to deliver per ``(topic, partition)``, so any replica (each
reads every partition itself) can resume a client from it; ``v1.`` + base64url(JSON).
"""

from __future__ import annotations

import base64
import binascii
import json

# The topics' place in an id; new topics are added at the end.
Position = tuple[int, int]  # (topic index, partition)
Positions = dict[Position, int]

_VERSION = "v1."


def encode(positions: Positions) -> str:
    compact = {f"{topic}:{partition}": offset for (topic, partition), offset in sorted(positions.items())}
    raw = json.dumps(compact, separators=(",", ":")).encode()
    return _VERSION + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(event_id: str) -> Positions | None:
    """The positions an id names, or None for anything that is not one of ours."""
    if not event_id.startswith(_VERSION) or len(event_id) > 8192:
        return None
    text = event_id[len(_VERSION) :]
    try:
        compact = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(compact, dict):
        return None
    positions: Positions = {}
    for key, offset in compact.items():
        topic, _, partition = str(key).partition(":")
        if not (topic.isdigit() and partition.isdigit() and isinstance(offset, int) and offset >= 0):
            return None
        positions[(int(topic), int(partition))] = offset
    return positions
