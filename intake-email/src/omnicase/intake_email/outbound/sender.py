"""Deliver queued outbound mail through the configured SMTP relay (aiosmtplib).

Each round leases due messages in one short transaction (``FOR UPDATE SKIP LOCKED``,
so replicas share the queue and no message is sent by two of them), sends them
outside any transaction, then records each outcome with its ``intake.delivery_reported``
event in a second one. Temporary failures (4xx replies, connection trouble) retry
with exponential backoff; permanent ones (5xx) or running out of attempts fail the
message and report it on the case. A crash between sending and recording sends the
message again after the lease: at-least-once, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiosmtplib

from omnicase.intake_email.metrics import EMAIL_SENT
from omnicase.intake_email.outbound.repository import AnyRow, OutboundRepository
from omnicase.intake_email.outbound.service import OutboundService
from omnicase.intake_email.outbound.templates import TemplateRenderer
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.app import Runtime
from omnicase.kit.clock import utcnow
from omnicase.kit.periodic import periodic

if TYPE_CHECKING:
    from omnicase.intake_email.state import IntakeEmailRuntime

logger = logging.getLogger(__name__)

BATCH = 20


class PermanentFailure(Exception):
    pass


class TemporaryFailure(Exception):
    pass


def backoff(settings: IntakeEmailSettings, attempts: int) -> float:
    return float(
        min(settings.send_backoff_initial_seconds * 2 ** max(0, attempts - 1), settings.send_backoff_max_seconds)
    )


class SmtpRelay:
    def __init__(self, settings: IntakeEmailSettings) -> None:
        self.settings = settings
        self.tls_context: ssl.SSLContext | None = None
        if settings.relay_ca_file:
            self.tls_context = ssl.create_default_context(cafile=settings.relay_ca_file)

    async def send(self, raw: bytes, *, sender: str, recipients: list[str]) -> str:
        """Send; returns the relay's reply. Raises :class:`PermanentFailure` or :class:`TemporaryFailure`."""
        settings = self.settings
        options: dict[str, Any] = {
            "hostname": settings.relay_host,
            "port": settings.relay_port,
            "sender": sender,
            "recipients": recipients,
            "timeout": settings.relay_timeout_seconds,
            "use_tls": settings.relay_use_tls,
            "start_tls": settings.relay_starttls if not settings.relay_use_tls else False,
            "username": settings.relay_username,
            "password": settings.relay_password.get_secret_value() if settings.relay_password else None,
        }
        if self.tls_context is not None:
            options["tls_context"] = self.tls_context
        try:
            _, reply = await aiosmtplib.send(raw, **options)
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            detail = "; ".join(f"{refusal.recipient}: {refusal.code} {refusal.message}" for refusal in error.recipients)
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipients refused: {detail}") from error
            raise TemporaryFailure(f"recipients deferred: {detail}") from error
        except aiosmtplib.SMTPResponseException as error:
            message = f"{error.code} {error.message}"
            if error.code >= 500 and error.code not in (530, 535):
                raise PermanentFailure(message) from error
            # 530/535 (authentication) are configuration problems an operator can fix.
            raise TemporaryFailure(message) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise TemporaryFailure(f"relay unreachable: {error!r}") from error
        return reply


class OutboundSender:
    def __init__(
        self, runtime: Runtime[IntakeEmailSettings, Any], relay: SmtpRelay, renderer: TemplateRenderer
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.relay = relay
        self.renderer = renderer

    def _service(self, session: Any) -> OutboundService:
        return OutboundService(
            session,
            settings=self.settings,
            outbox=self.runtime.outbox,
            blobs=self.runtime.blobs,
            renderer=self.renderer,
            source=self.runtime.spec.name,
        )

    async def run_once(self) -> int:
        """Send what is due; returns how many were attempted."""
        lease = timedelta(seconds=self.settings.send_lease_seconds)
        async with self.runtime.database.unit_of_work() as session:
            rows = await OutboundRepository(session).claim_due(utcnow(), lease, BATCH)
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def _deliver(self, row: AnyRow) -> None:
        outcome: tuple[str, str | None]
        try:
            await self.relay.send(bytes(row.raw), sender=row.mail_from, recipients=list(row.recipients))
            outcome = ("sent", None)
        except PermanentFailure as error:
            outcome = ("failed", str(error))
        except TemporaryFailure as error:
            outcome = (
                ("retry", str(error)) if row.attempts < self.settings.send_max_attempts else ("failed", str(error))
            )
        except Exception as error:  # never let one message stop the sender
            logger.exception("unexpected error sending", extra={"outbound_id": str(row.id)})
            outcome = ("retry", repr(error))
        status, error_text = outcome
        EMAIL_SENT.labels(row.kind, status).inc()
        async with self.runtime.database.unit_of_work() as session:
            repository = OutboundRepository(session)
            service = self._service(session)
            now = utcnow()
            if status == "sent":
                await repository.mark_sent(row.id, now)
                await service.report(row.id, row.case_id, "sent", message_id=row.message_id, kind=row.kind)
                logger.info("outbound mail sent", extra={"outbound_id": str(row.id), "kind": row.kind})
            elif status == "retry":
                delay = backoff(self.settings, row.attempts)
                await repository.mark_retry(row.id, now + timedelta(seconds=delay), error_text or "")
                logger.warning(
                    "outbound mail deferred", extra={"outbound_id": str(row.id), "error": error_text, "retry_in": delay}
                )
            else:
                await repository.mark_failed(row.id, error_text or "failed")
                await service.report(row.id, row.case_id, "failed", error=error_text, kind=row.kind)
                logger.warning("outbound mail failed", extra={"outbound_id": str(row.id), "error": error_text})


async def start_outbound_sender(runtime: IntakeEmailRuntime) -> Callable[[], Awaitable[None]] | None:
    """Background starter: the loop of the state's :class:`OutboundSender`."""
    settings, sender = runtime.settings, runtime.state.sender
    # Sends again at once while there was mail to send; waits the poll interval once there is none.
    loop = periodic("intake-email-sender", settings.send_poll_interval_seconds, sender.run_once, busy=bool)
    return loop.stop
