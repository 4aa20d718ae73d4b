"""intake-web's own Prometheus metrics."""

from prometheus_client import Counter

REJECTIONS = Counter(
    "omnicase_intake_web_rejections_total",
    "Inbound requests refused without creating anything, by channel and reason",
    ["channel", "reason"],
)
ACCEPTED = Counter("omnicase_intake_web_accepted_total", "Inbound messages stored", ["channel"])
DELIVERIES = Counter("omnicase_intake_web_deliveries_total", "Outbound delivery attempts by outcome", ["outcome"])
REPUBLISHED = Counter("omnicase_intake_web_republished_total", "Unacknowledged messages published again")
WIDGET_REPLIES_MAILED = Counter(
    "omnicase_intake_web_widget_replies_mailed_total",
    "Chat replies the visitor left unread, asked of case-core to go by email",
)
HELD_HANDED_OVER = Counter(
    "omnicase_intake_web_widget_held_handed_over_total",
    "Chat questions held back for answers first, then handed to the desk (asked for, timed out, or no articles)",
)
HELD_ANSWERED = Counter(
    "omnicase_intake_web_widget_held_answered_total",
    "Chat questions held back for answers first that an article answered: no case was opened",
)
