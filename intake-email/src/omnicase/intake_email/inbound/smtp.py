"""The SMTP listener (aiosmtpd) that takes mail for configured mailboxes.

Conversation rules (RFC 5321 reply codes with RFC 3463 enhanced codes):

- ``RCPT`` for an address that is no mailbox: ``550 5.1.1``; when the mailbox table
  cannot be read: ``451 4.3.0`` (the client retries later). Mailboxes come from the
  process's :class:`~omnicase.intake_email.mailboxes.cache.MailboxCache` (an address not
  in it is looked up, so a mailbox just created elsewhere is found).
- ``SIZE`` is advertised; a declared or actual size above ``max_message_bytes``:
  ``552 5.3.4``.
- ``250`` after ``DATA`` only once the raw message, its attachments and its
  ``intake.message_received`` outbox row are committed in one transaction (a handful of
  statements whatever the number of recipients and attachments; two for the common
  message to one mailbox);
  ``451 4.3.0`` when that commit fails (nothing is stored, the client retries).
- ``STARTTLS`` when a certificate is configured.

The listener runs on the service's own event loop, so it shares the database pool
and the outbox with the HTTP routes; each connection is its own protocol instance.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from omnicase.intake_email.inbound.service import Inbound, NoSenderAddress, count_received, receive
from omnicase.intake_email.metrics import EMAIL_REFUSED
from omnicase.intake_email.parsing.mime import parse_without_blocking
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.inputs import email_key

if TYPE_CHECKING:
    from omnicase.intake_email.state import IntakeEmailRuntime

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 100

# A line is anything up to CRLF (only CRLF.CRLF ends the data, so a bare LF never smuggles
# a second message in): a message written with bare LFs is one long line to aiosmtpd.
_BARE_LF = re.compile(rb"(?<!\r)\n")
BARE_LF_REPLY = "550 5.5.2 Lines must end in CRLF, not a bare LF (RFC 5321 section 2.3.8); nothing was stored"

_REWRITES = {
    "500 Line too long (see RFC5321 4.5.3.1.6)": (
        "500 5.5.2 Line too long: over 1000 bytes, or lines ending in a bare LF instead of CRLF "
        "(RFC 5321 sections 4.5.3.1.6 and 2.3.8); nothing was stored"
    ),
    "552 Error: Too much mail data": "552 5.3.4 Message size exceeds the fixed maximum message size",
    "552 Error: message size exceeds fixed maximum message size": (
        "552 5.3.4 Message size exceeds the fixed maximum message size"
    ),
}


class _Server(SMTP):
    """aiosmtpd's server with enhanced status codes on its own size replies."""

    registry: set[_Server] | None = None

    async def push(self, status: Any) -> None:
        if isinstance(status, str):
            status = _REWRITES.get(status, status)
        await super().push(status)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.registry is not None:
            self.registry.discard(self)


class IntakeHandler:
    """aiosmtpd hooks: decide on each recipient, commit each message."""

    def __init__(self, runtime: IntakeEmailRuntime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.mailboxes = runtime.state.mailboxes

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            mailbox = await self.mailboxes.by_address(address)
        except Exception:
            logger.exception("mailbox lookup failed")
            return "451 4.3.0 Cannot check the recipient now; try again later"
        if mailbox is None:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if _BARE_LF.search(raw):
            EMAIL_REFUSED.labels("smtp", "bare_lf").inc()
            return BARE_LF_REPLY
        inbound = Inbound(
            raw=raw,
            route="smtp",
            # aiosmtpd reports the null sender as "<>"; everywhere else it is "".
            envelope_from="" if envelope.mail_from in (None, "<>") else envelope.mail_from.strip("<>"),
            envelope_to=[email_key(address) for address in envelope.rcpt_tos],
            peer=str(session.peer[0]) if session.peer else None,
        )
        parsed = await parse_without_blocking(raw)
        try:
            mailboxes = await self.mailboxes.by_addresses(inbound.envelope_to)
            results = await receive(
                self.runtime.database,
                inbound,
                parsed,
                list(mailboxes.values()),
                outbox=self.runtime.outbox,
                blobs=self.runtime.blobs,
                settings=self.settings,
                source=self.runtime.spec.name,
            )
        except NoSenderAddress as error:
            EMAIL_REFUSED.labels("smtp", "no_sender").inc()
            return f"550 5.1.7 Rejected: {error}"
        except Exception:
            EMAIL_REFUSED.labels("smtp", "cannot_store").inc()
            logger.exception("could not store an inbound message", extra={"peer": inbound.peer})
            return "451 4.3.0 Cannot store the message now; try again later"
        count_received("smtp", results)
        if not results:  # every mailbox was removed between RCPT and DATA
            return "451 4.3.0 Recipient no longer configured; try again later"
        ids = " ".join(str(result.intake_id) for result in results)
        return f"250 2.0.0 OK queued as {ids}"


def _tls_context(settings: IntakeEmailSettings) -> ssl.SSLContext | None:
    if not settings.smtp_tls_cert_file:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.smtp_tls_cert_file, settings.smtp_tls_key_file)
    return context


class SmtpListener:
    """The SMTP server once it listens; its port (``smtp_port`` 0 in the settings picks one)."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self.server is None:
            raise RuntimeError("the SMTP listener has not started")
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    def serving(self) -> bool:
        return self.server is not None and self.server.is_serving()


async def start_smtp_listener(runtime: IntakeEmailRuntime) -> Callable[[], Awaitable[None]] | None:
    """Background starter: listen on ``smtp_host:smtp_port``, as the state's :class:`SmtpListener`."""
    settings = runtime.settings
    if not settings.smtp_enabled:
        return None
    loop = asyncio.get_running_loop()
    handler = IntakeHandler(runtime)
    tls_context = _tls_context(settings)
    connections: set[_Server] = set()

    def factory() -> _Server:
        protocol = _Server(
            handler,
            data_size_limit=settings.max_message_bytes,
            hostname=settings.smtp_hostname,
            ident="Omnicase ESMTP",
            tls_context=tls_context,
            require_starttls=settings.smtp_require_starttls and tls_context is not None,
            timeout=settings.smtp_timeout_seconds,
            loop=loop,
        )
        protocol.registry = connections
        connections.add(protocol)
        return protocol

    # shared_port: several processes of intake-email share the SMTP port (the kernel spreads sessions).
    server = await loop.create_server(
        factory, host=settings.smtp_host, port=settings.smtp_port, reuse_port=settings.shared_port
    )
    runtime.state.smtp.server = server
    logger.info("SMTP listener started", extra={"host": settings.smtp_host, "smtp_port": runtime.state.smtp.port})

    async def stop() -> None:
        server.close()
        for protocol in list(connections):
            transport = protocol.transport
            if transport is not None:
                transport.close()
        await server.wait_closed()

    return stop


async def smtp_listening(runtime: IntakeEmailRuntime) -> None:
    """Readiness: the listener accepts connections."""
    if not runtime.state.smtp.serving():
        raise RuntimeError("SMTP listener is not serving")
