"""Form definitions: create, read, replace, delete, and the submissions a form received."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.defaults import check_brands
from omnicase.intake_web.forms.definition import StoredForm, definition_errors
from omnicase.intake_web.forms.repository import FormRepository
from omnicase.intake_web.forms.schemas import (
    Form,
    FormDayStats,
    FormIn,
    FormPatch,
    Submission,
)
from omnicase.intake_web.forms.secrets import seal_definition
from omnicase.intake_web.forms.stats import day_bounds, rejections_on
from omnicase.intake_web.messages.repository import InboundMessageRepository
from omnicase.kit.blobs import BlobStore
from omnicase.kit.brands import BrandDirectory
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NotFound, ValidationFailed
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Page, decode_id_cursor, paginate
from omnicase.kit.sealing import Sealer


class FormNotFound(NotFound):
    slug = "form-not-found"


class SubmissionNotFound(NotFound):
    slug = "submission-not-found"


class AttachmentNotFound(NotFound):
    slug = "attachment-not-found"


def _check(data: FormIn) -> None:
    errors = definition_errors(data)
    if errors:
        raise ValidationFailed(
            "The form definition is not valid: " + "; ".join(e.message for e in errors), errors=errors
        )


def _missing(form_id: uuid.UUID) -> FormNotFound:
    return FormNotFound(f"Form {form_id} does not exist.")


class FormService:
    def __init__(self, session: AsyncSession, sealer: Sealer, brands: BrandDirectory) -> None:
        self.session = session
        self.sealer = sealer
        # case-core's brands: a definition naming one nobody has is refused.
        self.brands = brands
        self.forms = FormRepository(session)
        self.messages = InboundMessageRepository(session)

    async def create(self, data: FormIn) -> Form:
        _check(data)
        await check_brands(self.brands, {"body.defaults.brand": data.defaults.brand})
        form_id = uuid7()
        row = await self.forms.add(form_id, data.name, data.enabled, self._definition(data, form_id), utcnow())
        return StoredForm.from_row(row, self.sealer).public()

    def _definition(self, data: FormIn, form_id: uuid.UUID) -> dict[str, Any]:
        # Stored whole, its captcha secret sealed: the public shape leaves the secret out.
        return seal_definition(self.sealer, data.model_dump(mode="json"), form_id)

    async def stored(self, form_id: uuid.UUID) -> StoredForm:
        row = await self.forms.get_or_raise(form_id, _missing)
        return StoredForm.from_row(row, self.sealer)

    async def get(self, form_id: uuid.UUID) -> Form:
        return (await self.stored(form_id)).public()

    async def page(self, cursor: str | None, limit: int) -> Page[Form]:
        rows = await self.forms.page(decode_id_cursor(cursor), limit + 1)
        return paginate(
            Page[Form],
            rows,
            limit,
            key=lambda row: [row.id],
            item=lambda row: StoredForm.from_row(row, self.sealer).public(),
        )

    async def replace(self, form_id: uuid.UUID, data: FormIn) -> Form:
        _check(data)
        await check_brands(self.brands, {"body.defaults.brand": data.defaults.brand})
        return await self._store(form_id, data)

    async def _store(self, form_id: uuid.UUID, data: FormIn) -> Form:
        row = await self.forms.replace(form_id, data.name, data.enabled, self._definition(data, form_id), utcnow())
        if row is None:
            raise _missing(form_id)
        return StoredForm.from_row(row, self.sealer).public()

    async def update(self, form_id: uuid.UUID, changes: FormPatch) -> Form:
        current = await self.stored(form_id)
        merged = FormIn.model_validate(
            # A null in a patch leaves the setting as it is (the schema allows one for every field).
            {**current.spec.model_dump(mode="json"), **changes.model_dump(mode="json", exclude_none=True)}
        )
        # A patch names no brand: the form keeps the one it was checked with.
        _check(merged)
        return await self._store(form_id, merged)

    async def delete(self, form_id: uuid.UUID) -> None:
        # Submissions already accepted stay (they are on their way to cases); the form stops taking more.
        if not await self.forms.delete(form_id):
            raise _missing(form_id)

    async def stats(self, form_id: uuid.UUID, day: date | None) -> FormDayStats:
        form = await self.stored(form_id)
        day = day or utcnow().date()
        start, end = day_bounds(day)
        accepted = await self.messages.count_for_form_between(form_id, start, end)
        return FormDayStats(
            day=day,
            accepted=accepted,
            rejected=await rejections_on(self.session, form_id, day),
            daily_cap=form.spec.daily_cap,
            remaining=max(0, form.spec.daily_cap - accepted),
        )

    async def submissions(self, form_id: uuid.UUID, cursor: str | None, limit: int) -> Page[Submission]:
        await self.stored(form_id)
        rows = await self.messages.page_for_form(form_id, decode_id_cursor(cursor), limit + 1)
        return paginate(Page[Submission], rows, limit, key=lambda row: [row.id], item=_submission)

    async def attachment(
        self, form_id: uuid.UUID, submission_id: uuid.UUID, sha256: str, blobs: BlobStore
    ) -> tuple[bytes, dict[str, Any]]:
        row = await self.messages.get(submission_id)
        if row is None or row.form_id != form_id:
            raise SubmissionNotFound(f"Submission {submission_id} of form {form_id} does not exist.")
        ref = next((a for a in row.event.get("attachments", []) if a.get("sha256") == sha256), None)
        data = await blobs.get(sha256) if ref is not None else None
        if ref is None or data is None:
            raise AttachmentNotFound(f"Submission {submission_id} has no attachment {sha256}.")
        return data, ref


def _submission(row: Any) -> Submission:
    return Submission(
        id=row.id,
        form_id=row.form_id,
        status=row.status,
        fields=row.fields,
        attachments=row.event.get("attachments", []),
        case_id=row.case_id,
        received_at=row.received_at,
        acknowledged_at=row.acknowledged_at,
        published_count=row.publish_count,
    )
