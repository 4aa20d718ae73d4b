"""Staff notifications: recorded in the case's transaction, resolved and handed to the email intake later.

A rule that emails the assignee or a group must not call routing inside the case's
transaction (a slow routing would hold the case's lock; a rolled-back change must not
have sent anything). So the action records a ``pending`` notification in the same
transaction; the background :mod:`.dispatcher` resolves the recipients from routing and
puts ``outbound.notification_requested`` through the outbox (``requested``);
intake-email's ``intake.notification_reported`` settles it (``sent`` / ``failed``).
While routing cannot answer, resolution is retried with backoff; after the last attempt
the notification is ``failed`` with the reason, on the case's record.

Every notification converges: one still ``requested`` after
``notification_report_timeout_seconds`` (its report was lost) is ``failed`` with that
reason, and a report that still arrives later wins. Settled notifications are deleted
after ``notification_retention_days``. A notification about a case carries the case's
hidden reference marker, so an agent who answers it by email (intake-email sets the
mail's Reply-To to the case's mailbox) lands on the case.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.messages import reference
from omnicase.case_core.notifications.repository import NotificationRepository, NotificationRow
from omnicase.case_core.service import SPEC
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.kit.backoff import backoff_seconds
from omnicase.kit.clock import utcnow
from omnicase.kit.events import NotificationReported, NotificationRequested, Party
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox

logger = logging.getLogger(__name__)

RecipientKind = Literal["agent", "group", "email"]

# Start of the reason a notification failed without a report; a report that comes later still settles it.
UNREPORTED = "no send report from the email intake"
PRUNE_BATCH = 1000

NOTIFICATIONS = Counter(
    "omnicase_staff_notifications_total",
    "Staff notifications by outcome: requested (handed to the email intake), retry (routing did not "
    "answer), failed (given up or not sendable), sent / send_failed (the intake's report), "
    "unreported (no report within the timeout)",
    ["outcome"],
)


@dataclass(frozen=True)
class Resolution:
    """Who a notification goes to, or why it cannot go (``permanent``: asking again will not help)."""

    recipients: tuple[Party, ...] = ()
    error: str | None = None
    permanent: bool = False


@dataclass(frozen=True)
class Draft:
    reason: str
    recipient_kind: RecipientKind
    subject: str
    text: str
    html: str | None = None
    recipient_id: uuid.UUID | None = None
    recipient_email: str | None = None
    case_id: uuid.UUID | None = None
    trigger_id: uuid.UUID | None = None
    subscription_id: uuid.UUID | None = None
    brand: str | None = None
    # Known at once not to be sendable (e.g. the case has no assignee): recorded failed.
    failed: str | None = None


class NotificationService:
    def __init__(self, settings: CaseCoreSettings, outbox: Outbox) -> None:
        self.settings = settings
        self.outbox = outbox

    async def of_case(
        self, session: AsyncSession, case_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> list[NotificationRow]:
        return await NotificationRepository(session).of_case(case_id, after=after, limit=limit)

    async def queue(self, session: AsyncSession, draft: Draft) -> NotificationRow:
        """Record a notification in the caller's transaction; it goes out only if that commits."""
        now = utcnow()
        return await NotificationRepository(session).insert(
            NotificationRow(
                id=uuid7(),
                reason=draft.reason[:200],
                case_id=draft.case_id,
                trigger_id=draft.trigger_id,
                subscription_id=draft.subscription_id,
                recipient_kind=draft.recipient_kind,
                recipient_id=draft.recipient_id,
                recipient_email=draft.recipient_email,
                subject=draft.subject[:500],
                text=draft.text,
                html=draft.html,
                brand=draft.brand,
                status="failed" if draft.failed else "pending",
                next_attempt_at=None if draft.failed else now,
                last_error=draft.failed,
                created_at=now,
                updated_at=now,
            ),
        )

    async def record(self, session: AsyncSession, notification: NotificationRow, resolution: Resolution) -> None:
        """The outcome of one resolution attempt: hand it to the intake, retry later, or give up."""
        current = await NotificationRepository(session).get(notification.id, lock=True)
        if current is None or current.status != "pending":
            return  # settled meanwhile (a replica whose lease ran out); never send twice
        now = utcnow()
        attempts = current.attempts + 1
        values: dict[str, object] = {"attempts": attempts, "updated_at": now}
        if resolution.error is None and resolution.recipients:
            text, html = current.text, current.html
            token = await NotificationRepository(session).case_ref_token(current.case_id) if current.case_id else None
            if token is not None:
                # An agent's emailed answer quotes it and so threads into the case.
                text = reference.add_to_text(text, token)
                html = reference.add_to_html(html, token) if html else None
            await self.outbox.add(
                session,
                NotificationRequested(
                    notification_id=current.id,
                    reason=current.reason,
                    to=list(resolution.recipients),
                    subject=current.subject,
                    text=text,
                    html=html,
                    case_id=current.case_id,
                    brand=current.brand,
                ),
                source=SPEC.name,
                subject=str(current.case_id or current.id),
                key=str(current.case_id or current.id),
            )
            NOTIFICATIONS.labels("requested").inc()
            values |= {
                "status": "requested",
                "recipients": [party.email for party in resolution.recipients],
                "next_attempt_at": None,
                "last_error": None,
            }
        else:
            error = resolution.error or "nobody to send it to"
            give_up = resolution.permanent or attempts >= self.settings.notification_max_attempts
            NOTIFICATIONS.labels("failed" if give_up else "retry").inc()
            if give_up:
                values |= {"status": "failed", "next_attempt_at": None, "last_error": error}
                logger.warning(
                    "staff notification failed",
                    extra={"notification_id": str(current.id), "reason": current.reason, "error": error},
                )
            else:
                delay = backoff_seconds(
                    attempts,
                    base=self.settings.notification_retry_base_seconds,
                    cap=self.settings.notification_retry_max_seconds,
                )
                values |= {"next_attempt_at": now + timedelta(seconds=delay), "last_error": error}
        await NotificationRepository(session).update(current.id, values)

    async def reported(self, session: AsyncSession, report: NotificationReported) -> None:
        """The email intake's word on a requested notification."""
        current = await NotificationRepository(session).get(report.notification_id, lock=True)
        if current is None or current.status == "sent":
            return
        if current.status == "failed" and not (current.last_error or "").startswith(UNREPORTED):
            return
        NOTIFICATIONS.labels("sent" if report.status == "sent" else "send_failed").inc()
        values: dict[str, object] = {"status": report.status, "updated_at": utcnow()}
        if report.status == "failed":
            values["last_error"] = report.error or "the email intake could not send it"
        await NotificationRepository(session).update(current.id, values)

    async def housekeep(self, session: AsyncSession) -> tuple[int, int]:
        """Fail notifications whose report never came, delete old settled ones; (failed, deleted)."""
        now = utcnow()
        timeout = self.settings.notification_report_timeout_seconds
        failed = await NotificationRepository(session).fail_unreported(
            requested_before=now - timedelta(seconds=timeout),
            reason=f"{UNREPORTED} within {timeout:g} s (the report was lost, or the intake never got it)",
            now=now,
        )
        if failed:
            NOTIFICATIONS.labels("unreported").inc(failed)
            logger.warning("staff notifications without a send report marked failed", extra={"count": failed})
        deleted = await NotificationRepository(session).prune(
            created_before=now - timedelta(days=self.settings.notification_retention_days), limit=PRUNE_BATCH
        )
        return failed, deleted
