"""Structured JSON logs: one object per line with service, request id and trace id."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from omnicase.kit.context import request_id_var, trace_id_var

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        trace_id = trace_id_var.get()
        if trace_id:
            entry["trace_id"] = trace_id
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO", *, access_log: bool = False) -> None:
    """Route every logger (ours, uvicorn's, aiokafka's) through one JSON handler on stderr.

    uvicorn's access log (a line per request) only with ``access_log``: requests are counted
    and timed in ``/metrics`` already, and a JSON line per request costs every service CPU
    on the hot path (and the dev stack's console a flood).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = name != "uvicorn.access" or access_log
    # aiokafka logs every rebalance step, httpx every request and aiosmtpd ("mail.log") every
    # SMTP connection and command at INFO (3.8 % of intake-email's CPU under the bench's mail).
    for name in ("aiokafka", "httpx", "httpcore", "mail.log"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
