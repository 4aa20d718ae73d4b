"""The gateway's own Prometheus metrics, beside the kit's per-route ones.

The kit labels every proxied request with the one catch-all route; these say
which service answered, how fast, and how often callers were turned away.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

UPSTREAM_REQUESTS = Counter(
    "omnicase_gateway_upstream_requests_total",
    "Requests forwarded to a service, by its answer (or unreachable, timeout)",
    ["upstream", "method", "status"],
)
UPSTREAM_SECONDS = Histogram(
    "omnicase_gateway_upstream_seconds", "Time until a service's response headers arrived", ["upstream"]
)
REFUSED = Counter(
    "omnicase_gateway_refused_total",
    "Requests the gateway refused itself (unauthenticated, forbidden, rate_limited)",
    ["reason"],
)
LOGINS = Counter("omnicase_gateway_logins_total", "Token requests, by outcome", ["grant", "outcome"])
RATE_LIMIT_LOCAL = Counter(
    "omnicase_gateway_rate_limit_local_total",
    "Requests counted in the replica's own memory because the shared counters in PostgreSQL did not answer",
)
STREAMS_OPEN = Gauge("omnicase_gateway_streams_open", "Live event streams open on this replica", ["audience"])
STREAM_EVENTS = Counter("omnicase_gateway_stream_events_total", "Events written to live streams", ["audience"])
STREAMS_ENDED = Counter(
    "omnicase_gateway_streams_ended_total",
    "Live streams that ended, by why (client_gone, max_duration, lagging, shutdown)",
    ["reason"],
)
