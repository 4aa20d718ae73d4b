"""What intake-email holds while it runs, built in one place at start.

The mailbox cache, the outbound sender, the IMAP poller and the SMTP listener are
built here; the background starters run them (a sender is built even when
``send_mail`` is off, so tests can run one round by hand).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from omnicase.intake_email.inbound.imap import ImapPoller
from omnicase.intake_email.inbound.smtp import SmtpListener
from omnicase.intake_email.mailboxes.cache import MailboxCache
from omnicase.intake_email.mailboxes.secrets import MailboxSecrets
from omnicase.intake_email.outbound.sender import OutboundSender, SmtpRelay
from omnicase.intake_email.outbound.templates import TemplateRenderer
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.app import Runtime
from omnicase.kit.brands import BrandDirectory


@dataclass(frozen=True)
class IntakeEmailState:
    renderer: TemplateRenderer
    # Every mailbox, read by SMTP's RCPT without a query; emptied when one changes.
    mailboxes: MailboxCache
    sender: OutboundSender
    imap: ImapPoller
    smtp: SmtpListener
    # Seals and opens the mailboxes' webhook secrets (stored sealed).
    mailbox_secrets: MailboxSecrets
    # case-core's brands: those mailboxes may name.
    brands: BrandDirectory


IntakeEmailRuntime = Runtime[IntakeEmailSettings, IntakeEmailState]


def intake_email_state(
    renderer: TemplateRenderer,
) -> Callable[[Runtime[IntakeEmailSettings, Any]], AbstractAsyncContextManager[IntakeEmailState]]:
    """The state factory, sharing ``renderer`` with the consumer's handler."""

    @asynccontextmanager
    async def build(runtime: Runtime[IntakeEmailSettings, Any]) -> AsyncIterator[IntakeEmailState]:
        settings = runtime.settings
        brands = BrandDirectory.asked_by("intake-email", settings)
        try:
            yield IntakeEmailState(
                renderer=renderer,
                mailboxes=MailboxCache(runtime.database),
                sender=OutboundSender(runtime, SmtpRelay(settings), renderer),
                imap=ImapPoller(runtime),
                smtp=SmtpListener(),
                mailbox_secrets=MailboxSecrets(settings.sealer()),
                brands=brands,
            )
        finally:
            await brands.aclose()

    return build
