"""What the repositories share about their typed frozen records."""

from __future__ import annotations

from typing import Any


def column_values(record: Any) -> dict[str, Any]:
    """A record whose fields are its table's columns, as an insert's values (tuples as the lists arrays take).

    The record is a dataclass without slots (every record here is): its ``__dict__`` holds exactly
    its fields, in order. Reading it costs a third of ``dataclasses.fields()`` and a ``getattr`` per
    field, and every new case, message and history row pays it.
    """
    return {name: list(value) if isinstance(value, tuple) else value for name, value in vars(record).items()}
