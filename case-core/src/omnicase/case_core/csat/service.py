"""CSAT: the survey settings admins keep, the survey a solved case's requester gets, and its links.

When a case is solved (``CaseService.solved``, in the solving transaction) a survey is
scheduled for that solve, at most one per case and solve time, due ``delay_seconds`` later:
the due time is a row, so a restart or downtime loses none and an overdue survey goes out
once (the sweeper claims due rows with ``FOR UPDATE SKIP LOCKED``, any number of replicas).
A solve that must not be surveyed is kept as ``skipped`` with the reason, so staff can see
why a requester got none: surveys off, solved by automation (a trigger, a command) without
any public reply on the case, the case tagged ``spam``, no requester, the requester opted out.
When due, a survey whose case was reopened (or merged away) meanwhile, whose requester opted
out or whose surveys were turned off is skipped; else it goes to the requester through the
case's own channel (``CaseService.request_outbound``: email threaded into the conversation,
or the messaging conversation), its Good and Bad links carrying sealed tokens.

A link's token is the kit's sealed value of ``<survey id>:<rating>`` under this service's
master keys and a context of its own: it cannot be forged or turned into the other rating.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseRepository, CaseRow
from omnicase.case_core.cases.service import CaseService, Rating, Satisfaction, reply_channel
from omnicase.case_core.contacts.repository import ContactRepository
from omnicase.case_core.csat.repository import CsatRepository, SurveyRow, SurveyValues
from omnicase.case_core.csat.schemas import CsatOptOut, CsatSettings, CsatSettingsInput, CsatText, built_in_texts
from omnicase.case_core.errors import ContactNotFound, OptOutNotFound, SurveyClosed, SurveyLinkUnknown
from omnicase.case_core.identity import Actor
from omnicase.case_core.models import config_version
from omnicase.case_core.service import SPEC
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.templates import placeholder_values, render_html, render_text
from omnicase.kit.clock import utcnow
from omnicase.kit.config_version import VersionedCache
from omnicase.kit.errors import FieldError, ValidationFailed
from omnicase.kit.events import CaseSatisfactionSurveySent, CaseStatus
from omnicase.kit.ids import uuid7
from omnicase.kit.sealing import SealingError

logger = logging.getLogger(__name__)

DEFAULT = CsatSettingsInput(enabled=False)
SWEEP_BATCH = 50
LINK_CONTEXT = "case_core.csat_surveys.link"
SPAM_TAG = "spam"
# Who solves a case without a person behind it: triggers and commands (sla-engine's automations).
AUTOMATION = frozenset({"trigger", "command"})

RATINGS: tuple[Rating, ...] = ("good", "bad")
RATING_WINDOW = timedelta(days=28)
MAX_COMMENT = 2_000


@dataclass(frozen=True)
class SurveyView:
    """What the public page shows: the survey, its case, the texts and reasons, the link's rating."""

    survey: SurveyRow
    case: CaseRow
    texts: CsatText
    reasons: list[str]
    link: Rating
    open: bool
    # The locale ``texts`` are written in (the page marks them when its own words are in another).
    texts_locale: str = "en"


class AnswerInvalid(ValidationFailed):
    """The page's form broke a rule (the page is shown again with the errors)."""

    def __init__(self, view: SurveyView, errors: list[FieldError]) -> None:
        super().__init__("The answer could not be kept as given.", errors=errors)
        self.view = view


def text_for(settings: CsatSettingsInput, language: str | None) -> CsatText:
    """The texts for a case's language: the admin's, else the built-in ones; its base language; English."""
    return located_text_for(settings, language)[1]


def located_text_for(settings: CsatSettingsInput, language: str | None) -> tuple[str, CsatText]:
    """:func:`text_for` with the locale of the texts it picked."""
    wanted = (language or "").lower()
    built_in = built_in_texts()
    for locale in (wanted, wanted.split("-")[0]):
        if locale in settings.texts:
            return locale, settings.texts[locale]
        if locale in built_in:
            return locale, built_in[locale]
    return "en", settings.texts.get("en", built_in["en"])


class CsatService:
    def __init__(self, settings: CaseCoreSettings, cases: CaseService) -> None:
        self.cases = cases
        self.sealer = settings.sealer()
        self.public_base_url = settings.public_base_url.rstrip("/")
        # Read for every solved case: kept per process until the settings change anywhere.
        self.settings: VersionedCache[CsatSettings] = VersionedCache(
            config_version, lambda session, _version: self.current(session), once_per_transaction=True
        )

    # -- settings ----------------------------------------------------------------------

    async def current(self, session: AsyncSession) -> CsatSettings:
        row = await CsatRepository(session).stored_settings()
        built_in_locales = sorted(built_in_texts())
        if row is None:
            return CsatSettings(**DEFAULT.model_dump(), built_in=True, built_in_locales=built_in_locales)
        return CsatSettings(
            enabled=row.enabled,
            delay_seconds=row.delay_seconds,
            reasons=list(row.reasons),
            texts={locale: CsatText.model_validate(text) for locale, text in row.texts.items()},
            built_in=False,
            built_in_locales=built_in_locales,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )

    async def save(self, session: AsyncSession, settings: CsatSettingsInput, actor: str) -> CsatSettings:
        await CsatRepository(session).save_settings(
            enabled=settings.enabled,
            delay_seconds=settings.delay_seconds,
            reasons=settings.reasons,
            texts={locale: text.model_dump(mode="json") for locale, text in settings.texts.items()},
            updated_by=actor,
            updated_at=utcnow(),
        )
        return await self.current(session)

    # -- opt-outs ------------------------------------------------------------------------

    async def opt_out(self, session: AsyncSession, contact_id: uuid.UUID, actor: str) -> CsatOptOut:
        if await ContactRepository(session).get(contact_id) is None:
            raise ContactNotFound(f"Contact {contact_id} does not exist.")
        row = await CsatRepository(session).opt_out(contact_id, by=actor, at=utcnow())
        return CsatOptOut(contact_id=row.contact_id, opted_out_by=row.opted_out_by, opted_out_at=row.opted_out_at)

    async def opt_out_of(self, session: AsyncSession, contact_id: uuid.UUID) -> CsatOptOut:
        row = await CsatRepository(session).opted_out(contact_id)
        if row is None:
            raise OptOutNotFound(f"Contact {contact_id} has not opted out of surveys (or does not exist).")
        return CsatOptOut(contact_id=row.contact_id, opted_out_by=row.opted_out_by, opted_out_at=row.opted_out_at)

    async def opt_in(self, session: AsyncSession, contact_id: uuid.UUID) -> None:
        if not await CsatRepository(session).opt_in(contact_id):
            raise OptOutNotFound(f"Contact {contact_id} has not opted out of surveys (or does not exist).")

    # -- scheduling (in the solving transaction) ---------------------------------------

    async def for_case(
        self, session: AsyncSession, case: CaseRow, settings: CsatSettings | None = None
    ) -> CsatSettings:
        """The suite's settings with the case brand's overrides (brands' ``csat``): on or off, the delay,
        and its texts per locale before the suite's."""
        settings = settings or await self.settings.current(session)
        brand = (await self.cases.brands.current(session)).of_slug(case.brand)
        own = brand.csat if brand is not None else None
        if not own:
            return settings
        changes: dict[str, Any] = {
            name: own[name] for name in ("enabled", "delay_seconds") if own.get(name) is not None
        }
        if own.get("texts"):
            brand_texts = {locale: CsatText.model_validate(text) for locale, text in own["texts"].items()}
            changes["texts"] = {**settings.texts, **brand_texts}
        return settings.model_copy(update=changes)

    async def solved(self, session: AsyncSession, case: CaseRow, actor: Actor) -> None:
        """Schedule the survey of this solve (or keep why there is none); nothing while surveys are off."""
        settings = await self.for_case(session, case)
        if not settings.enabled or case.solved_at is None:
            return
        skip = await self._no_survey(session, case, actor)
        survey = SurveyRow(
            id=uuid7(),
            case_id=case.id,
            solved_at=case.solved_at,
            due_at=case.solved_at + timedelta(seconds=settings.delay_seconds),
            status="skipped" if skip else "scheduled",
            skip_reason=skip,
        )
        await CsatRepository(session).schedule(survey)

    async def _no_survey(self, session: AsyncSession, case: CaseRow, actor: Actor) -> str | None:
        if actor.via in AUTOMATION and case.first_public_reply_at is None:
            return "solved by automation without a public reply"
        if SPAM_TAG in case.tags:
            return "the case is spam"
        if case.requester_id is None:
            return "the case has no requester"
        if await CsatRepository(session).opted_out(case.requester_id) is not None:
            return "the requester opted out of surveys"
        return None

    # -- sending (the sweeper) ---------------------------------------------------------

    async def send_due(self, session: AsyncSession) -> int:
        """Send (or skip) the surveys due now, one batch; returns how many were settled."""
        now = utcnow()
        repository = CsatRepository(session)
        due = await repository.claim_due(now=now, limit=SWEEP_BATCH)
        if not due:
            return 0
        suite = await self.current(session)
        for survey in due:
            case = await CaseRepository(session).get(survey.case_id)
            settings = await self.for_case(session, case, suite) if case is not None else suite
            skip = await self._not_now(session, survey, case, settings)
            if skip is not None or case is None:
                await repository.update(survey.id, {"status": "skipped", "skip_reason": skip})
                continue
            recipient = await self.cases.requester_party(session, case)
            if recipient is None:
                await repository.update(survey.id, {"status": "skipped", "skip_reason": "the requester has no address"})
                continue
            subject, text, body = await self._compose(session, survey, case, settings)
            await self.cases.request_outbound(
                session, case, outbound_id=survey.id, recipient=recipient, subject=subject, text=text, html=body
            )
            await repository.update(survey.id, {"status": "sent", "sent_at": now})
            sent = CaseSatisfactionSurveySent(
                case_id=case.id,
                survey_id=survey.id,
                channel=reply_channel(case),
                solved_at=survey.solved_at,
                sent_at=now,
            )
            await self.cases.outbox.add(session, sent, source=SPEC.name, subject=str(case.id), key=str(case.id))
        return len(due)

    async def _not_now(
        self, session: AsyncSession, survey: SurveyRow, case: CaseRow | None, settings: CsatSettings
    ) -> str | None:
        if case is None:
            return "the case is gone"
        if not settings.enabled:
            return "surveys were turned off"
        if case.merged_into is not None:
            return "the case was merged into another"
        if case.status not in {CaseStatus.SOLVED, CaseStatus.CLOSED} or case.solved_at != survey.solved_at:
            return "the case was reopened before the survey went out"
        if case.requester_id is not None and await CsatRepository(session).opted_out(case.requester_id):
            return "the requester opted out of surveys"
        return None

    async def _compose(
        self, session: AsyncSession, survey: SurveyRow, case: CaseRow, settings: CsatSettings
    ) -> tuple[str, str, str]:
        """The survey's subject, text and HTML in the case's language, with its two links."""
        texts = text_for(settings, case.language)
        values = await placeholder_values(session, case, content=self.cases.content)
        links = {rating: self.link(survey.id, rating) for rating in RATINGS}
        subject = f"{render_text(texts.subject, values)} [#{case.number}]"
        text = f"{render_text(texts.text, values)}\n\n{texts.good}: {links['good']}\n{texts.bad}: {links['bad']}"
        labels: dict[Rating, str] = {"good": texts.good, "bad": texts.bad}
        buttons = " &nbsp; ".join(
            f'<a href="{html.escape(links[rating])}">{html.escape(labels[rating])}</a>' for rating in RATINGS
        )
        return subject, text, f"{render_html(texts.text, values)}<p>{buttons}</p>"

    # -- answers (the public page) -------------------------------------------------------

    async def open_survey(self, session: AsyncSession, token: str, *, click: bool) -> SurveyView:
        """The survey a link names, its one click recorded when ``click`` and this link's rating is not used yet.

        :class:`SurveyLinkUnknown` for a link this service did not make, :class:`SurveyClosed`
        once the case is closed (or merged) or 28 days passed since the survey went out.
        """
        opened = self.open_link(token)
        survey = await CsatRepository(session).get(opened[0], for_update=True) if opened else None
        case = await CaseRepository(session).get(survey.case_id) if survey else None
        if opened is None or survey is None or case is None or survey.sent_at is None:
            raise SurveyLinkUnknown("This survey link is not valid: it may have been cut short when copied.")
        view = await self._view(session, survey, case, opened[1])
        if not view.open:
            raise SurveyClosed("This survey is closed: its case was closed or the survey is older than 28 days.")
        if click and opened[1] not in survey.used_links:
            reason = survey.reason if opened[1] == "bad" else None
            view = await self._record(session, view, opened[1], reason, survey.comment, used=opened[1])
        return view

    async def answer(self, session: AsyncSession, token: str, rating: str, reason: str, comment: str) -> SurveyView:
        """The page's form: the rating (changed if the customer wants), a Bad reason from the list, a comment."""
        view = await self.open_survey(session, token, click=False)
        errors: list[FieldError] = []
        if rating not in RATINGS:
            errors.append(FieldError(field="rating", message="Choose Good or Bad.", code="rating"))
        reason = " ".join(reason.split())
        if rating == "bad" and reason and reason not in view.reasons:
            errors.append(FieldError(field="reason", message="Choose a reason from the list.", code="reason"))
        comment = comment.replace("\x00", "").strip()
        if len(comment) > MAX_COMMENT:
            errors.append(
                FieldError(field="comment", message=f"Keep the comment to {MAX_COMMENT} characters.", code="too_long")
            )
        if errors:
            raise AnswerInvalid(view, errors)
        chosen: Rating = "good" if rating == "good" else "bad"
        kept_reason = reason if chosen == "bad" and reason else None
        return await self._record(session, view, chosen, kept_reason, comment or None)

    async def _view(self, session: AsyncSession, survey: SurveyRow, case: CaseRow, link: Rating) -> SurveyView:
        settings = await self.for_case(session, case)
        reasons = list(settings.reasons)
        if survey.reason and survey.reason not in reasons:  # the admin removed it since: it stays the answer
            reasons.append(survey.reason)
        assert survey.sent_at is not None
        open_ = (
            case.status != CaseStatus.CLOSED and case.merged_into is None and utcnow() < survey.sent_at + RATING_WINDOW
        )
        locale, texts = located_text_for(settings, case.language)
        return SurveyView(survey, case, texts, reasons, link, open_, texts_locale=locale)

    async def _record(
        self,
        session: AsyncSession,
        view: SurveyView,
        rating: Rating,
        reason: str | None,
        comment: str | None,
        *,
        used: Rating | None = None,
    ) -> SurveyView:
        survey, now = view.survey, utcnow()
        satisfaction = Satisfaction(rating=rating, reason=reason, comment=comment, rated_at=now, survey_id=survey.id)
        requester = f"contact:{view.case.requester_id}" if view.case.requester_id else "requester"
        case = await self.cases.rate(session, view.case.id, satisfaction, Actor(name=requester, via="csat"))
        used_links = survey.used_links + ((used,) if used and used not in survey.used_links else ())
        changes: SurveyValues = {
            "rating": rating,
            "reason": reason,
            "comment": comment,
            "rated_at": now,
            "used_links": used_links,
        }
        survey = await CsatRepository(session).update(survey.id, changes)
        return dataclasses.replace(view, survey=survey, case=case)

    # -- links ---------------------------------------------------------------------------

    def link(self, survey_id: uuid.UUID, rating: Rating) -> str:
        """The one-click URL rating the survey ``rating``."""
        return f"{self.public_base_url}/public/csat/{self.sealer.seal(f'{survey_id}:{rating}', LINK_CONTEXT)}"

    def open_link(self, token: str) -> tuple[uuid.UUID, Rating] | None:
        """The survey and rating a link's token names, or None for one this service did not make."""
        try:
            survey_id, rating = self.sealer.open(token, LINK_CONTEXT).split(":")
            return uuid.UUID(survey_id), "good" if rating == "good" else "bad"
        except (SealingError, ValueError):
            return None
