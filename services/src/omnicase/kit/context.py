"""Request and trace ids carried through HTTP calls, log lines and Kafka headers."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("omnicase_request_id", default=None)
trace_id_var: ContextVar[str | None] = ContextVar("omnicase_trace_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
TRACE_ID_HEADER = "X-Trace-ID"


def new_trace_id() -> str:
    return uuid.uuid4().hex


def current_trace_id() -> str:
    """The trace id of the work in progress, starting a new trace when there is none."""
    trace_id = trace_id_var.get()
    if trace_id is None:
        trace_id = new_trace_id()
        trace_id_var.set(trace_id)
    return trace_id


def trace_id_from_traceparent(value: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` header, or None if it is malformed."""
    if not value:
        return None
    parts = value.split("-")
    if len(parts) != 4 or len(parts[1]) != 32:
        return None
    try:
        int(parts[1], 16)
    except ValueError:
        return None
    return parts[1]
