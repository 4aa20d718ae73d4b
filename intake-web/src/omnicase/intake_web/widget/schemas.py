"""Pydantic shapes of the widget's public API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

from omnicase.intake_web.widget.repository import Entry
from omnicase.kit.inputs import NOT_SPACE, EmailAddress, StrictInput


class ConversationStarted(BaseModel):
    conversation_id: uuid.UUID
    token: str = Field(
        description="Keep it (the widget keeps it in localStorage) and send it as `X-Widget-Token`, or `?token=` "
        "on the event stream, to continue this conversation."
    )
    expires_at: datetime


class ConversationStartIn(StrictInput):
    identity: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="The site's JWT for a logged-in customer (HS256 with one of the widget's identity secrets; "
        "`sub`, `exp`, optional `email` and `name`).",
    )
    name: str | None = Field(default=None, min_length=1, max_length=200, description="Pre-chat form: the name.")
    email: EmailAddress | None = Field(default=None, description="Pre-chat form: the email address.")
    topic: str | None = Field(
        default=None, min_length=1, max_length=50, description="Pre-chat form: one of its topics."
    )
    # The forms' spam rules, when the widget has them (`config.spam`): not asked of identified visitors.
    honeypot: str | None = Field(
        default=None, max_length=1000, description="The hidden field people never fill in (the widget's `spam`)."
    )
    ts: str | None = Field(
        default=None,
        max_length=200,
        description="The fill-time token the widget's script came with (`spam.min_fill_seconds`).",
    )
    captcha: str | None = Field(
        default=None, max_length=4096, description="The captcha provider's answer token (`spam.captcha`)."
    )


class WidgetMessageIn(StrictInput):
    text: str = Field(min_length=1, max_length=20_000, pattern=rf"{NOT_SPACE}", description="What the visitor wrote.")
    client_id: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The widget's id for this message: sent again after a lost answer, it is stored once.",
    )


class WidgetArticle(BaseModel):
    article_id: uuid.UUID
    title: str
    url: str = Field(description="The article in the help center.")
    locale: str


class WidgetFile(BaseModel):
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")


class WidgetEntry(BaseModel):
    seq: int = Field(description="Its place in the conversation; the event stream's event id.")
    direction: Literal["visitor", "agent", "articles", "note"] = Field(
        description="`articles`: suggested articles (answers first); `note`: the question ended, as `note` says."
    )
    text: str
    author: str | None
    client_id: str | None = Field(description="The widget's id of a visitor's message.")
    articles: list[WidgetArticle] | None = Field(default=None, description="An `articles` entry's articles.")
    attachments: list[WidgetFile] | None = Field(default=None, description="The files a visitor's message carries.")
    note: Literal["answered", "handed_over"] | None = Field(
        default=None, description="A `note`: an article answered the question (the case is solved), or a person will."
    )
    sent_at: datetime

    @classmethod
    def of(cls, entry: Entry) -> WidgetEntry:
        data = entry.data or {}
        articles = data.get("articles")
        files = data.get("attachments")
        return cls(
            seq=entry.seq,
            direction=entry.direction,
            text=entry.text,
            author=entry.author,
            client_id=entry.client_id,
            articles=[WidgetArticle.model_validate(a) for a in articles] if isinstance(articles, list) else None,
            attachments=[WidgetFile.model_validate(f) for f in files] if isinstance(files, list) else None,
            note=data.get("note"),
            sent_at=entry.created_at,
        )


class WidgetUploadIn(StrictInput):
    """The visitor sends files (multipart, in `attachments`), with an optional line."""

    client_id: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The widget's id for this message: sent again after a lost answer, it is stored once.",
    )
    text: str = Field(default="", max_length=20_000, description="What the visitor wrote with the files, if anything.")


class WidgetAnswerIn(StrictInput):
    article_id: uuid.UUID = Field(description="The suggested article that answered the visitor's question.")


class WidgetHoursOut(BaseModel):
    away: bool = Field(description="Outside the chat's business hours now: the widget offers to leave a message.")


class WidgetTranscript(BaseModel):
    conversation_id: uuid.UUID
    entries: list[WidgetEntry] = Field(description="Oldest first: at most 500, after `?after=` when given.")


class WidgetSignalIn(StrictInput):
    """Typing, or read up to an entry: from the visitor (the socket's frame, or posted) or from an agent."""

    type: Literal["typing", "read"]
    seq: int | None = Field(
        default=None, ge=0, le=2**31 - 1, description="read: the last entry read (everything so far when left out)."
    )


class ChatState(BaseModel):
    """Where both sides of a case's chat stand, for the desk's console."""

    conversation_id: uuid.UUID
    channel_id: uuid.UUID
    last_seq: int = Field(description="The conversation's last entry.")
    visitor_read_seq: int = Field(description="The last entry the visitor has read.")
    agent_read_seq: int = Field(description="The last entry the desk has read.")
    visitor_typing: bool = Field(description="The visitor said they were typing in the last few seconds.")
    agent_typing: bool


class WidgetSocketMessageIn(WidgetMessageIn):
    """The visitor writes over the socket: the POST's body with ``"type": "message"``."""

    type: Literal["message"]


# What a visitor's socket frame may be: a message, or their typing and read receipts.
SocketFrameIn: TypeAdapter[WidgetSocketMessageIn | WidgetSignalIn] = TypeAdapter(
    Annotated[WidgetSocketMessageIn | WidgetSignalIn, Field(discriminator="type")]
)
