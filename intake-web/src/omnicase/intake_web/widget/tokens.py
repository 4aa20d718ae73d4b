"""The anonymous visitor's conversation token: which conversation of which widget channel a browser holds.

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

TOKEN_TYPE = "omnicase-widget-conversation"
AUDIENCE = "omnicase-widget"


@dataclass(frozen=True)
class Conversation:
    channel_id: uuid.UUID
    conversation_id: uuid.UUID
    expires_at: datetime


def issue(secret: str, channel_id: uuid.UUID, conversation_id: uuid.UUID, now: datetime, days: int) -> str:
    claims = {
        "aud": AUDIENCE,
        "ch": str(channel_id),
        "sub": str(conversation_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(days=days)).timestamp()),
    }
    return hs256_encode(claims, secret, typ=TOKEN_TYPE)


def read(secret: str, token: str, channel_id: uuid.UUID, now: datetime) -> Conversation:
    """The conversation a valid token of this channel names, or :class:`InvalidToken`."""
    claims = hs256_decode(token, secret, typ=TOKEN_TYPE, now=now, audience=AUDIENCE)
    try:
        named_channel = uuid.UUID(str(claims["ch"]))
        conversation_id = uuid.UUID(str(claims["sub"]))
        expires = datetime.fromtimestamp(float(claims["exp"]), tz=now.tzinfo)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidToken("token claims are incomplete") from error
    if named_channel != channel_id:
        raise InvalidToken("token is for another widget")
    return Conversation(named_channel, conversation_id, expires)
