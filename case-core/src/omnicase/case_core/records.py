"""What the repositories share about their typed frozen records."""

from __future__ import annotations

import dataclasses
from typing import Any


def column_values(record: Any) -> dict[str, Any]:
    """A record whose fields are its table's columns, as an insert's values (tuples as the lists arrays take)."""
    return {
        field.name: list(value) if isinstance(value := getattr(record, field.name), tuple) else value
        for field in dataclasses.fields(record)
    }
