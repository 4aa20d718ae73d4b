"""Identity domain logic: logins, token rotation and revocation, bearer checks, users, API tokens."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.gateway.identity.contacts import ContactDirectory
from omnicase.gateway.identity.errors import (
    ApiTokenNotFound,
    EmailTaken,
    InvalidBearer,
    InvalidGrant,
    LastAdmin,
    LinkConflict,
    LinkTaken,
    OAuthError,
    UserNotFound,
    WrongCurrentPassword,
)
from omnicase.gateway.identity.passwords import Passwords
from omnicase.gateway.identity.principal import ROLE_SCOPES, Principal, UserRole
from omnicase.gateway.identity.repository import ApiTokenRepository, SessionRepository, UserRepository
from omnicase.gateway.identity.schemas import (
    ApiTokenCreate,
    LinkError,
    TokenResponse,
    UserCreate,
    UserUpdate,
    check_links,
)
from omnicase.gateway.identity.tokens import (
    API_TOKEN_PREFIX,
    REFRESH_PREFIX,
    issue_access_token,
    new_secret,
    read_access_token,
    token_hash,
)
from omnicase.gateway.settings import GatewaySettings
from omnicase.kit.errors import FieldError, ValidationFailed
from omnicase.kit.identity import InvalidToken
from omnicase.kit.ids import uuid7
from omnicase.kit.inputs import email_key

logger = logging.getLogger(__name__)

API_TOKEN_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Refused:
    """A refused token request whose bookkeeping (failed-login count, revoked session) must still commit."""

    error: OAuthError


def _no_user(user_id: uuid.UUID) -> UserNotFound:
    return UserNotFound(f"User {user_id} does not exist.")


def _no_token(token_id: uuid.UUID) -> ApiTokenNotFound:
    return ApiTokenNotFound(f"API token {token_id} does not exist.")


class IdentityService:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.passwords = Passwords(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib)

    # --- logins and tokens

    async def password_login(
        self, session: AsyncSession, email: str, password: str, scope: str | None, now: datetime
    ) -> TokenResponse | Refused:
        users = UserRepository(session)
        user = await users.by_email(email_key(email), for_update=True)
        # Verified even for unknown or locked accounts so timing does not reveal which exist.
        matches = await self.passwords.verify(user["password_hash"] if user else None, password)
        if user is None or not user["active"]:
            return Refused(InvalidGrant("The email or password is not correct."))
        if user["locked_until"] is not None and user["locked_until"] > now:
            return Refused(
                InvalidGrant(
                    "The account is locked after repeated failed logins; "
                    f"try again after {user['locked_until'].isoformat()}."
                )
            )
        if not matches:
            failures = user["failed_logins"] + 1
            values: dict[str, Any] = {"failed_logins": failures}
            if failures >= self.settings.lockout_threshold:
                values = {"failed_logins": 0, "locked_until": now + timedelta(minutes=self.settings.lockout_minutes)}
                logger.warning("account locked after failed logins", extra={"user_id": str(user["id"])})
            await users.update(user["id"], values)
            return Refused(InvalidGrant("The email or password is not correct."))
        scopes = self._requested_scopes(user["role"], scope)
        if isinstance(scopes, Refused):
            return scopes
        await users.record_login(user["id"], now)
        if self.passwords.needs_rehash(user["password_hash"]):
            await users.update(user["id"], {"password_hash": await self.passwords.hash(password)})
        session_id = uuid7()
        await SessionRepository(session).open(session_id, user["id"], scopes, now)
        return await self._issue(session, user["id"], user["role"], session_id, scopes, now)

    def _requested_scopes(self, role: UserRole, scope: str | None) -> list[str] | Refused | None:
        if not scope or not scope.strip():
            return None
        requested = set(scope.split())
        beyond = sorted(requested - ROLE_SCOPES[role])
        if beyond:
            return Refused(OAuthError("invalid_scope", f"Scopes not available to this account: {' '.join(beyond)}."))
        return sorted(requested)

    async def refresh(self, session: AsyncSession, refresh_token: str, now: datetime) -> TokenResponse | Refused:
        sessions = SessionRepository(session)
        row = await sessions.refresh_token(token_hash(refresh_token))
        if row is None or row["revoked_at"] is not None:
            return Refused(InvalidGrant("The refresh token is not valid; log in again."))
        if row["used_at"] is not None:
            # A rotated token came back: it was copied. End the whole login so the thief's copy dies too.
            await sessions.revoke(row["session_id"], now, "refresh_token_reuse")
            logger.warning("refresh token reuse; session revoked", extra={"session_id": str(row["session_id"])})
            return Refused(InvalidGrant("The refresh token was already used; the login has been ended."))
        if row["expires_at"] <= now:
            return Refused(InvalidGrant("The refresh token has expired; log in again."))
        user = await UserRepository(session).get(row["user_id"])
        if user is None or not user["active"]:
            return Refused(InvalidGrant("The account is not active."))
        await sessions.mark_used(row["id"], now)
        scopes = row["scopes"]
        return await self._issue(session, user["id"], user["role"], row["session_id"], scopes, now)

    async def _issue(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        role: UserRole,
        session_id: uuid.UUID,
        scopes: list[str] | None,
        now: datetime,
    ) -> TokenResponse:
        refresh = new_secret(REFRESH_PREFIX)
        expires = now + timedelta(days=self.settings.refresh_token_days)
        await SessionRepository(session).add_refresh_token(session_id, token_hash(refresh), now, expires)
        access = issue_access_token(
            user_id, session_id, self.settings.token_secret, now, self.settings.access_token_seconds
        )
        granted = sorted(ROLE_SCOPES[role] & set(scopes)) if scopes is not None else sorted(ROLE_SCOPES[role])
        return TokenResponse(
            access_token=access,
            expires_in=self.settings.access_token_seconds,
            refresh_token=refresh,
            scope=" ".join(granted),
        )

    async def purge_expired(self, session: AsyncSession, now: datetime, *, keep_revoked: timedelta) -> tuple[int, int]:
        """Forget expired refresh tokens and logins that are over; (tokens, logins) forgotten."""
        return await SessionRepository(session).purge(now, keep_revoked=keep_revoked)

    async def revoke_token(self, session: AsyncSession, token: str, now: datetime) -> None:
        """RFC 7009: ends the login an access or refresh token belongs to; unknown tokens are not an error."""
        sessions = SessionRepository(session)
        if token.startswith(REFRESH_PREFIX):
            row = await sessions.refresh_token(token_hash(token))
            if row is not None:
                await sessions.revoke(row["session_id"], now, "revoked")
            return
        try:
            claims = read_access_token(token, self.settings.token_secret, now)
        except InvalidToken:
            return
        await sessions.revoke(claims.session_id, now, "revoked")

    async def authenticate(self, session: AsyncSession, bearer: str, now: datetime) -> Principal:
        """The principal of a bearer token (access token or API token), or :class:`InvalidBearer`."""
        if bearer.startswith(API_TOKEN_PREFIX):
            return await self._api_token_principal(session, bearer, now)
        try:
            claims = read_access_token(bearer, self.settings.token_secret, now)
        except InvalidToken as error:
            raise InvalidBearer(f"The access token is not valid: {error}.") from error
        user = await SessionRepository(session).live_user(claims.session_id, claims.user_id)
        if user is None:
            raise InvalidBearer("The access token was revoked or its account disabled; log in again.")
        role: UserRole = user["role"]
        scopes = ROLE_SCOPES[role]
        if user["session_scopes"] is not None:
            scopes = scopes & frozenset(user["session_scopes"])
        return Principal(
            subject=user["id"],
            kind="user",
            role=role,
            scopes=frozenset(scopes),
            name=user["name"],
            agent_id=user["agent_id"],
            contact_id=user["contact_id"],
            organization_id=user["organization_id"],
            organization_cases=user["organization_cases"],
            session_id=claims.session_id,
        )

    async def _api_token_principal(self, session: AsyncSession, bearer: str, now: datetime) -> Principal:
        tokens = ApiTokenRepository(session)
        row = await tokens.by_hash(token_hash(bearer))
        if row is None:
            raise InvalidBearer("The API token is not valid.")
        if row["revoked_at"] is not None:
            raise InvalidBearer("The API token was revoked.")
        if row["expires_at"] is not None and row["expires_at"] <= now:
            raise InvalidBearer("The API token has expired.")
        await tokens.touch(row["id"], now, every=API_TOKEN_TOUCH_EVERY)
        return Principal(
            subject=row["id"], kind="api_token", role="integration", scopes=frozenset(row["scopes"]), name=row["name"]
        )

    async def change_own_password(
        self, session: AsyncSession, principal: Principal, current: str, new: str, now: datetime
    ) -> None:
        """Needs the current password; ends every other login of the user (this one stays)."""
        users = UserRepository(session)
        user = await users.get(principal.subject, for_update=True)
        if user is None or not await self.passwords.verify(user["password_hash"], current):
            raise WrongCurrentPassword(
                "The current password is not correct.",
                errors=[FieldError(field="body.current_password", message="not correct", code="mismatch")],
            )
        await users.update(user["id"], {"password_hash": await self.passwords.hash(new), "updated_at": now})
        await SessionRepository(session).revoke_all_of(user["id"], now, "password_changed", keep=principal.session_id)

    # --- users

    async def bootstrap_admin(self, session: AsyncSession, email: str, password: str, now: datetime) -> bool:
        """Create the first admin when there is no active admin; True when one was created."""
        users = UserRepository(session)
        await users.lock_bootstrap()
        if await users.active_admins() > 0:
            return False
        existing = await users.by_email(email_key(email), for_update=True)
        values = {
            "role": "admin",
            "active": True,
            "password_hash": await self.passwords.hash(password),
            "failed_logins": 0,
            "locked_until": None,
            "updated_at": now,
        }
        if existing is not None:
            # An operator recovering access: the named account becomes the admin again.
            unlinked = {"agent_id": None, "contact_id": None, "organization_id": None, "organization_cases": False}
            await users.update(existing["id"], {**values, **unlinked})
        else:
            await users.insert(
                {**values, "id": uuid7(), "email": email_key(email), "name": "Administrator", "created_at": now}
            )
        return True

    async def create_user(
        self, session: AsyncSession, body: UserCreate, now: datetime, contacts: ContactDirectory | None = None
    ) -> RowMapping:
        """``contacts``, when given, checks an end user's contact and takes its organization from case-core."""
        users = UserRepository(session)
        self._check_links(body.role, body.agent_id, body.contact_id, body.organization_id, body.organization_cases)
        if await users.email_taken(body.email):
            raise EmailTaken(f"A user with email {body.email} already exists.")
        await self._check_links_free(users, body.agent_id, body.contact_id, None)
        values = body.model_dump(exclude={"password"})
        if contacts is not None and body.contact_id is not None:
            values["organization_id"] = await contacts.organization_of(body.contact_id, body.organization_id)
            self._check_links(
                body.role, None, body.contact_id, values["organization_id"], body.organization_cases, sent=frozenset()
            )
        user_id = uuid7()
        if body.role in ("agent", "light_agent") and body.agent_id is None:
            # routing keys agent records by the gateway's user id.
            values["agent_id"] = user_id
        values.update(
            id=user_id,
            password_hash=await self.passwords.hash(body.password) if body.password else None,
            created_at=now,
            updated_at=now,
        )
        return await users.insert(values)

    async def get_user(self, session: AsyncSession, user_id: uuid.UUID) -> RowMapping:
        return await UserRepository(session).get_or_raise(user_id, _no_user)

    async def list_users(
        self, session: AsyncSession, *, after: uuid.UUID | None, limit: int, role: str | None, email: str | None
    ) -> list[RowMapping]:
        return await UserRepository(session).page(after=after, limit=limit, role=role, email=email)

    async def update_user(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        body: UserUpdate,
        now: datetime,
        contacts: ContactDirectory | None = None,
    ) -> RowMapping:
        users = UserRepository(session)
        user = await users.get(user_id, for_update=True)
        if user is None:
            raise _no_user(user_id)
        sent = body.model_dump(exclude_unset=True, exclude={"password", "unlock"})
        merged = {**dict(user), **sent}
        if "role" in sent and "agent_id" not in sent:
            # The routing link follows the role unless the admin names one.
            agent_roles = ("agent", "light_agent")
            if merged["role"] in agent_roles and merged["agent_id"] is None:
                sent["agent_id"] = merged["agent_id"] = user_id
            elif merged["role"] not in agent_roles:
                sent["agent_id"] = merged["agent_id"] = None
        self._check_links(
            merged["role"],
            merged["agent_id"],
            merged["contact_id"],
            merged["organization_id"],
            merged["organization_cases"],
            sent=frozenset(body.model_fields_set),
        )
        relinked = {"contact_id", "organization_id"} & set(sent)
        if contacts is not None and relinked and merged["contact_id"] is not None:
            named = merged["organization_id"] if "organization_id" in sent else None
            sent["organization_id"] = merged["organization_id"] = await contacts.organization_of(
                merged["contact_id"], named
            )
            self._check_links(
                merged["role"],
                merged["agent_id"],
                merged["contact_id"],
                merged["organization_id"],
                merged["organization_cases"],
                sent=frozenset(),
            )
        if "email" in sent and await users.email_taken(sent["email"], other_than=user_id):
            raise EmailTaken(f"A user with email {sent['email']} already exists.")
        await self._check_links_free(users, sent.get("agent_id"), sent.get("contact_id"), user_id)
        losing_admin = (
            user["role"] == "admin" and user["active"] and (merged["role"] != "admin" or not merged["active"])
        )
        if losing_admin:
            await users.lock_bootstrap()
            if await users.active_admins() <= 1:
                raise LastAdmin("This is the last active admin; make another admin first.")
        values: dict[str, Any] = {**sent, "updated_at": now}
        if body.password is not None:
            values["password_hash"] = await self.passwords.hash(body.password)
        if body.unlock:
            values.update(failed_logins=0, locked_until=None)
        # A new password, a new role or a disabled account ends every login made before it.
        if body.password is not None or merged["role"] != user["role"] or not merged["active"]:
            await SessionRepository(session).revoke_all_of(user_id, now, "account_changed")
        return await users.update(user_id, values)

    @staticmethod
    def _check_links(
        role: str,
        agent_id: uuid.UUID | None,
        contact_id: uuid.UUID | None,
        organization_id: uuid.UUID | None,
        organization_cases: bool,
        *,
        sent: frozenset[str] | None = None,
    ) -> None:
        """A link that does not fit: a 422 when the body alone breaks the rule (``sent``: the fields a
        change sent; None: a new user, the body is everything), else a 409 (the stored user or the
        contact as it is now break it), as a schema can only say what a body breaks."""
        try:
            check_links(role, agent_id, contact_id, organization_id, organization_cases)
        except LinkError as error:
            errors = [FieldError(field=f"body.{error.field}", message=error.message, code="link")]
            partner = "organization_id" if error.field == "organization_cases" else "role"
            if sent is None or {error.field, partner} <= sent:
                raise ValidationFailed(f"{error.field}: {error.message}.", errors=errors) from None
            raise LinkConflict(f"{error.field}: {error.message} (as the user is now).", errors=errors) from None

    @staticmethod
    async def _check_links_free(
        users: UserRepository, agent_id: uuid.UUID | None, contact_id: uuid.UUID | None, user_id: uuid.UUID | None
    ) -> None:
        if agent_id is not None and await users.link_taken("agent_id", agent_id, other_than=user_id):
            raise LinkTaken(f"Agent {agent_id} is already linked to another user.")
        if contact_id is not None and await users.link_taken("contact_id", contact_id, other_than=user_id):
            raise LinkTaken(f"Contact {contact_id} is already linked to another user.")

    # --- API tokens

    async def create_api_token(
        self, session: AsyncSession, body: ApiTokenCreate, created_by: uuid.UUID | None, now: datetime
    ) -> tuple[RowMapping, str]:
        secret = new_secret(API_TOKEN_PREFIX)
        row = await ApiTokenRepository(session).insert(
            {
                "id": uuid7(),
                "name": body.name,
                "token_hash": token_hash(secret),
                "token_prefix": secret[:12],
                "scopes": body.scopes,
                "created_by": created_by,
                "created_at": now,
                "expires_at": None if body.expires_in is None else now + timedelta(seconds=body.expires_in),
            }
        )
        return row, secret

    async def get_api_token(self, session: AsyncSession, token_id: uuid.UUID) -> RowMapping:
        return await ApiTokenRepository(session).get_or_raise(token_id, _no_token)

    async def list_api_tokens(self, session: AsyncSession, *, after: uuid.UUID | None, limit: int) -> list[RowMapping]:
        return await ApiTokenRepository(session).page(after=after, limit=limit)

    async def revoke_api_token(self, session: AsyncSession, token_id: uuid.UUID, now: datetime) -> RowMapping:
        row = await ApiTokenRepository(session).revoke(token_id, now)
        if row is None:
            raise _no_token(token_id)
        return row
