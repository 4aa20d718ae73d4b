"""The case's summary as a Slack Block Kit message, the first message of a swarm's thread."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from omnicase.collaboration.cases.desk import CaseView
from omnicase.collaboration.swarms.repository import SwarmRecord


def _escape(text: str) -> str:
    # Slack's mrkdwn: these three are control characters (https://api.slack.com/reference/surfaces/formatting).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date(moment: datetime) -> str:
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def case_summary(case: CaseView, swarm: SwarmRecord, case_url: str, sla_due: datetime | None) -> dict[str, Any]:
    """``text`` (notifications' fallback) and ``blocks``: subject, customer, priority, SLA due, link, question."""
    title = f"Swarm on case #{case.number}: {case.subject}"
    fields = [
        # Values in mrkdwn, escaped; the due time is Slack's date token.
        ("Customer", _escape(str(case.requester_id)) if case.requester_id else "—"),
        ("Priority", _escape(case.priority)),
        ("Urgency", _escape(swarm.urgency)),
        # Slack shows the time in each reader's own time zone (<!date^…>), the UTC time as fallback.
        ("SLA due", _date(sla_due) if sla_due else "—"),
    ]
    return {
        "text": _escape(title)[:3000],
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields],
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Question*\n{_escape(swarm.question)[:2900]}"}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open the case"}, "url": case_url}
                ],
            },
        ],
    }


def mirrored(channel: str, thread_ts: str, author: str, text: str) -> dict[str, Any]:
    """A message posted in Omnicase, as the bot's reply in the swarm's thread, naming its author."""
    return {"channel": channel, "thread_ts": thread_ts, "text": f"*{_escape(author)}*: {_escape(text)}"[:40_000]}
