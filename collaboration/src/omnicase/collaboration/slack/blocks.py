"""The case's summary as a Slack Block Kit message, the first message of a swarm's thread."""

from __future__ import annotations

from typing import Any

from omnicase.collaboration.cases.repository import CaseRecord
from omnicase.collaboration.swarms.repository import SwarmRecord


def _escape(text: str) -> str:
    # Slack's mrkdwn: these three are control characters (https://api.slack.com/reference/surfaces/formatting).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def case_summary(case: CaseRecord, swarm: SwarmRecord, case_url: str) -> dict[str, Any]:
    """``text`` (notifications' fallback) and ``blocks``: subject, customer, priority, SLA due, link, question."""
    title = f"Swarm on case #{case.number}: {case.subject}"
    fields = [
        ("Customer", str(case.requester_id) if case.requester_id else "—"),
        ("Priority", case.priority),
        ("Urgency", swarm.urgency),
        ("SLA due", "—"),
    ]
    return {
        "text": _escape(title)[:3000],
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{_escape(value)}"} for name, value in fields],
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
