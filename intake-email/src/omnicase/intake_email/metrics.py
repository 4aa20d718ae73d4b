"""Prometheus metrics of the email channel (served on the kit's ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter

EMAIL_RECEIVED = Counter(
    "omnicase_email_received_total",
    "Inbound messages stored, by route and disposition (pending, dropped, suspended, duplicate)",
    ["route", "status"],
)
EMAIL_REFUSED = Counter(
    "omnicase_email_refused_total",
    "Inbound messages refused, by route and reason (no_sender, cannot_store)",
    ["route", "reason"],
)
EMAIL_SENT = Counter(
    "omnicase_email_sent_total",
    "Outbound delivery attempts, by kind (reply, auto_response, notification, verification) "
    "and outcome (sent, retry, failed)",
    ["kind", "outcome"],
)
EMAIL_REPUBLISHED = Counter("omnicase_email_republished_total", "Unacknowledged inbound messages published again")
