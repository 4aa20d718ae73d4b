"""Public form routes: /public/forms (hosted page, fresh token, submissions, CORS preflight).

Browsers (``Accept: text/html``) get pages: a 303 to the thank-you URL, or the form
again with each message next to its field. API clients get JSON: 202 with the
submission id, or problem+json with per-field ``errors``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from omnicase.intake_web.errors import STORAGE_ERRORS
from omnicase.intake_web.forms import tokens
from omnicase.intake_web.forms.definition import StoredForm
from omnicase.intake_web.forms.messages import say
from omnicase.intake_web.forms.render import (
    RenderState,
    message_page,
    new_submission_id,
    page,
    refusal_message,
    render_form,
)
from omnicase.intake_web.forms.schemas import FormToken, Locale, SubmissionAccepted
from omnicase.intake_web.forms.submissions import (
    Rejection,
    SubmissionInput,
    SubmissionService,
    reject,
)
from omnicase.intake_web.forms.validation import UploadedFile
from omnicase.intake_web.metrics import REJECTIONS
from omnicase.intake_web.public_url import public_url
from omnicase.intake_web.requests import bounded_body, client_ip, replayed, wants_html
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.intake_web.state import current_state
from omnicase.kit import locales
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
    ValidationFailed,
    problem_response,
    problem_responses,
)

router = APIRouter(prefix="/public/forms", tags=["public forms"])

FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Rejections a person can fix on the form itself: shown on the re-rendered form.
FIXABLE = {"invalid", "oversize", "captcha", "too_fast", "token"}
MAX_FIELDS = 300


class UnsupportedMediaType(ServiceError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


def _service(request: Request) -> SubmissionService:
    return current_state(request).submissions


def _settings(request: Request) -> IntakeWebSettings:
    settings: IntakeWebSettings = request.app.state.settings
    return settings


def _cors(form: StoredForm, origin: str | None) -> dict[str, str]:
    if not origin:
        return {}
    allowed = form.spec.allowed_origins
    if allowed and origin not in allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "Location, Retry-After, Idempotent-Replayed",
        "Vary": "Origin",
    }


async def _render_page(
    request: Request, form: StoredForm, locale: str, state: RenderState, *, timestamp: str | None = None
) -> str:
    settings = _settings(request)
    base = public_url(settings, request, f"/public/forms/{form.id}")
    body = render_form(
        form,
        action=f"{base}/submissions",
        token_url=f"{base}/token",
        locale=locale,
        timestamp=timestamp or tokens.issue(settings.form_token_secret, form.id, utcnow()),
        submission_id=state.values.get("_sid") or new_submission_id(),
        state=state,
    )
    title = form.spec.title.get(locale) or form.spec.name
    # A hosted form wears its brand's look (case-core's brand; plain when case-core does not answer).
    brand = await current_state(request).brands.look(form.spec.defaults.brand)
    return page(title, f"<main>{body}</main>", locale=locale, brand=brand)


@router.get(
    "/{form_id}",
    operation_id="show_public_form",
    summary="The form as a page of its own",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **problem_responses(NotFound, Forbidden)},
)
async def show_public_form(
    form_id: uuid.UUID, request: Request, locale: Annotated[Locale | None, Query()] = None
) -> Response:
    """A hosted page with the form, for sites that link to it instead of embedding it."""
    try:
        form = await _service(request).load(form_id)
    except Rejection as rejection:
        locale = locale or _visitor_locale(request, None)
        return HTMLResponse(message_page(rejection.reason, locale), status_code=rejection.status)
    chosen = locale or preferred_locale(form, request.headers.get("accept-language", ""))
    return HTMLResponse(await _render_page(request, form, chosen, RenderState()))


def preferred_locale(form: StoredForm, accept_language: str) -> str:
    """The visitor's most preferred language the form has labels in, else its default."""
    offered = {locale.lower() for field in form.spec.fields for locale in field.labels} | set(form.spec.title)
    return locales.preferred(accept_language, offered, form.spec.default_locale)


@router.get(
    "/{form_id}/token",
    operation_id="issue_form_token",
    summary="A fresh fill-time token for a page view",
    response_model=FormToken,
    responses=problem_responses(NotFound, Forbidden),
)
async def issue_form_token(
    form_id: uuid.UUID, request: Request, origin: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """Called by the snippet's script when the page loads, so the minimum fill time counts from then."""
    try:
        form = await _service(request).load(form_id)
    except Rejection as rejection:
        return _problem(rejection, request)
    token = FormToken(
        token=tokens.issue(_settings(request).form_token_secret, form.id, utcnow()), submission_id=new_submission_id()
    )
    headers = {"Cache-Control": "no-store", **_cors(form, origin)}
    return JSONResponse(token.model_dump(), headers=headers)


@router.options(
    "/{form_id}/{action}",
    operation_id="preflight_form",
    summary="CORS preflight for a form's endpoints",
    status_code=204,
    responses=problem_responses(NotFound, Forbidden),
)
async def preflight_form(
    form_id: uuid.UUID, action: str, request: Request, origin: Annotated[str | None, Header()] = None
) -> Response:
    try:
        form = await _service(request).load(form_id)
    except Rejection as rejection:
        return _problem(rejection, request)
    headers = _cors(form, origin)
    if action not in ("submissions", "token") or not headers:
        return problem_response(
            403, "origin-not-allowed", "Origin not allowed", f"{origin or 'This site'} may not call this form.",
            instance=request.url.path,
        )  # fmt: skip
    headers.update(
        {
            "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Accept, Idempotency-Key",
            "Access-Control-Max-Age": "600",
        }
    )
    return Response(status_code=204, headers=headers)


@router.post(
    "/{form_id}/submissions",
    status_code=202,
    operation_id="submit_form",
    summary="Submit a form (urlencoded or multipart)",
    response_model=SubmissionAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "additionalProperties": {"type": "string"}},
                    "example": {"name": "Jane Doe", "email": "jane@example.com", "description": "It broke"},
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}}
                        },
                        "additionalProperties": {"type": "string"},
                    }
                },
            },
        }
    },
    responses={
        303: {"description": "Browsers: accepted, go to the thank-you page."},
        **problem_responses(
            BadRequest,
            Forbidden,
            NotFound,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            RateLimited,
            ServiceUnavailable,
        ),
    },
)
async def submit_form(
    form_id: uuid.UUID,
    request: Request,
    origin: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Checks spam, limits and fields, stores the submission and its event, then answers.

    The same submission sent twice (double click, retry, same ``Idempotency-Key``)
    is stored once and answered the same way both times.
    """
    settings = _settings(request)
    service = _service(request)
    html = wants_html(request)
    form: StoredForm | None = None
    values: dict[str, str] = {}
    admitted_ip: str | None = None  # set once the post counts in the rate windows
    try:
        form = await service.load(form_id)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in FORM_MEDIA_TYPES:
            raise UnsupportedMediaType(
                "Send the form as application/x-www-form-urlencoded or multipart/form-data.",
                headers=_cors(form, origin),
            )
        remote_ip = client_ip(request, settings)
        service.admit(form, origin, remote_ip)
        admitted_ip = remote_ip or "-"
        body = await bounded_body(request, settings.max_request_bytes)
        values, files = await _parse(replayed(request, body), form)
        accepted = await service.submit(
            form, SubmissionInput(values=values, files=files, remote_ip=remote_ip, idempotency_key=idempotency_key)
        )
    except Rejection as rejection:
        if form is not None:
            await service.count_rejection(form, rejection.reason, admitted_ip)
        return await _rejected(request, rejection, form, values, origin, html)
    except STORAGE_ERRORS:
        REJECTIONS.labels("web", "storage").inc()
        error = ServiceUnavailable("The submission could not be stored; nothing was saved. Please try again.")
        return await _rejected(request, _as_rejection(error, "storage", retry_after=5), form, values, origin, html)
    except ServiceError as error:
        REJECTIONS.labels("web", error.slug).inc()
        if form is not None:
            await service.count_rejection(form, error.slug, admitted_ip)
        if html:
            return await _rejected(request, _as_rejection(error, error.slug), form, values, origin, html)
        raise
    assert form is not None
    if html:
        return RedirectResponse(str(form.spec.thank_you_url), status_code=303)
    answer = SubmissionAccepted(submission_id=accepted.submission_id, received_at=accepted.received_at)
    headers = _cors(form, origin)
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(answer.model_dump(mode="json"), status_code=202, headers=headers)


async def _parse(request: Request, form: StoredForm) -> tuple[dict[str, str], list[UploadedFile]]:
    values: dict[str, str] = {}
    files: list[UploadedFile] = []
    try:
        async with request.form(
            max_files=form.spec.max_attachments + 1, max_fields=MAX_FIELDS, max_part_size=256 * 1024
        ) as data:
            for key, value in data.multi_items():
                if isinstance(value, UploadFile):
                    if key == "attachments":
                        content = await value.read()
                        files.append(UploadedFile(value.filename or "", value.content_type or "", content))
                elif key not in values:
                    values[key] = value
    except MultiPartException as error:
        detail = str(error)
        locale = (values.get("_locale") or form.spec.default_locale)[:16]
        if "files" in detail.lower():
            raise reject(
                "invalid", 422, "validation-error", "Validation error", "Too many files.",
                errors={"attachments": (say("too_many_files", locale, count=form.spec.max_attachments), "too_many")},
            ) from error  # fmt: skip
        raise BadRequest(f"The form data could not be read: {detail}") from error
    return values, files


def _visitor_locale(request: Request, form: StoredForm | None) -> str:
    """The language of a page for a visitor whose form page said none: the one of the product's
    languages their browser prefers, else the form's default (English without a form)."""
    default = form.spec.default_locale if form is not None else locales.FALLBACK
    return locales.preferred(request.headers.get("accept-language", ""), locales.shipped(), default)


def _as_rejection(error: ServiceError, reason: str, retry_after: int | None = None) -> Rejection:
    return Rejection(reason, error.status, error.slug, error.title, error.detail, retry_after=retry_after)


def _problem(rejection: Rejection, request: Request, extra_headers: dict[str, str] | None = None) -> JSONResponse:
    headers = dict(extra_headers or {})
    if rejection.retry_after is not None:
        headers["Retry-After"] = str(rejection.retry_after)
    errors = [
        FieldError(field=f"body.{error.field}", message=error.message, code=error.code)
        for error in rejection.field_errors()
    ]
    return problem_response(
        rejection.status,
        rejection.slug,
        rejection.title,
        rejection.detail,
        instance=request.url.path,
        errors=errors,
        headers=headers,
    )


async def _rejected(
    request: Request,
    rejection: Rejection,
    form: StoredForm | None,
    values: dict[str, str],
    origin: str | None,
    html: bool,
) -> Response:
    cors = _cors(form, origin) if form is not None else {}
    if not html:
        return _problem(rejection, request, cors)
    headers: dict[str, Any] = {}
    if rejection.retry_after is not None:
        headers["Retry-After"] = str(rejection.retry_after)
    locale = values.get("_locale", "")[:16] or _visitor_locale(request, form)
    if form is None or rejection.reason not in FIXABLE:
        back = None
        if form is not None and rejection.status in (429, 503):
            back = public_url(_settings(request), request, f"/public/forms/{form.id}")
        content = message_page(rejection.reason, locale, back_url=back)
        return HTMLResponse(content, status_code=rejection.status, headers=headers)
    state = RenderState(
        values={key: value for key, value in values.items() if key != form.spec.spam.honeypot_field},
        errors={key: message for key, (message, _code) in rejection.errors.items()},
        message=refusal_message(rejection.reason, locale),
    )
    # Keep the fill-time token unless it was broken: the time since the form was shown keeps counting.
    token = None if rejection.reason == "token" else values.get("_ts")
    content = await _render_page(request, form, locale, state, timestamp=token)
    return HTMLResponse(content, status_code=rejection.status, headers=headers)
