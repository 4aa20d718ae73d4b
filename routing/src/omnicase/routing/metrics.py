"""routing's Prometheus metrics (beside the kit's, on the same ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DECISIONS = Counter(
    "omnicase_routing_decisions_total",
    "Routing decisions logged, by kind (queued, offered, assigned, waiting, expired …); "
    "counted when made, so a transaction that is retried counts again",
    ["kind"],
)
DECISION_SECONDS = Histogram(
    "omnicase_routing_decision_seconds",
    "The in-memory part of a decision: evaluating the rules, or checking and ranking a queue's agents",
    ["step"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
)
