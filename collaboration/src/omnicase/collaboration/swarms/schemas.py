"""Swarms as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.inputs import StrictInput, Trimmed

Urgency = Literal["low", "normal", "high", "urgent"]
MemberKind = Literal["agent", "group"]
Question = Annotated[str, Trimmed(5000)]
MessageText = Annotated[str, Trimmed(20_000)]


class MemberRef(StrictInput):
    kind: MemberKind = Field(description="An agent (routing's agent, by its user id) or a group.")
    id: uuid.UUID


class SwarmCreate(StrictInput):
    question: Question = Field(examples=["Why does the sync worker drop invoices over 10 MB?"])
    urgency: Urgency = "normal"
    members: list[MemberRef] = Field(
        default_factory=list, max_length=50, description="The experts pulled in at the start (more may join later)."
    )


class SwarmEnd(StrictInput):
    status: Literal["resolved", "abandoned"]
    outcome: Annotated[str, Trimmed(20_000)] = Field(description="What the swarm found or why it stopped.")


class MessageCreate(StrictInput):
    text: MessageText
    mentions: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Agents (user ids) @mentioned in the text."
    )


class SwarmMember(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: MemberKind
    id: uuid.UUID
    added_by: str
    joined_at: datetime


class Swarm(BaseModel):
    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "SwarmPage"

    id: uuid.UUID
    case_id: uuid.UUID
    started_by: str = Field(description="user:<id> of whoever started it (the case's owner stays its assignee).")
    question: str
    urgency: Urgency
    status: Literal["open", "resolved", "abandoned"]
    outcome: str | None
    started_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    slack_channel: str | None = Field(description="The Slack channel of its thread, when Slack is connected.")
    slack_thread_ts: str | None = Field(description="The Slack thread (its first message's ts).")
    draft_article_id: uuid.UUID | None = Field(
        description=(
            "The draft knowledge article offered when the swarm was resolved (from the case's question and answer"
            " and the outcome, linked to the case and the swarm); null before, or when the case was not solved yet."
        )
    )
    members: list[SwarmMember]


class SwarmAttachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    sha256: str
    filename: str
    content_type: str
    size: int
    url: str = Field(description="Where the swarm's members download it.")


class SwarmMessage(BaseModel):
    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "SwarmMessagePage"

    id: uuid.UUID
    swarm_id: uuid.UUID
    author: str = Field(description="user:<id>, or slack:<user id> for a Slack user Omnicase does not know.")
    author_name: str | None
    text: str
    mentions: list[str]
    source: Literal["omnicase", "slack"]
    posted_at: datetime
    promoted_at: datetime | None = Field(description="When it was copied into the case as an internal note.")
    promoted_by: str | None
    attachments: list[SwarmAttachment] = Field(default_factory=list)
