"""Macros: rendering their texts for a case, previewing and applying them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseRow
from omnicase.case_core.cases.schemas import CaseChanges
from omnicase.case_core.cases.service import CaseService, MessageDraft
from omnicase.case_core.identity import Actor
from omnicase.case_core.macros.repository import MacroRepository, MacroRow
from omnicase.case_core.macros.schemas import (
    AddReply,
    AddTemplatedNote,
    MacroAction,
    MacroCreate,
    MacroUpdate,
    RenderedMessage,
)
from omnicase.case_core.membership import Membership
from omnicase.case_core.templates import placeholder_values, render_for
from omnicase.case_core.triggers.schemas import AddTags, RemoveTags, SetField
from omnicase.case_core.triggers.service import case_json, check_set_values, diff
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import Conflict, NotFound
from omnicase.kit.ids import uuid7

ACTIONS = TypeAdapter(list[MacroAction])


class MacroNotFound(NotFound):
    slug = "macro-not-found"


def _missing(macro_id: uuid.UUID) -> MacroNotFound:
    return MacroNotFound(f"No macro {macro_id}.")


class MacroInactive(Conflict):
    slug = "macro-inactive"


@dataclass
class Applied:
    case: CaseRow
    messages: list[RenderedMessage]


def _changes_of(actions: list[MacroAction]) -> CaseChanges:
    values: dict[str, Any] = {"add_tags": [], "remove_tags": []}
    for action in actions:
        if isinstance(action, SetField):
            values[action.field] = action.value
        elif isinstance(action, AddTags):
            values["add_tags"] += action.tags
        elif isinstance(action, RemoveTags):
            values["remove_tags"] += action.tags
    return CaseChanges.model_validate(values)


class MacroService:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases

    async def available(self, session: AsyncSession, group_ids: Sequence[uuid.UUID] | None) -> list[MacroRow]:
        """Active macros for everyone plus those of ``group_ids``; ``None``: every macro (admins)."""
        return await MacroRepository(session).available(group_ids)

    # --- definitions

    async def create(self, session: AsyncSession, data: MacroCreate) -> MacroRow:
        check_set_values(data.actions, "body.actions")
        now = utcnow()
        macro = MacroRow(
            id=uuid7(),
            name=data.name,
            description=data.description,
            active=data.active,
            position=data.position,
            group_ids=tuple(data.group_ids),
            actions=tuple(ACTIONS.dump_python(data.actions, mode="json")),
            created_at=now,
            updated_at=now,
        )
        return await MacroRepository(session).insert(macro)

    async def get(self, session: AsyncSession, macro_id: uuid.UUID) -> MacroRow:
        return await MacroRepository(session).get_or_raise(macro_id, _missing)

    async def update(self, session: AsyncSession, macro_id: uuid.UUID, data: MacroUpdate) -> MacroRow:
        await self.get(session, macro_id)
        values: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"actions"})
        if data.actions is not None:
            check_set_values(data.actions, "body.actions")
            values["actions"] = ACTIONS.dump_python(data.actions, mode="json")
        values["updated_at"] = utcnow()
        return await MacroRepository(session).update(macro_id, values)

    async def delete(self, session: AsyncSession, macro_id: uuid.UUID) -> None:
        if not await MacroRepository(session).delete(macro_id):
            raise _missing(macro_id)

    # --- use

    async def _render(
        self, session: AsyncSession, case: CaseRow, actions: list[MacroAction], agent_name: str
    ) -> list[RenderedMessage]:
        values = await placeholder_values(session, case, agent_name, content=self.cases.content)
        rendered = []
        for action in actions:
            if isinstance(action, AddReply | AddTemplatedNote):
                text, html = render_for(action, case, values)
                rendered.append(RenderedMessage(public=isinstance(action, AddReply), text=text, html=html))
        return rendered

    async def _usable(
        self, session: AsyncSession, macro_id: uuid.UUID, membership: Membership | None
    ) -> list[MacroAction]:
        macro = await self.get(session, macro_id)
        # Another group's macro is not offered to this caller, so it is not theirs to apply either.
        if macro.group_ids and membership is not None:
            groups = await membership.groups()
            if groups is not None and not set(macro.group_ids) & set(groups):
                raise _missing(macro_id)
        if not macro.active:
            raise MacroInactive(f"Macro {macro.name!r} is inactive.")
        return ACTIONS.validate_python(macro.actions)

    async def preview(
        self,
        session: AsyncSession,
        macro_id: uuid.UUID,
        case_id: uuid.UUID,
        actor: Actor,
        agent_name: str,
        membership: Membership | None = None,
    ) -> tuple[dict[str, Any], list[RenderedMessage]]:
        """The changes and messages applying would make; run in a savepoint that is rolled back."""
        actions = await self._usable(session, macro_id, membership)
        savepoint = await session.begin_nested()
        try:
            before = await self.cases.get(session, case_id)
            after = await self.cases.change(session, case_id, _changes_of(actions), Actor(actor.name, via="dry-run"))
            return diff(case_json(before), case_json(after)), await self._render(session, before, actions, agent_name)
        finally:
            await savepoint.rollback()

    async def apply(
        self,
        session: AsyncSession,
        macro_id: uuid.UUID,
        case_id: uuid.UUID,
        actor: Actor,
        agent_name: str,
        *,
        expected_version: int | None,
        membership: Membership | None = None,
    ) -> Applied:
        actions = await self._usable(session, macro_id, membership)
        case = await self.cases.change(session, case_id, _changes_of(actions), actor, expected_version=expected_version)
        messages = await self._render(session, case, actions, agent_name)
        for message in messages:
            draft = MessageDraft(
                direction="outbound",
                public=message.public,
                author=actor.name,
                author_role="agent",
                channel=case.channel,
                text=message.text,
                html=message.html if message.public else None,
            )
            case, _ = await self.cases.add_message(session, case_id, draft, actor)
        return Applied(case=case, messages=messages)
