"""Errors of the identity domain."""

from omnicase.kit.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized


class UserNotFound(NotFound):
    slug = "user-not-found"


class EmailTaken(Conflict):
    slug = "email-taken"


class LinkTaken(Conflict):
    slug = "link-taken"


class LinkConflict(Conflict):
    """A link the body may send but the user or contact as they are now do not allow (a contact for a
    user whose stored role is not end user, an organization other than the contact's): a 409 naming the
    field, where a link the body alone breaks is a 422."""

    slug = "link-conflict"


class WrongCurrentPassword(Forbidden):
    """A password change whose current password does not match: the caller has not shown they may make it."""

    slug = "wrong-current-password"


class LastAdmin(Conflict):
    slug = "last-admin"


class ApiTokenNotFound(NotFound):
    slug = "api-token-not-found"


class InvalidBearer(Unauthorized):
    """RFC 6750 §3: the challenge says why, so clients know to refresh or log in again."""

    def __init__(self, detail: str, *, error: str | None = "invalid_token") -> None:
        challenge = 'Bearer realm="omnicase"'
        if error:
            challenge += f', error="{error}", error_description="{detail}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class OAuthError(BadRequest):
    """RFC 6749 §5.2 token-endpoint error: a problem that also carries ``error`` and ``error_description``."""

    slug = "oauth-error"
    title = "Token request refused"

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail, extra={"error": error, "error_description": detail})
        self.oauth_error = error


class InvalidGrant(OAuthError):
    slug = "invalid-grant"

    def __init__(self, detail: str) -> None:
        super().__init__("invalid_grant", detail)
