"""One error hierarchy for the suite, rendered as RFC 9457 problem+json.

Domain code raises a :class:`ServiceError` subclass (``CaseNotFound(NotFound)``);
routes never raise ``HTTPException``. Each class carries a stable ``type`` slug
(the problem ``type`` URI is built from it) and its HTTP status. Routes list the
errors they may return in ``responses=problem_responses(NotFound, Conflict)`` so
the OpenAPI document shows them.

Every path parameter of the suite is an identifier, so a path whose parameter cannot be one
(``/cases/None``) is a 404 ``not-found`` naming the parameter, as for an id nobody holds; a
422 is for what the query or body gets wrong.

A database that cannot be reached (down, restarting, connection lost; see
:func:`omnicase.kit.db.database_unavailable`) is a 503 ``service-unavailable`` with
``Retry-After`` from every route, never a 500: the request's transaction did not
commit, and the client is told to send it again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from omnicase.kit.db import database_unavailable

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE_URI = "https://omnicase.dev/problems/"

logger = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. `body.priority`.")
    message: str
    code: str = Field(description="Machine-readable reason, e.g. `missing`, `enum`.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=[PROBLEM_BASE_URI + "not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["Case 42 does not exist."])
    instance: str | None = Field(default=None, examples=["/api/v1/cases/42"])
    errors: list[FieldError] | None = None


class ServiceError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    # Headers every answer of this error carries unless the raiser sets them.
    default_headers: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = {**self.default_headers, **(headers or {})}
        self.extra = extra or {}


class BadRequest(ServiceError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(ServiceError):
    status, slug, title = 401, "unauthorized", "Unauthorized"


class Forbidden(ServiceError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ServiceError):
    status, slug, title = 404, "not-found", "Not found"


class UnknownReference(NotFound):
    """The body names something (by id or key) that does not exist: a 404 whose ``errors`` name each such field.

    Like a path that names nothing, the request cannot be carried out as addressed, and the
    client's fix is the reference, not the shape of its input (which is a 422). Raised through
    :func:`refusal`, so one rule decides between the two for every service.
    """

    status, slug, title = 404, "unknown-reference", "Unknown reference"


# The code a FieldError carries when the value names something that does not exist.
NOT_FOUND_CODE = "not_found"


class Conflict(ServiceError):
    status, slug, title = 409, "conflict", "Conflict"


class StateConflict(Conflict):
    """Input the schema allows that what is stored now refuses (see :func:`refusal`)."""

    slug, title = "state-conflict", "Conflicts with the current state"


class MethodNotAllowed(ServiceError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class PreconditionFailed(ServiceError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(ServiceError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(ServiceError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(ServiceError):
    """Input that is well-formed but breaks a rule; routes use it beside pydantic's 422."""

    status, slug, title = 422, "validation-error", "Validation error"


class RateLimited(ServiceError):
    status, slug, title = 429, "rate-limited", "Too many requests"


# Seconds a client is asked to wait before sending again what a 503 refused.
RETRY_AFTER_SECONDS = 5


class ServiceUnavailable(ServiceError):
    """Try again later; carries ``Retry-After`` (:data:`RETRY_AFTER_SECONDS` unless the raiser sets it)."""

    status, slug, title = 503, "service-unavailable", "Service unavailable"
    default_headers: ClassVar[dict[str, str]] = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def refusal(detail: str, errors: Sequence[FieldError], *, conflicts: Collection[str] = ()) -> ServiceError:
    """The error for input refused field by field: a 404 :class:`UnknownReference` when some field
    names what does not exist (code :data:`NOT_FOUND_CODE`; those fields alone, as what else is
    wrong with such a request is moot); a 409 :class:`StateConflict` when every error's code is one
    of ``conflicts`` (rules the stored state decides, which no schema can say: a status the case's
    current one cannot become); else a 422 :class:`ValidationFailed` naming every field."""
    unknown = [error for error in errors if error.code == NOT_FOUND_CODE]
    if unknown:
        return UnknownReference(detail, errors=unknown)
    if errors and all(error.code in conflicts for error in errors):
        return StateConflict(detail, errors=errors)
    return ValidationFailed(detail, errors=errors)


def problem_type(slug: str) -> str:
    return PROBLEM_BASE_URI + slug


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=problem_type(slug),
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        errors=list(errors) if errors else None,
    )
    body = problem.model_dump(exclude_none=True)
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def problem_document(error: ServiceError, instance: str | None = None) -> dict[str, Any]:
    """``error``'s problem+json body as a mapping, for a channel with no HTTP answer to carry it (a socket frame)."""
    document: dict[str, Any] = json.loads(bytes(error_response(error, instance).body))
    return document


def error_response(error: ServiceError, instance: str | None = None) -> JSONResponse:
    """``error`` as the problem+json answer, with its headers."""
    return problem_response(
        error.status,
        error.slug,
        error.title,
        error.detail,
        instance=instance,
        errors=error.errors,
        headers=error.headers,
        extra=error.extra,
    )


def problem_responses(*errors: type[ServiceError]) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry declaring these problems for a route's OpenAPI."""
    declared: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        # Two problems of one status (a 404 for the path's resource and one for a reference in
        # the body) are one answer whose description names both.
        titles = declared.get(error.status, {}).get("description", "").split(" or ")
        description = " or ".join(dict.fromkeys(title for title in [*titles, error.title] if title))
        declared[error.status] = {
            "model": Problem,
            "description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return declared


def _field_path(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_field_errors(exc: RequestValidationError) -> list[FieldError]:
    return [
        FieldError(field=_field_path(item.get("loc", ())), message=item.get("msg", ""), code=item.get("type", ""))
        for item in exc.errors()
    ]


_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def allowed_methods(request: Request, *, besides: Callable[..., Any] | None = None) -> list[str]:
    """Every method some route answers at this path (Starlette names only the first matching route's);
    ``besides``: an endpoint left out (a catch-all that takes every method)."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        if besides is not None and route.endpoint is besides:
            continue
        if route.path_regex is not None and route.methods and route.path_regex.match(path):
            methods |= set(route.methods)
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return sorted(methods, key=lambda method: (order.index(method) if method in order else len(order), method))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_field_errors(exc)
        # Every path parameter is an identifier: one that cannot be an id addresses nothing, a
        # 404 as for an id nobody holds (whatever else the request gets wrong is moot then).
        in_path = [error for error in errors if error.field.startswith("path.")]
        if in_path:
            fields = ", ".join(error.field for error in in_path)
            detail = f"Nothing has this address: {fields} is not an identifier this path takes."
            return error_response(NotFound(detail, errors=in_path), request.url.path)
        fields = ", ".join(error.field for error in errors)
        return error_response(ValidationFailed(f"The request is not valid: {fields}.", errors=errors), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _STATUS_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(exc.status_code, slug, title, detail, instance=request.url.path, headers=headers)

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if not database_unavailable(exc):
            return await _unexpected(request, exc)
        logger.warning("database unavailable", extra={"path": request.url.path, "error": repr(exc)[:300]})
        detail = "The database is unavailable; nothing was changed. Please try again shortly."
        return error_response(ServiceUnavailable(detail), request.url.path)

    for error_class in (DBAPIError, ConnectionError, TimeoutError):
        app.add_exception_handler(error_class, _database_error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        return error_response(
            ServiceError("The server failed to complete the request; nothing was changed."), request.url.path
        )
