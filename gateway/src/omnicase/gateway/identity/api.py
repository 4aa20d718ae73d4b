"""Routes of the identity domain: the OAuth2 token endpoint, users, API tokens."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import RowMapping

from omnicase.gateway.access.authn import CurrentPrincipal
from omnicase.gateway.identity.contacts import ContactDirectory
from omnicase.gateway.identity.errors import (
    ApiTokenNotFound,
    EmailTaken,
    InvalidBearer,
    LastAdmin,
    LinkConflict,
    LinkTaken,
    OAuthError,
    UserNotFound,
    WrongCurrentPassword,
)
from omnicase.gateway.identity.principal import Principal, UserRole
from omnicase.gateway.identity.schemas import (
    ApiToken,
    ApiTokenCreate,
    ApiTokenCreated,
    Me,
    PasswordChange,
    TokenResponse,
    User,
    UserCreate,
    UserUpdate,
)
from omnicase.gateway.identity.service import IdentityService, Refused
from omnicase.gateway.metrics import LOGINS
from omnicase.gateway.state import current_state
from omnicase.kit.clock import utcnow
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import (
    Forbidden,
    PayloadTooLarge,
    ServiceUnavailable,
    UnknownReference,
    ValidationFailed,
    problem_responses,
)
from omnicase.kit.inputs import email_key
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, decode_id_cursor, paginate

router = APIRouter()

TOKEN_REQUEST_MAX_BYTES = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
AUTH_ERRORS = problem_responses(InvalidBearer, Forbidden)

_FORM_SCHEMA = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["password", "refresh_token"]},
        "username": {"type": "string", "description": "The user's email (password grant)."},
        "password": {"type": "string", "format": "password", "description": "Password grant."},
        "refresh_token": {"type": "string", "description": "Refresh token grant."},
        "scope": {"type": "string", "description": "Space-separated subset of the role's scopes; omit for all."},
    },
}
_FORM_EXAMPLE = {"grant_type": "password", "username": "ada@example.com", "password": "correct horse battery"}


def _service(request: Request) -> IdentityService:
    return current_state(request).identity


IdentityDep = Annotated[IdentityService, Depends(_service)]


def _contacts(request: Request) -> ContactDirectory:
    return current_state(request).contacts


def admin(scope: str) -> Any:
    """An admin user, or an API token holding ``scope``."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.kind == "user" and principal.role != "admin":
            raise Forbidden("Only admins may do this.")
        # An admin whose login asked for fewer scopes is held to them, like a token.
        if scope not in principal.scopes:
            raise Forbidden(f"This token lacks the scope {scope}.", extra={"required_scope": scope})
        return principal

    return Depends(check)


async def admin_user(principal: CurrentPrincipal) -> Principal:
    # An integration minting tokens would outlive its own revocation; only people do this.
    if principal.kind != "user" or principal.role != "admin":
        raise Forbidden("Only admin users may manage API tokens.")
    if "users:write" not in principal.scopes:
        raise Forbidden("This login was not granted the scope users:write.", extra={"required_scope": "users:write"})
    return principal


async def _form(request: Request, known: frozenset[str]) -> dict[str, str]:
    """The token request's form. A parameter this endpoint reads may come once (RFC 6749 3.2);
    any other is ignored, repeated or not (RFC 6749 3.1: unrecognized parameters are ignored)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Send the token request as application/x-www-form-urlencoded.")
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > TOKEN_REQUEST_MAX_BYTES:
            raise PayloadTooLarge("A token request is at most 16 KiB.")
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "The form is not UTF-8.") from None
    repeated = sorted(name for name, values in fields.items() if len(values) > 1 and name in known)
    if repeated:
        raise OAuthError("invalid_request", f"Parameters sent more than once: {', '.join(repeated)}.")
    return {name: values[0] for name, values in fields.items()}


def _required(form: dict[str, str], *names: str) -> list[str]:
    missing = [name for name in names if not form.get(name)]
    if missing:
        raise OAuthError("invalid_request", f"Missing parameters: {', '.join(missing)}.")
    return [form[name] for name in names]


@router.post(
    "/api/v1/auth/token",
    operation_id="issue_token",
    tags=["auth"],
    summary="Log in or refresh (OAuth2 password and refresh_token grants)",
    response_model=TokenResponse,
    responses=problem_responses(OAuthError, PayloadTooLarge),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA, "example": _FORM_EXAMPLE}},
        }
    },
)
async def issue_token(request: Request, response: Response, identity: IdentityDep) -> TokenResponse:
    """Password grant: a short-lived access token and a refresh token. Refresh grant: rotates the refresh token.

    Repeated wrong passwords lock the account for a while; a refresh token used twice ends the whole login.
    """
    form = await _form(request, frozenset(_FORM_SCHEMA["properties"]))
    grant = form.get("grant_type")
    now = utcnow()
    async with request.app.state.runtime.database.unit_of_work() as session:
        if grant == "password":
            username, password = _required(form, "username", "password")
            outcome = await identity.password_login(session, username, password, form.get("scope"), now)
        elif grant == "refresh_token":
            (refresh_token,) = _required(form, "refresh_token")
            outcome = await identity.refresh(session, refresh_token, now)
        else:
            raise OAuthError("unsupported_grant_type", "grant_type must be password or refresh_token.")
    # Raised after the commit: a failed login still counts toward the lockout.
    if isinstance(outcome, Refused):
        LOGINS.labels(grant, outcome.error.oauth_error).inc()
        raise outcome.error
    LOGINS.labels(grant, "issued").inc()
    response.headers.update(NO_STORE)
    return outcome


@router.post(
    "/api/v1/auth/revoke",
    operation_id="revoke_token",
    tags=["auth"],
    summary="Log out: revoke an access or refresh token (RFC 7009)",
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Revoked, or the token was not valid anyway."}, **problem_responses(OAuthError)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["token"],
                        "properties": {"token": {"type": "string", "minLength": 1}},
                    },
                    "example": {"token": "ocr_2kq0V9c3Jm1Zx8rTqkF8lK3uY0n6QyS7eD4bWmA5pHc"},
                }
            },
        }
    },
)
async def revoke_token(request: Request, session: SessionDep, identity: IdentityDep) -> Response:
    """Ends the login the token belongs to: its access and refresh tokens stop working at once."""
    (token,) = _required(await _form(request, frozenset({"token", "token_type_hint"})), "token")
    await identity.revoke_token(session, token, utcnow())
    return Response(status_code=200, headers=NO_STORE)


@router.get(
    "/api/v1/auth/me",
    operation_id="get_current_user",
    tags=["auth"],
    summary="Who the bearer token belongs to",
    response_model=Me,
    responses=problem_responses(InvalidBearer),
)
async def me(principal: CurrentPrincipal) -> Me:
    return Me(
        id=principal.subject,
        kind=principal.kind,
        role=principal.role,
        name=principal.name,
        scopes=sorted(principal.scopes),
        agent_id=principal.agent_id,
        contact_id=principal.contact_id,
        organization_id=principal.organization_id,
        organization_cases=principal.organization_cases,
    )


@router.post(
    "/api/v1/auth/password",
    operation_id="change_password",
    tags=["auth"],
    summary="Change your own password",
    status_code=204,
    response_class=Response,
    responses={**AUTH_ERRORS, **problem_responses(WrongCurrentPassword, ValidationFailed)},
)
async def change_password(
    body: PasswordChange, session: SessionDep, identity: IdentityDep, principal: CurrentPrincipal
) -> Response:
    """Your other logins end; this one keeps working."""
    if principal.kind != "user":
        raise Forbidden("API tokens have no password.")
    await identity.change_own_password(session, principal, body.current_password, body.new_password, utcnow())
    return Response(status_code=204)


# --- users


def _user(row: RowMapping) -> User:
    return User.model_validate(dict(row))


@router.post(
    "/api/v1/users",
    operation_id="create_user",
    tags=["users"],
    summary="Create a user",
    status_code=201,
    response_model=User,
    responses={
        **AUTH_ERRORS,
        **problem_responses(
            EmailTaken, LinkTaken, LinkConflict, ValidationFailed, UnknownReference, ServiceUnavailable
        ),
    },
)
async def create_user(
    request: Request,
    body: UserCreate,
    session: SessionDep,
    identity: IdentityDep,
    _: Annotated[Principal, admin("users:write")],
) -> User:
    """Agents link to routing's agent record, end users to case-core's contact (and organization)."""
    return _user(await identity.create_user(session, body, utcnow(), _contacts(request)))


@router.get(
    "/api/v1/users",
    operation_id="list_users",
    tags=["users"],
    summary="List users",
    response_model=Page[User],
    responses={**AUTH_ERRORS, **problem_responses(ValidationFailed)},
)
async def list_users(
    session: SessionDep,
    identity: IdentityDep,
    _: Annotated[Principal, admin("users:read")],
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    role: Annotated[UserRole | None, Query(description="Only users of this role.")] = None,
    email: Annotated[str | None, Query(max_length=320, description="Exact email, any case.")] = None,
) -> Page[User]:
    rows = await identity.list_users(
        session,
        after=decode_id_cursor(cursor),
        limit=limit + 1,
        role=role,
        email=email_key(email) if email else None,
    )
    return paginate(Page[User], rows, limit, key=lambda row: [row["id"]], item=_user)


@router.get(
    "/api/v1/users/{user_id}",
    operation_id="get_user",
    tags=["users"],
    summary="Get a user",
    response_model=User,
    responses={**AUTH_ERRORS, **problem_responses(UserNotFound)},
)
async def get_user(
    user_id: uuid.UUID, session: SessionDep, identity: IdentityDep, _: Annotated[Principal, admin("users:read")]
) -> User:
    return _user(await identity.get_user(session, user_id))


@router.patch(
    "/api/v1/users/{user_id}",
    operation_id="update_user",
    tags=["users"],
    summary="Change a user (role, links, password, active, unlock)",
    response_model=User,
    responses={
        **AUTH_ERRORS,
        **problem_responses(
            UserNotFound, EmailTaken, LastAdmin, LinkConflict, ValidationFailed, UnknownReference, ServiceUnavailable
        ),
    },
)
async def update_user(
    request: Request,
    user_id: uuid.UUID,
    body: UserUpdate,
    session: SessionDep,
    identity: IdentityDep,
    _: Annotated[Principal, admin("users:write")],
) -> User:
    """A new password, a role change or deactivation ends the user's logins; the last admin cannot be demoted."""
    return _user(await identity.update_user(session, user_id, body, utcnow(), _contacts(request)))


# --- API tokens


@router.post(
    "/api/v1/api-tokens",
    operation_id="create_api_token",
    tags=["api-tokens"],
    summary="Create an API token (shown once)",
    status_code=201,
    response_model=ApiTokenCreated,
    responses={**AUTH_ERRORS, **problem_responses(ValidationFailed)},
)
async def create_api_token(
    body: ApiTokenCreate,
    response: Response,
    session: SessionDep,
    identity: IdentityDep,
    principal: Annotated[Principal, Depends(admin_user)],
) -> ApiTokenCreated:
    """The token is in this response only; the gateway keeps its hash."""
    row, secret = await identity.create_api_token(session, body, principal.subject, utcnow())
    response.headers.update(NO_STORE)
    return ApiTokenCreated.model_validate({**dict(row), "token": secret})


@router.get(
    "/api/v1/api-tokens",
    operation_id="list_api_tokens",
    tags=["api-tokens"],
    summary="List API tokens",
    response_model=Page[ApiToken],
    responses={**AUTH_ERRORS, **problem_responses(ValidationFailed)},
)
async def list_api_tokens(
    session: SessionDep,
    identity: IdentityDep,
    _: Annotated[Principal, Depends(admin_user)],
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[ApiToken]:
    rows = await identity.list_api_tokens(session, after=decode_id_cursor(cursor), limit=limit + 1)
    return paginate(
        Page[ApiToken], rows, limit, key=lambda row: [row["id"]], item=lambda row: ApiToken.model_validate(dict(row))
    )


@router.delete(
    "/api/v1/api-tokens/{token_id}",
    operation_id="revoke_api_token",
    tags=["api-tokens"],
    summary="Revoke an API token",
    response_model=ApiToken,
    responses={**AUTH_ERRORS, **problem_responses(ApiTokenNotFound)},
)
async def revoke_api_token(
    token_id: uuid.UUID,
    session: SessionDep,
    identity: IdentityDep,
    _: Annotated[Principal, Depends(admin_user)],
) -> ApiToken:
    """Effective on the next request that presents it; revoking twice keeps the first time."""
    return ApiToken.model_validate(dict(await identity.revoke_api_token(session, token_id, utcnow())))
