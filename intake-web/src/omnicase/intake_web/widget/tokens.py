"""The anonymous visitor's conversation token: which conversation of which widget channel a browser holds.

A site may instead identify a logged-in customer with a JWT of its own (HS256, signed with
one of the channel's ``identity_secrets``): their conversation is then one per widget, the
same on every device, and the token carries who they are.

An HS256 token of its own ``typ`` and audience (never taken for any other token of the
suite), signed with ``INTAKE_WEB_WIDGET_TOKEN_SECRET``. Issuing one stores nothing: the
conversation's row is written by its first message, so opening the widget costs no write.
The widget keeps it in ``localStorage``, so a reload or a second tab continues the same
conversation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from omnicase.kit.identity import InvalidToken, hs256_decode, hs256_encode
from omnicase.kit.inputs import is_email_address

TOKEN_TYPE = "omnicase-widget-conversation"
AUDIENCE = "omnicase-widget"


@dataclass(frozen=True)
class Visitor:
    """What we know of a visitor: the site identified them (its own signed JWT: ``user_id``, and what it
    says of them), or they answered the pre-chat form (no ``user_id``)."""

    user_id: str | None
    email: str | None = None
    name: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class Conversation:
    channel_id: uuid.UUID
    conversation_id: uuid.UUID
    expires_at: datetime
    visitor: Visitor | None = None
    # Held as spam (the forms' rules, when the conversation began): why. Its messages never open a case.
    spam: str | None = None


SITE_TOKEN_TYPE = "JWT"


def site_visitor(token: str, secrets: list[str], now: datetime) -> Visitor:
    """The visitor a site's JWT names, signed with one of the channel's identity secrets (HS256, ``exp``
    required), or :class:`InvalidToken`."""
    if not secrets:
        raise InvalidToken("this widget takes no identified visitors")
    error: InvalidToken | None = None
    for secret in secrets:
        try:
            claims = hs256_decode(token, secret, typ=SITE_TOKEN_TYPE, now=now)
            break
        except InvalidToken as refused:
            error = refused
    else:
        assert error is not None
        raise error
    user_id, email, name = claims.get("sub"), claims.get("email"), claims.get("name")
    if not isinstance(user_id, str) or not 0 < len(user_id) <= 200:
        raise InvalidToken("the token names no user (sub)")
    if email is not None and not (isinstance(email, str) and is_email_address(email)):
        raise InvalidToken("the token's email is not an email address")
    if name is not None and not (isinstance(name, str) and len(name) <= 200):
        raise InvalidToken("the token's name is not a name")
    return Visitor(user_id, email, name)


def visitor_conversation(channel_id: uuid.UUID, user_id: str) -> uuid.UUID:
    """An identified visitor has one conversation per widget, on every device: their whole history."""
    return uuid.uuid5(channel_id, f"visitor:{user_id}")


def issue(
    secret: str,
    channel_id: uuid.UUID,
    conversation_id: uuid.UUID,
    now: datetime,
    days: int,
    visitor: Visitor | None = None,
    spam: str | None = None,
) -> str:
    claims: dict[str, object] = {
        "aud": AUDIENCE,
        "ch": str(channel_id),
        "sub": str(conversation_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(days=days)).timestamp()),
    }
    if visitor is not None:
        claims["vis"] = {"id": visitor.user_id, "email": visitor.email, "name": visitor.name, "topic": visitor.topic}
    if spam is not None:
        claims["spam"] = spam
    return hs256_encode(claims, secret, typ=TOKEN_TYPE)


def read(secret: str, token: str, channel_id: uuid.UUID, now: datetime) -> Conversation:
    """The conversation a valid token of this channel names, or :class:`InvalidToken`."""
    claims = hs256_decode(token, secret, typ=TOKEN_TYPE, now=now, audience=AUDIENCE)
    try:
        named_channel = uuid.UUID(str(claims["ch"]))
        conversation_id = uuid.UUID(str(claims["sub"]))
        expires = datetime.fromtimestamp(float(claims["exp"]), tz=now.tzinfo)
        seen = claims.get("vis")
        spam = claims.get("spam")
        visitor = (
            None if seen is None else Visitor(seen.get("id"), seen.get("email"), seen.get("name"), seen.get("topic"))
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InvalidToken("token claims are incomplete") from error
    if named_channel != channel_id:
        raise InvalidToken("token is for another widget")
    return Conversation(named_channel, conversation_id, expires, visitor, spam if isinstance(spam, str) else None)
