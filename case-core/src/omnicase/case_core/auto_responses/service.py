"""Auto-responses: the acknowledgement a new email or web-form case gets, from the shared templates.

The intake decides whether a message may be answered at all and says so in the
message's ``metadata.auto_response``: intake-email when its mailbox sends auto-responses
and the mail is no auto-reply, bounce or bulk mail, has no ``X-Auto-Response-Suppress``
and no null sender; intake-web when the form acknowledges submissions and has the
submitter's address. case-core answers only when that message opens a case (never for a
thread reply), so a new case gets exactly one. The text is the admin's template (per
brand and locale, values escaped in HTML) or, on a fresh install, the built-in default; a
web form may bring its own subject and text (``metadata.auto_response_template``, already
in the shared placeholders), rendered the same way. A mailbox or form may also send suggested
articles (``metadata.suggest_articles``): the answer then ends with up to three help-center links
knowledge chose for the case (articles.py). Every answer carries the case's
reference, so the customer's reply finds the case. intake-email still refuses a second
auto-response to one address within its interval (two auto-responders stop).
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.articles import ArticleSuggester, suggestions_html, suggestions_text
from omnicase.case_core.auto_responses.repository import AutoResponseRepository
from omnicase.case_core.auto_responses.schemas import AutoResponse, AutoResponseTemplate
from omnicase.case_core.cases.repository import CaseRow
from omnicase.case_core.contacts.repository import ContactRow
from omnicase.case_core.dynamic_content.service import DynamicContentService
from omnicase.case_core.messages import reference
from omnicase.case_core.models import config_version
from omnicase.case_core.service import SPEC
from omnicase.case_core.templates import TextVariant, placeholder_values, render_for, render_html, render_text
from omnicase.kit import locales
from omnicase.kit.clock import utcnow
from omnicase.kit.config_version import VersionedCache
from omnicase.kit.events import Channel, MessageReceived, OutboundMessageRequested, Party
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox


@cache
def built_in() -> AutoResponseTemplate:
    """The acknowledgement of a fresh install: English, and a variant per locale the product has one in
    (the kit's locale files; a case's language picks its variant, as for an admin's template)."""
    texts = locales.catalog()
    return AutoResponseTemplate(
        text=locales.text("auto_response", "text", locales.FALLBACK),
        variants=[
            TextVariant(locale=locale, text=texts[locale]["auto_response"]["text"])
            for locale in sorted(locales.shipped() - {locales.FALLBACK})
            if "text" in texts[locale].get("auto_response", {})
        ],
    )


# Channels whose intakes may ask for an acknowledgement (always sent by email).
ACKNOWLEDGED_CHANNELS = frozenset({Channel.EMAIL, Channel.WEB})


def wants_auto_response(message: MessageReceived) -> bool:
    """The intake's verdict; messages from intakes that do not say are not answered."""
    return (
        message.channel in ACKNOWLEDGED_CHANNELS
        and message.metadata.get("auto_response") is True
        and not message.auto_generated
        and bool(message.sender.email)
    )


def wants_suggested_articles(message: MessageReceived) -> bool:
    return message.metadata.get("suggest_articles") is True


def _own_texts(message: MessageReceived) -> tuple[str | None, str | None]:
    """The subject and text a web form brings for its acknowledgement, if it brings any."""
    own = message.metadata.get("auto_response_template")
    if not isinstance(own, dict):
        return None, None
    subject, text = own.get("subject"), own.get("text")
    return (
        subject[:300] if isinstance(subject, str) and subject.strip() else None,
        text[:10_000] if isinstance(text, str) and text.strip() else None,
    )


class AutoResponseService:
    def __init__(self, outbox: Outbox, suggester: ArticleSuggester, content: DynamicContentService) -> None:
        self.outbox = outbox
        self.suggester = suggester
        self.content = content
        # Read for every acknowledged case: kept per process until the template changes anywhere.
        self.template: VersionedCache[AutoResponse] = VersionedCache(
            config_version, lambda session, _version: self.current(session), once_per_transaction=True
        )

    async def current(self, session: AsyncSession) -> AutoResponse:
        row = await AutoResponseRepository(session).stored()
        if row is None:
            return AutoResponse(**built_in().model_dump(), built_in=True)
        return AutoResponse(
            text=row.text,
            variants=list(row.variants),
            built_in=False,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )

    async def save(self, session: AsyncSession, template: AutoResponseTemplate, actor: str) -> AutoResponse:
        await AutoResponseRepository(session).save(
            text=template.text,
            variants=[variant.model_dump(mode="json") for variant in template.variants],
            updated_by=actor,
            updated_at=utcnow(),
        )
        return await self.current(session)

    async def reset(self, session: AsyncSession) -> AutoResponse:
        await AutoResponseRepository(session).delete()
        return await self.current(session)

    async def send(
        self, session: AsyncSession, case: CaseRow, message: MessageReceived, requester: ContactRow | None = None
    ) -> None:
        """Ask the email intake to acknowledge the case ``message`` opened (automatic mail, threaded).

        ``requester``: the case's requester row when the caller holds it (the intake resolved it).
        """
        values = await placeholder_values(session, case, content=self.content, requester=requester)
        own_subject, own_text = _own_texts(message)
        if own_text is not None:
            text, html = render_text(own_text, values), render_html(own_text, values)
        else:
            text, html = render_for(await self.template.current(session), case, values)
        if wants_suggested_articles(message):
            articles = await self.suggester.suggest(case.id, case.subject, message.text, case.brand)
            if articles:
                text, html = text + suggestions_text(articles), html + suggestions_html(articles)
        if own_subject is not None:
            subject = render_text(own_subject, values)
            token_in_subject = f"[#{case.number}]"
            subject = subject if token_in_subject in subject else f"{subject} {token_in_subject}"
        else:
            subject = reference.reply_subject(case.subject, case.number)
        token = case.ref_token
        reply_to = message.metadata.get("reply_to")
        address = reply_to if isinstance(reply_to, str) and "@" in reply_to else message.sender.email
        references = [*message.references, message.message_id] if message.message_id else []
        await self.outbox.add(
            session,
            OutboundMessageRequested(
                outbound_id=uuid7(),
                case_id=case.id,
                channel=Channel.EMAIL,
                to=[Party(email=address, name=message.sender.name)],
                subject=subject,
                text=reference.add_to_text(text, token),
                html=reference.add_to_html(html, token),
                automatic=True,
                in_reply_to=message.message_id,
                references=references[-20:],
                headers={reference.HEADER: reference.marker(token)},
                brand=await self.content.brands.look(session, case.brand, case.language),
            ),
            source=SPEC.name,
            subject=str(case.id),
            key=str(case.id),
        )
