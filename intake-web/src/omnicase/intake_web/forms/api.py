"""Form admin routes: /api/v1/forms (definitions, the embeddable snippet, submissions)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from omnicase.intake_web.access import ChannelAccess
from omnicase.intake_web.forms import tokens
from omnicase.intake_web.forms.render import new_submission_id, render_form
from omnicase.intake_web.forms.schemas import Form, FormDayStats, FormIn, FormPatch, Locale, Submission
from omnicase.intake_web.forms.service import AttachmentNotFound, FormNotFound, FormService, SubmissionNotFound
from omnicase.intake_web.public_url import public_url
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.intake_web.state import current_state
from omnicase.kit.blobs import BlobsDep
from omnicase.kit.clock import utcnow
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, ServiceUnavailable, UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.inputs import IsoDate
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page
from omnicase.kit.routes import Doc, resource_routes

router = APIRouter(prefix="/api/v1/forms", tags=["forms"])


def _forms(request: Request, session: SessionDep) -> FormService:
    state = current_state(request)
    return FormService(session, state.sealer, state.brands)


# The request's session (FastAPI builds SessionDep once per request).
FormsDep = Annotated[FormService, Depends(_forms)]


def _changing(request: Request, session: SessionDep, form_id: uuid.UUID) -> None:
    """Public posts read forms from the process's cache: this change drops the form from it on commit."""
    current_state(request).forms.invalidate_on_commit(session, form_id)


# A change drops the form from the cache public posts read it from, on commit.
CHANGES = Depends(_changing)
resource_routes(
    router,
    _forms,
    key="form_id",
    item=Form,
    body=FormIn,
    changes=FormPatch,
    location=True,
    problems=AUTH_PROBLEMS,
    create=Doc(
        "create_form",
        "Define a web-to-case form",
        (ValidationFailed, UnknownReference, ServiceUnavailable),
        description="Fields, labels per locale, case defaults, thank-you URL, spam protection and limits.",
        dependencies=[ChannelAccess],
    ),
    list_=Doc("list_forms", "List forms", (BadRequest, ValidationFailed), dependencies=[ChannelAccess]),
    get=Doc("get_form", "Read a form", (FormNotFound, ValidationFailed), dependencies=[ChannelAccess]),
    replace=Doc(
        "replace_form",
        "Replace a form's definition",
        (FormNotFound, ValidationFailed, UnknownReference, ServiceUnavailable),
        description="The whole definition, as on creation (a captcha secret must be given again).",
        dependencies=[CHANGES, ChannelAccess],
    ),
    update=Doc(
        "update_form",
        "Change some of a form's settings",
        (FormNotFound, ValidationFailed),
        description="Switch a form off or on, move its cap, limits, origins or thank-you page; unset fields stay.",
        dependencies=[CHANGES, ChannelAccess],
    ),
    delete=Doc("delete_form", "Delete a form", (FormNotFound, ValidationFailed), dependencies=[CHANGES, ChannelAccess]),
)


@router.get(
    "/{form_id}/snippet",
    operation_id="get_form_snippet",
    summary="HTML to paste into a web page",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"example": '<form class="omnicase-form" method="post" …>…</form>'}}},
        **AUTH_PROBLEMS | problem_responses(FormNotFound, ValidationFailed),
    },
)
async def get_form_snippet(
    forms: FormsDep,
    form_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: ChannelAccess,
    locale: Annotated[Locale | None, Query(description="Language of labels; the form's default if unset.")] = None,
    script: Annotated[bool, Query(description="Add the small inline-validation script.")] = True,
) -> HTMLResponse:
    """A plain `<form>` that works without JavaScript, posting to the public submission endpoint."""
    form = await forms.stored(form_id)
    settings: IntakeWebSettings = request.app.state.settings
    base = public_url(settings, request, f"/public/forms/{form.id}")
    html = render_form(
        form,
        action=f"{base}/submissions",
        token_url=f"{base}/token",
        locale=locale or form.spec.default_locale,
        timestamp=tokens.issue(settings.form_token_secret, form.id, utcnow()),
        submission_id=new_submission_id(),
        script=script,
    )
    return HTMLResponse(html)


@router.get(
    "/{form_id}/stats",
    operation_id="get_form_stats",
    summary="A day's accepted and refused submissions",
    responses=AUTH_PROBLEMS | problem_responses(FormNotFound, ValidationFailed),
)
async def get_form_stats(
    forms: FormsDep,
    form_id: uuid.UUID,
    session: SessionDep,
    _: ChannelAccess,
    day: Annotated[IsoDate | None, Query(description="UTC day; today if unset.")] = None,
) -> FormDayStats:
    """How much spam and abuse the form blocked, and how much of its daily cap is left."""
    return await forms.stats(form_id, day)


@router.get(
    "/{form_id}/submissions",
    operation_id="list_form_submissions",
    summary="Submissions a form received, newest first",
    responses=AUTH_PROBLEMS | problem_responses(FormNotFound, BadRequest, ValidationFailed),
)
async def list_form_submissions(
    forms: FormsDep,
    form_id: uuid.UUID,
    session: SessionDep,
    _: ChannelAccess,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[Submission]:
    return await forms.submissions(form_id, cursor, limit)


@router.get(
    "/{form_id}/submissions/{submission_id}/attachments/{sha256}",
    operation_id="get_form_submission_attachment",
    summary="Download a submitted file",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        **AUTH_PROBLEMS | problem_responses(SubmissionNotFound, AttachmentNotFound, ValidationFailed),
    },
)
async def get_form_submission_attachment(
    forms: FormsDep,
    form_id: uuid.UUID,
    submission_id: uuid.UUID,
    sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    blobs: BlobsDep,
    _: ChannelAccess,
) -> Response:
    data, ref = await forms.attachment(form_id, submission_id, sha256, blobs)
    filename = str(ref.get("filename", "attachment")).replace('"', "")
    return Response(
        data,
        media_type=str(ref.get("content_type") or "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"},
    )
