"""Turn escalation and automation actions into commands: ``case.commands`` and
``outbound.messages`` through the outbox, webhook deliveries as timers (so they are
retried with backoff by the scheduler). Case state is never written here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
    CaseStatus,
    ChangeCase,
    Channel,
    OutboundMessageRequested,
    Party,
    Priority,
    SetCaseStatus,
)
from omnicase.kit.ids import uuid7
from omnicase.sla_engine.events_out import EventSink
from omnicase.sla_engine.rules import (
    Action,
    AddTags,
    InternalNote,
    MoveToGroup,
    NotifyEmail,
    NotifyWebhook,
    RaisePriority,
    RemoveTags,
    SetPriority,
    SetStatus,
)
from omnicase.sla_engine.scheduler.repository import TimerRepository
from omnicase.sla_engine.service import SPEC

WEBHOOK_TIMER = "webhook"
PRIORITIES = list(Priority)  # low … urgent


async def perform(
    session: AsyncSession,
    outbox: EventSink,
    case_id: uuid.UUID,
    actions: Sequence[Action],
    *,
    priority: Priority,
    reason: str,
    summary: str,
    body: dict[str, Any],
) -> None:
    """Issue ``actions`` on ``case_id`` (now at ``priority``): field changes as one ``ChangeCase``, the rest one
    by one."""
    change = ChangeCase(case_id=case_id, reason=reason)
    changed = False
    subject, key = str(case_id), str(case_id)
    for action in actions:
        match action:
            case SetPriority(priority=wanted):
                change.priority, changed = wanted, True
            case RaisePriority():
                current = change.priority or priority
                if current != PRIORITIES[-1]:
                    change.priority, changed = PRIORITIES[PRIORITIES.index(current) + 1], True
            case MoveToGroup(group_id=group_id):
                change.group_id, changed = group_id, True
            case AddTags(tags=tags):
                change.add_tags, changed = [*change.add_tags, *tags], True
            case RemoveTags(tags=tags):
                change.remove_tags, changed = [*change.remove_tags, *tags], True
            case InternalNote(text=text):
                note = text if change.internal_note is None else f"{change.internal_note}\n\n{text}"
                change.internal_note, changed = note, True
            case SetStatus(status=status):
                command = SetCaseStatus(case_id=case_id, status=CaseStatus(status), reason=reason)
                await outbox.add(session, command, source=SPEC.name, subject=subject, key=key)
            case NotifyEmail(to=to, subject=mail_subject, text=text):
                message = OutboundMessageRequested(
                    outbound_id=uuid7(),
                    case_id=case_id,
                    channel=Channel.EMAIL,
                    to=[Party(email=address) for address in to],
                    subject=mail_subject or summary,
                    text=text or summary,
                    automatic=True,
                )
                await outbox.add(session, message, source=SPEC.name, subject=subject, key=key)
            case NotifyWebhook(url=url):
                await TimerRepository(session).schedule(
                    f"webhook:{uuid7()}",
                    WEBHOOK_TIMER,
                    utcnow(),
                    case_id=case_id,
                    payload={"url": str(url), "body": body},
                )
    if changed:
        await outbox.add(session, change, source=SPEC.name, subject=subject, key=key)
