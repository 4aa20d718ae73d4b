"""What policies and automations share: conditions on a case and actions on it.

Conditions are lists; an empty list matches anything, a non-empty one requires the
case's value to be among them (tags: all / any / none of). Actions are a tagged union
(``type``) that :mod:`omnicase.sla_engine.actions` turns into commands.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, HttpUrl

from omnicase.kit.events import CaseSnapshot, CaseStatus, Channel, Priority
from omnicase.kit.inputs import CASE_TAG_PATTERN, NOT_SPACE, EmailAddress, Locale, StrictInput

Tag = Annotated[str, Field(min_length=1, max_length=100, pattern=rf"^{NOT_SPACE}+$")]
# A tag an action puts on or takes off a case: case-core's rule, so the command it becomes is one
# case-core takes (a tag beyond it was dead-lettered, and enough of them stopped case-core's
# command consumer).
CaseTag = Annotated[str, Field(pattern=CASE_TAG_PATTERN)]


class CaseConditions(StrictInput):
    priority: list[Priority] = Field(default_factory=list, examples=[["high", "urgent"]])
    channel: list[Channel] = Field(default_factory=list, examples=[["email"]])
    brand: list[str] = Field(default_factory=list, examples=[["acme"]], description="Brand slugs.")
    brand_id: list[uuid.UUID] = Field(default_factory=list, description="Brands by id (case-core's /api/v1/brands).")
    language: list[Locale] = Field(
        default_factory=list,
        examples=[["zh"]],
        description="The case's language (case-core's, stated or detected); `zh` also holds for `zh-cn`.",
    )
    type: list[str] = Field(default_factory=list, examples=[["incident"]])
    group_id: list[uuid.UUID] = Field(default_factory=list)
    organization_id: list[uuid.UUID] = Field(default_factory=list)
    tags_all: list[Tag] = Field(default_factory=list, description="The case has every one of these tags.")
    tags_any: list[Tag] = Field(default_factory=list, description="The case has at least one of these tags.")
    tags_none: list[Tag] = Field(default_factory=list, description="The case has none of these tags.")

    def matches(self, case: CaseSnapshot) -> bool:
        tags = set(case.tags)
        checks = (
            (self.priority, case.priority),
            (self.channel, case.channel),
            (self.brand, case.brand),
            (self.brand_id, case.brand_id),
            (self.type, case.type),
            (self.group_id, case.group_id),
            (self.organization_id, case.organization_id),
        )
        if any(allowed and value not in allowed for allowed, value in checks):
            return False
        if self.language and not _speaks(self.language, case.language):
            return False
        if self.tags_all and not set(self.tags_all) <= tags:
            return False
        if self.tags_any and not set(self.tags_any) & tags:
            return False
        return not (self.tags_none and set(self.tags_none) & tags)


def _speaks(languages: list[str], language: str | None) -> bool:
    """The case's language is one of ``languages``, or a regional form of one (``zh-cn`` of ``zh``)."""
    wanted = (language or "").lower()
    return any(wanted == allowed or wanted.startswith(f"{allowed}-") for allowed in languages)


class AutomationConditions(CaseConditions):
    status: list[CaseStatus] = Field(default_factory=list, examples=[["pending"]])

    def matches(self, case: CaseSnapshot) -> bool:
        if self.status and case.status not in self.status:
            return False
        return super().matches(case)


class SetPriority(StrictInput):
    type: Literal["set_priority"]
    priority: Priority


class RaisePriority(StrictInput):
    """One level up (low → normal → high → urgent); nothing at urgent."""

    type: Literal["raise_priority"]


class MoveToGroup(StrictInput):
    type: Literal["move_to_group"]
    group_id: uuid.UUID


class AddTags(StrictInput):
    type: Literal["add_tags"]
    tags: list[CaseTag] = Field(min_length=1)


class RemoveTags(StrictInput):
    type: Literal["remove_tags"]
    tags: list[CaseTag] = Field(min_length=1)


class InternalNote(StrictInput):
    type: Literal["internal_note"]
    text: str = Field(min_length=1, max_length=10_000)


class NotifyEmail(StrictInput):
    type: Literal["notify_email"]
    to: list[EmailAddress] = Field(min_length=1, max_length=20)
    subject: str | None = Field(default=None, max_length=500)
    text: str | None = Field(default=None, max_length=10_000, description="Defaults to a generated summary.")


class NotifyWebhook(StrictInput):
    type: Literal["webhook"]
    url: HttpUrl


class SetStatus(StrictInput):
    type: Literal["set_status"]
    status: Literal["open", "pending", "on_hold", "solved", "closed"]


EscalationAction = Annotated[
    SetPriority | RaisePriority | MoveToGroup | AddTags | RemoveTags | InternalNote | NotifyEmail | NotifyWebhook,
    Field(discriminator="type"),
]
# Every action an automation may take; an escalation takes all but SetStatus.
Action = (
    SetStatus
    | SetPriority
    | RaisePriority
    | MoveToGroup
    | AddTags
    | RemoveTags
    | InternalNote
    | NotifyEmail
    | NotifyWebhook
)
AutomationAction = Annotated[Action, Field(discriminator="type")]
