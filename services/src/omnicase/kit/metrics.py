"""Prometheus metrics the kit records for every service (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "omnicase_http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram("omnicase_http_request_seconds", "HTTP request latency", ["service", "method", "route"])
CONSUMER_MESSAGES = Counter(
    "omnicase_consumer_messages_total",
    "Messages consumed, by outcome (processed, duplicate, dead_lettered)",
    ["consumer", "topic", "outcome"],
)
CONSUMER_HANDLER_SECONDS = Histogram(
    "omnicase_consumer_batch_seconds", "Time to handle and commit one batch", ["consumer", "topic"]
)
CONSUMER_LAG = Gauge(
    "omnicase_consumer_lag", "Messages behind the partition's high watermark", ["consumer", "topic", "partition"]
)
CONSUMER_RETRIES = Counter("omnicase_consumer_retries_total", "Batch retries after a failure", ["consumer", "topic"])
OUTBOX_PUBLISHED = Counter("omnicase_outbox_published_total", "Outbox rows published", ["schema"])
OUTBOX_PENDING_AGE = Gauge(
    "omnicase_outbox_oldest_pending_seconds", "Age of the oldest unpublished outbox row", ["schema"]
)
