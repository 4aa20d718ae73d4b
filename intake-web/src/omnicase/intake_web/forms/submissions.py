"""Public form submissions: admission (origin, rate limits), spam checks, validation, storage.

Every refusal is a :class:`Rejection` with the reason it is counted under; nothing is
written for a refused submission except its rejection count and the rate-limit hits. A
post that filled in the honeypot is not refused but held: stored for case-core's
suspended-messages queue and answered as if accepted. An
accepted one is one transaction: its attachments, the submission with its
``intake.message_received`` outbox row, then one statement counting it in the rate
windows and the form's day (the counter rows are locked only from that last statement to
the commit); a count over its limit rolls all of it back and refuses the post. The form
comes from the process's :class:`FormCache`, and a limit found reached is remembered
until its window ends, so a post over a limit is refused before its body is read.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError

from omnicase.intake_web.errors import STORAGE_ERRORS
from omnicase.intake_web.forms import ratelimit, spam, stats
from omnicase.intake_web.forms.autoresponse import acknowledgement_request
from omnicase.intake_web.forms.cache import FormCache
from omnicase.intake_web.forms.definition import StoredForm
from omnicase.intake_web.forms.messages import say
from omnicase.intake_web.forms.validation import UploadedFile, clean
from omnicase.intake_web.messages.intake import accept_message, accept_message_alone
from omnicase.intake_web.messages.repository import InboundMessageRepository
from omnicase.intake_web.metrics import ACCEPTED, REJECTIONS
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.kit.blobs import BlobStore
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.errors import FieldError
from omnicase.kit.events import AttachmentRef, CaseDefaults, Channel, HoldReason, MessageReceived, Party
from omnicase.kit.ids import uuid7
from omnicase.kit.inputs import email_key
from omnicase.kit.outbox import Outbox

logger = logging.getLogger(__name__)


@dataclass
class Rejection(Exception):
    reason: str
    status: int
    slug: str
    title: str
    detail: str
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    retry_after: int | None = None

    def field_errors(self) -> list[FieldError]:
        return [FieldError(field=key, message=message, code=code) for key, (message, code) in self.errors.items()]


@dataclass(frozen=True)
class SubmissionInput:
    values: dict[str, str]
    files: list[UploadedFile]
    remote_ip: str | None
    idempotency_key: str | None


@dataclass(frozen=True)
class Accepted:
    submission_id: uuid.UUID
    received_at: datetime
    replayed: bool


class DuplicateSubmission(Exception):
    """The same submission was stored by a concurrent request."""


@contextmanager
def _refused() -> Iterator[None]:
    """A spam rule's refusal (forms/spam.py, counted there) as the submission's :class:`Rejection`."""
    try:
        yield
    except spam.SpamRefusal as refusal:
        retry_after = refusal.headers.get("Retry-After")
        raise Rejection(
            refusal.reason, refusal.status, refusal.slug, refusal.title, refusal.detail,
            errors={error.field: (error.message, error.code) for error in refusal.errors or ()},
            retry_after=int(retry_after) if retry_after else None,
        ) from refusal  # fmt: skip


def reject(reason: str, status: int, slug: str, title: str, detail: str, **extra: Any) -> Rejection:
    REJECTIONS.labels("web", reason).inc()
    return Rejection(reason, status, slug, title, detail, **extra)


# Refusals that came from the counters themselves: their hits were rolled back with them.
COUNTER_REASONS = frozenset({"rate_ip", "rate_form", "daily_cap"})


def _rate_limited(reason: str, retry_after: int) -> Rejection:
    detail = (
        "Too many submissions from your address; try again in a minute."
        if reason == "rate_ip"
        else "This form is receiving too many submissions; try again in a minute."
    )
    return reject(reason, 429, "rate-limited", "Too many requests", detail, retry_after=retry_after)


def _next_day(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)


def _daily_cap_reached(now: datetime) -> Rejection:
    return reject(
        "daily_cap", 429, "daily-cap-reached", "Daily limit reached",
        "This form has received all the submissions it accepts today; try again tomorrow.",
        retry_after=max(1, int((_next_day(now) - now).total_seconds())),
    )  # fmt: skip


def _scopes(form: StoredForm, remote_ip: str | None) -> tuple[str, str]:
    """The per-form and per-address rate scopes (as stored: at most 200 characters)."""
    return f"form:{form.id}"[:200], f"ip:{form.id}:{remote_ip or '-'}"[:200]


class SubmissionService:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        blobs: BlobStore,
        settings: IntakeWebSettings,
        http: httpx.AsyncClient,
        forms: FormCache,
    ) -> None:
        self.database = database
        self.accepted = ratelimit.AcceptedCounts(database)
        self.outbox = outbox
        self.blobs = blobs
        self.settings = settings
        self.http = http
        self.forms = forms
        # Limits found reached, until their window ends: counter scope (or the form's cap at
        # its version) -> end. Counts never go down within a window, so this only refuses earlier.
        self._reached: dict[str, datetime] = {}

    async def load(self, form_id: uuid.UUID) -> StoredForm:
        form = await self.forms.get(form_id)
        if form is None:
            raise reject("unknown_form", 404, "form-not-found", "Form not found", f"Form {form_id} does not exist.")
        if not form.enabled:
            raise reject("disabled", 403, "form-disabled", "Form disabled", "This form does not accept submissions.")
        return form

    async def count_rejection(self, form: StoredForm, reason: str, remote_ip: str | None = None) -> None:
        """Record a refusal in the form's daily stats (best effort: a refusal is answered regardless).

        With ``remote_ip`` (a post refused after admission, for spam or invalid fields) the
        post also counts in the rate windows, as every admitted post does.
        """
        now = utcnow()
        try:
            async with self.database.unit_of_work() as session:
                await stats.count_rejection(session, form.id, now.date(), reason)
                if remote_ip is not None and reason not in COUNTER_REASONS:
                    await ratelimit.hit(session, list(_scopes(form, remote_ip)), now)
        except STORAGE_ERRORS:
            logger.warning("could not count a rejection", extra={"form_id": str(form.id), "reason": reason})

    def admit(self, form: StoredForm, origin: str | None, remote_ip: str | None) -> None:
        """Origin, and limits already known reached, before the body is even read (no database)."""
        allowed = form.spec.allowed_origins
        if origin and allowed and origin not in allowed:
            raise reject("origin", 403, "origin-not-allowed", "Origin not allowed", f"{origin} may not post this form.")
        now = utcnow()
        per_form, per_ip = _scopes(form, remote_ip)
        for scope, reason in ((per_ip, "rate_ip"), (per_form, "rate_form")):
            if self._still_reached(scope, now):
                raise _rate_limited(reason, ratelimit.retry_after(now))
        if self._still_reached(f"cap:{form.id}:{form.version}", now):
            raise _daily_cap_reached(now)

    def _still_reached(self, key: str, now: datetime) -> bool:
        until = self._reached.get(key)
        if until is None:
            return False
        if until <= now:
            del self._reached[key]
            return False
        return True

    def _remember_reached(self, key: str, until: datetime) -> None:
        if len(self._reached) >= 10_000:
            now = utcnow()
            self._reached = {k: end for k, end in self._reached.items() if end > now}
        self._reached[key] = until

    def _check_counts(self, form: StoredForm, counts: ratelimit.Counts, remote_ip: str | None, now: datetime) -> None:
        limits = form.spec.rate_limits
        per_form, per_ip = _scopes(form, remote_ip)
        window_end = ratelimit.window_start(now) + ratelimit.WINDOW
        for scope, reason, limit in (
            (per_ip, "rate_ip", limits.per_ip_per_minute),
            (per_form, "rate_form", limits.per_form_per_minute),
        ):
            if counts.hits[scope] > limit:
                self._remember_reached(scope, window_end)
                raise _rate_limited(reason, ratelimit.retry_after(now))
        if counts.accepted_today > form.spec.daily_cap:
            self._remember_reached(f"cap:{form.id}:{form.version}", _next_day(now))
            raise _daily_cap_reached(now)

    async def submit(self, form: StoredForm, submission: SubmissionInput) -> Accepted:
        spec = form.spec
        values = submission.values
        bait = values.get(spec.spam.honeypot_field, "").strip()
        if bait:
            return await self._hold_spam(form, values, submission.remote_ip, bait)
        secret = self.settings.form_token_secret
        with _refused():
            spam.check_fill_time(
                secret, form.id, values.get("_ts", ""), spec.spam.min_fill_seconds, channel="web", field=None
            )
        locale = (values.get("_locale") or spec.default_locale)[:16]
        cleaned = clean(form, values, locale)
        files = self._check_files(form, submission.files, cleaned.errors, locale)
        if cleaned.errors:
            raise reject(
                "invalid", 422, "validation-error", "Validation error",
                "Some fields need attention: " + ", ".join(cleaned.errors) + ".", errors=cleaned.errors,
            )  # fmt: skip
        digest = _digest(cleaned.values, files)
        dedupe_key = _dedupe_key(submission.idempotency_key, values.get("_sid", ""), digest)
        source = f"form:{form.id}"
        if dedupe_key is not None and spec.spam.captcha is not None:
            # A captcha answer is good once: a repeat of a stored submission is answered
            # from what was stored, not checked with the provider again.
            replay = await self._replay(source, dedupe_key, digest)
            if replay is not None:
                return replay
        if spec.spam.captcha is not None:
            field_name = form.captcha_response_field or ""
            with _refused():
                await spam.check_captcha(
                    self.http, spec.spam.captcha, values.get(field_name, ""), submission.remote_ip,
                    self.settings.captcha_timeout_seconds, channel="web", field=field_name,
                )  # fmt: skip
        try:
            return await self._store(form, cleaned.values, files, submission.remote_ip, dedupe_key, digest, values)
        except (IntegrityError, DuplicateSubmission):
            # Stored before (a repeat) or by a concurrent copy that committed first: answer as it was.
            if dedupe_key is not None:
                replay = await self._replay(source, dedupe_key, digest)
                if replay is not None:
                    return replay
            raise

    async def _hold_spam(self, form: StoredForm, raw: dict[str, str], remote_ip: str | None, bait: str) -> Accepted:
        """Stored and held for staff to recover or delete, answered as if accepted: a bot learns nothing.

        It counts in the rate windows and the form's stats as ``honeypot``, never against the daily cap.
        """
        REJECTIONS.labels("web", "honeypot").inc()
        await self.count_rejection(form, "honeypot", remote_ip)
        honeypot = form.spec.spam.honeypot_field
        fields = {key: value for key, value in raw.items() if not key.startswith("_") and key != honeypot}
        detail = f"the hidden field {honeypot!r} people never see was filled in with {bait[:200]!r}"
        submission_id = uuid7()
        now = utcnow()
        async with self.database.unit_of_work() as session:
            await accept_message(
                session,
                self.outbox,
                build_event(form, submission_id, now, fields, [], raw),
                source=f"form:{form.id}",
                form_id=form.id,
                fields=fields,
                remote_ip=remote_ip,
                hold=(HoldReason.SPAM, detail),
            )
        return Accepted(submission_id=submission_id, received_at=now, replayed=False)

    def _check_files(
        self, form: StoredForm, files: list[UploadedFile], errors: dict[str, tuple[str, str]], locale: str
    ) -> list[UploadedFile]:
        spec = form.spec
        attachment_field = next((f for f in spec.fields if f.key == "attachments"), None)
        files = [file for file in files if file.data or file.filename]
        if attachment_field is None:
            return []
        if attachment_field.required and not files:
            errors["attachments"] = (say("files_required", locale), "required")
        if len(files) > spec.max_attachments:
            errors["attachments"] = (say("too_many_files", locale, count=spec.max_attachments), "too_many")
        too_big = [file.filename for file in files if len(file.data) > spec.max_attachment_bytes]
        if too_big:
            limit = _human_size(spec.max_attachment_bytes)
            REJECTIONS.labels("web", "oversize").inc()
            raise Rejection(
                "oversize", 413, "payload-too-large", "Attachment too large",
                f"{', '.join(too_big)} is larger than {limit}.",
                errors={"attachments": (say("file_too_large", locale, limit=limit), "too_large"), **errors},
            )  # fmt: skip
        return files

    async def _replay(self, source: str, dedupe_key: str, digest: str) -> Accepted | None:
        async with self.database.unit_of_work() as session:
            row = await InboundMessageRepository(session).by_dedupe_key(source, dedupe_key)
        if row is None:
            return None
        if row.request_digest != digest:
            raise reject(
                "idempotency_conflict", 422, "idempotency-key-reused", "Idempotency key reused",
                "This Idempotency-Key was already used for a different submission.",
            )  # fmt: skip
        return Accepted(submission_id=row.id, received_at=row.received_at, replayed=True)

    async def _store(
        self,
        form: StoredForm,
        values: dict[str, Any],
        files: list[UploadedFile],
        remote_ip: str | None,
        dedupe_key: str | None,
        digest: str,
        raw: dict[str, str],
    ) -> Accepted:
        submission_id = uuid7()
        now = utcnow()
        async with self._counted(form, remote_ip, now):
            # Files first: a crash before the submission commits leaves a file nothing names.
            digests = await self.blobs.put_many([file.data for file in files])
            attachments = [
                AttachmentRef(
                    sha256=sha256,
                    filename=file.filename or "attachment",
                    content_type=file.content_type or "application/octet-stream",
                    size=len(file.data),
                )
                for sha256, file in zip(digests, files, strict=True)
            ]
            event = build_event(form, submission_id, now, values, attachments, raw)
            stored = await accept_message_alone(
                self.database,
                self.outbox,
                event,
                source=f"form:{form.id}",
                form_id=form.id,
                dedupe_key=dedupe_key,
                request_digest=digest,
                fields=values,
                remote_ip=remote_ip,
            )
            if not stored:
                # Stored already (its files are the same bytes, under the same digests).
                raise DuplicateSubmission
        ACCEPTED.labels(event.channel.value).inc()
        return Accepted(submission_id=submission_id, received_at=now, replayed=False)

    @asynccontextmanager
    async def _counted(self, form: StoredForm, remote_ip: str | None, now: datetime) -> AsyncIterator[None]:
        """Count the post first (refused over a limit); if the block storing it raises, take it out again."""
        scopes = list(_scopes(form, remote_ip))
        counts = await self.accepted.count(scopes, form.id, now.date(), now)
        try:
            self._check_counts(form, counts, remote_ip, now)
            yield
        except BaseException:
            await asyncio.shield(self._uncount(scopes, form, now))
            raise

    async def _uncount(self, scopes: list[str], form: StoredForm, now: datetime) -> None:
        try:
            async with self.database.unit_of_work(wait_for_flush=False) as session:
                await ratelimit.uncount_accepted(session, scopes, form.id, now.date(), now)
        except STORAGE_ERRORS:
            # Over-counted by one until the window (or the day) ends: refuses early, never lets one past.
            logger.warning("could not take a refused post out of the counts", extra={"form_id": str(form.id)})


def build_event(
    form: StoredForm,
    submission_id: uuid.UUID,
    now: datetime,
    values: dict[str, Any],
    attachments: list[AttachmentRef],
    raw: dict[str, str],
) -> MessageReceived:
    spec = form.spec
    custom = {f.key: values[f.key] for f in spec.fields if f.kind == "custom" and f.key in values}
    # The language of the page the customer filled in, when it was chosen (the page's own
    # `_locale`), is the case's: case-core detects it only where the channel does not say.
    shown = raw.get("_locale")
    defaults = CaseDefaults.model_validate(
        {
            **spec.defaults.model_dump(),
            "custom_fields": {**spec.defaults.custom_fields, **custom},
            "language": shown[:20] if shown else spec.defaults.language,
        }
    )
    # Web forms always open a new case: the conversation is this submission alone.
    conversation = f"web:{submission_id}"
    email = values.get("email")
    locale = shown or spec.default_locale
    return MessageReceived(
        intake_id=submission_id,
        channel=Channel.WEB,
        received_at=now,
        # Keyed by the sender's address as intake-email keys their mail: one customer's forms and
        # mail share a partition, so case-core handles them in order, and two of its batches never
        # claim the same new contact at once (the second waited for the first's whole transaction).
        thread_key=email_key(email)[:320] if isinstance(email, str) and email.strip() else conversation,
        sender=Party(email=email, name=values.get("name"), phone=values.get("phone")),
        recipient=f"form:{form.id}",
        subject=values.get("subject") or spec.name,
        text=str(values.get("description", "")),
        conversation_id=conversation,
        attachments=attachments,
        defaults=defaults,
        metadata={
            "form_id": str(form.id),
            "form_name": spec.name,
            "fields": values,
            "locale": locale[:16],
            **acknowledgement_request(
                wanted=spec.auto_response,
                suggest_articles=spec.suggest_articles,
                email=email,
                subjects=spec.auto_response_subject,
                texts=spec.auto_response_text,
                locale=locale,
                default_locale=spec.default_locale,
            ),
        },
    )


def _digest(values: dict[str, Any], files: list[UploadedFile]) -> str:
    canonical = json.dumps(
        {"values": values, "files": [[f.filename, hashlib.sha256(f.data).hexdigest()] for f in files]},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _dedupe_key(idempotency_key: str | None, submission_token: str, digest: str) -> str | None:
    if idempotency_key:
        return "key:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
    if submission_token:
        # A pasted snippet without its script carries the same token for every visitor,
        # so the token alone would merge strangers' submissions: key on token and content.
        return "sid:" + hashlib.sha256(f"{submission_token}\n{digest}".encode()).hexdigest()
    return None


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} bytes"
