"""Triggers: ordered business rules run inside every case create and update.

The chain (the Zendesk model): after the caller's change, the active rules are tested
in order against the case and everything this update changed so far; the first that
holds fires (its actions are applied as ``trigger:<id>``) and testing starts again
from the top, so earlier rules see later rules' changes. Each rule fires at most once
per update, so the chain always ends. A rule that already fired and would change the
case again (two rules undoing each other) is a loop: it is not fired again, and the
run records the reason. A rule whose actions the case rules refuse (a transition
that is not allowed) is skipped with the reason recorded; the caller's change stands.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseRow
from omnicase.case_core.cases.schemas import CaseChanges
from omnicase.case_core.cases.service import CaseService, MessageDraft
from omnicase.case_core.cases.snapshot import to_snapshot
from omnicase.case_core.identity import Actor
from omnicase.case_core.models import config_version
from omnicase.case_core.notifications.service import Draft, NotificationService, RecipientKind
from omnicase.case_core.templates import placeholder_values, render_for, render_text
from omnicase.case_core.triggers.conditions import matches
from omnicase.case_core.triggers.repository import TriggerRepository, TriggerRow, TriggerRunRow
from omnicase.case_core.triggers.schemas import (
    Action,
    AddNote,
    AddTags,
    Conditions,
    EmailAssignee,
    EmailGroup,
    EmailRequester,
    NotifyWebhook,
    RemoveTags,
    SetField,
    TriggerCreate,
    TriggerUpdate,
)
from omnicase.case_core.webhooks.service import WebhookService
from omnicase.kit.clock import utcnow
from omnicase.kit.config_version import VersionedCache
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, NotFound, ServiceError, ValidationFailed, refusal
from omnicase.kit.events import FieldChange
from omnicase.kit.ids import uuid7

ACTIONS = TypeAdapter(list[Action])
# Fields of the snapshot every update moves; not what rules look at.
_BOOKKEEPING = {"updated_at", "version", "created_at", "number", "case_id"}


class TriggerNotFound(NotFound):
    slug = "trigger-not-found"


def _missing(trigger_id: uuid.UUID) -> TriggerNotFound:
    return TriggerNotFound(f"No trigger {trigger_id}.")


@dataclass(frozen=True)
class ActiveRule:
    """An active trigger, its conditions and actions parsed once per configuration version."""

    row: TriggerRow
    conditions: Conditions
    actions: list[Action]


@dataclass
class RunResult:
    fired: list[TriggerRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def stopped_reason(self) -> str | None:
        return "; ".join(self.notes) or None


def case_json(row: CaseRow) -> dict[str, Any]:
    # The snapshot other services get, and what only the rules match: the satisfaction rating.
    rating = row.satisfaction.get("rating") if row.satisfaction else None
    return {**to_snapshot(row).model_dump(mode="json"), "satisfaction": rating}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"old": before.get(name), "new": value}
        for name, value in after.items()
        if name not in _BOOKKEEPING and before.get(name) != value
    }


def _would_change(actions: list[Action], case: dict[str, Any]) -> bool:
    tags = set(case.get("tags") or [])
    for action in actions:
        if isinstance(action, SetField) and str(case.get(action.field)) != str(action.value):
            return True
        if isinstance(action, AddTags) and any(tag.lower() not in tags for tag in action.tags):
            return True
        if isinstance(action, RemoveTags) and any(tag.lower() in tags for tag in action.tags):
            return True
    return False


def _changes_of(actions: list[Action]) -> CaseChanges:
    values: dict[str, Any] = {"add_tags": [], "remove_tags": []}
    for action in actions:
        if isinstance(action, SetField):
            values[action.field] = action.value
        elif isinstance(action, AddTags):
            values["add_tags"] += action.tags
        elif isinstance(action, RemoveTags):
            values["remove_tags"] += action.tags
    return CaseChanges.model_validate(values)


def check_set_values(actions: Sequence[object], location: str) -> None:
    """Set values must be what a PATCH of the case would accept (shared with macros)."""
    errors: list[FieldError] = []
    for index, action in enumerate(actions):
        if isinstance(action, SetField):
            try:
                CaseChanges.model_validate({action.field: action.value})
            except ValidationError as error:
                message = error.errors()[0]["msg"]
                errors.append(FieldError(field=f"{location}.{index}.value", message=message, code="invalid"))
    if errors:
        raise ValidationFailed("An action sets a value a case cannot take.", errors=errors)


class TriggerService:
    def __init__(
        self,
        cases: CaseService,
        webhooks: WebhookService,
        notifications: NotificationService,
    ) -> None:
        self.cases = cases
        self.webhooks = webhooks
        self.notifications = notifications
        # Read for every case create and update: kept per process until a trigger changes anywhere.
        self.active_rules: VersionedCache[list[ActiveRule]] = VersionedCache(
            config_version, self._load_active, once_per_transaction=True
        )

    async def all(self, session: AsyncSession) -> list[TriggerRow]:
        """Every trigger in evaluation order."""
        return await TriggerRepository(session).all()

    async def runs_of(self, session: AsyncSession, case_id: uuid.UUID) -> list[TriggerRunRow]:
        return await TriggerRepository(session).runs_of(case_id)

    async def _load_active(self, session: AsyncSession, _version: int) -> list[ActiveRule]:
        return [
            ActiveRule(row, Conditions.model_validate(row.conditions), ACTIONS.validate_python(row.actions))
            for row in await TriggerRepository(session).active()
        ]

    async def _check_actions(self, session: AsyncSession, actions: list[Action]) -> None:
        check_set_values(actions, "body.actions")
        missing = [
            FieldError(field=f"body.actions.{index}.webhook_id", message="no such webhook", code=NOT_FOUND_CODE)
            for index, action in enumerate(actions)
            if isinstance(action, NotifyWebhook) and not await self.webhooks.exists(session, action.webhook_id)
        ]
        if missing:
            raise refusal("A trigger action names a webhook that does not exist.", missing)

    # --- rules

    async def create(self, session: AsyncSession, data: TriggerCreate) -> TriggerRow:
        await self._check_actions(session, data.actions)
        now = utcnow()
        position = data.position if data.position is not None else await TriggerRepository(session).next_position()
        trigger = TriggerRow(
            id=uuid7(),
            name=data.name,
            description=data.description,
            active=data.active,
            position=position,
            conditions=data.conditions.model_dump(mode="json"),
            actions=tuple(ACTIONS.dump_python(data.actions, mode="json")),
            created_at=now,
            updated_at=now,
        )
        return await TriggerRepository(session).insert(trigger)

    async def get(self, session: AsyncSession, trigger_id: uuid.UUID) -> TriggerRow:
        return await TriggerRepository(session).get_or_raise(trigger_id, _missing)

    async def update(self, session: AsyncSession, trigger_id: uuid.UUID, data: TriggerUpdate) -> TriggerRow:
        await self.get(session, trigger_id)
        values: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"conditions", "actions"}, mode="json")
        if data.conditions is not None:
            values["conditions"] = data.conditions.model_dump(mode="json")
        if data.actions is not None:
            await self._check_actions(session, data.actions)
            values["actions"] = ACTIONS.dump_python(data.actions, mode="json")
        values["updated_at"] = utcnow()
        return await TriggerRepository(session).update(trigger_id, values)

    async def delete(self, session: AsyncSession, trigger_id: uuid.UUID) -> None:
        if not await TriggerRepository(session).delete(trigger_id):
            raise _missing(trigger_id)

    # --- running

    async def after_change(
        self, session: AsyncSession, case_id: uuid.UUID, changes: dict[str, FieldChange], is_new: bool
    ) -> CaseRow | None:
        """The hook :class:`CaseService` calls after a create or update; returns the case after the rules."""
        rules = await self.active_rules.current(session)
        if not rules:
            return None  # the common case: one version read per transaction
        initial = {name: {"old": change.old, "new": change.new} for name, change in changes.items()}
        row, result = await self.run(session, case_id, initial, is_new=is_new, rules=rules)
        if result.fired or result.notes:
            await TriggerRepository(session).record_run(
                TriggerRunRow(
                    id=uuid7(),
                    case_id=case_id,
                    version=row.version,
                    fired=tuple({"trigger_id": str(t.id), "name": t.name} for t in result.fired),
                    stopped_reason=result.stopped_reason,
                    at=utcnow(),
                ),
            )
        return row

    async def run(
        self,
        session: AsyncSession,
        case_id: uuid.UUID,
        changes: dict[str, dict[str, Any]],
        *,
        is_new: bool,
        rules: list[ActiveRule] | None = None,
    ) -> tuple[CaseRow, RunResult]:
        if rules is None:
            rules = await self.active_rules.current(session)
        row = await self.cases.get(session, case_id)
        result = RunResult()
        if not rules:
            return row, result
        changes = dict(changes)
        done: set[uuid.UUID] = set()
        looped: set[uuid.UUID] = set()
        while True:
            case = case_json(row)
            fired_now = False
            for active in rules:
                rule, conditions, actions = active.row, active.conditions, active.actions
                if not matches(conditions, case, changes, is_new=is_new):
                    continue
                if rule.id in done:
                    if rule.id not in looped and result.fired and _would_change(actions, case):
                        looped.add(rule.id)
                        last = result.fired[-1].name
                        result.notes.append(
                            f"loop stopped: trigger '{rule.name}' would change the case again after "
                            f"'{last}' did (each trigger fires once per update)"
                        )
                    continue
                done.add(rule.id)
                before = case
                try:
                    row = await self._fire(session, row, rule, actions)
                except ServiceError as error:
                    result.notes.append(f"trigger '{rule.name}' could not apply: {error.detail}")
                    continue
                result.fired.append(rule)
                applied = diff(before, case_json(row))
                for name, change in applied.items():
                    first = changes.get(name, change)
                    changes[name] = {"old": first["old"], "new": change["new"]}
                    result.changes[name] = {"old": result.changes.get(name, change)["old"], "new": change["new"]}
                fired_now = True
                break  # start over: earlier rules see this rule's changes
            if not fired_now:
                return row, result

    async def _fire(self, session: AsyncSession, row: CaseRow, rule: TriggerRow, actions: list[Action]) -> CaseRow:
        actor = Actor(name=f"trigger:{rule.id}", via="trigger")
        async with session.begin_nested():
            try:
                changes = _changes_of(actions)
            except ValidationError as error:
                raise ValidationFailed(f"the rule's actions are invalid: {error.errors()[0]['msg']}") from None
            # Only rules that change fields go through the case's rules (a closed case, e.g. a merged
            # source, still lets a rule tell a webhook or a person about it).
            if any(isinstance(action, SetField | AddTags | RemoveTags) for action in actions):
                row = await self.cases.change(session, row.id, changes, actor)
            for action in actions:
                if isinstance(action, EmailRequester):
                    values = await placeholder_values(session, row, content=self.cases.content)
                    text, html = render_for(action, row, values)
                    reply = MessageDraft(
                        direction="outbound",
                        public=True,
                        author=actor.name,
                        author_role="system",
                        channel=row.channel,
                        text=text,
                        html=html,
                    )
                    row, _ = await self.cases.add_message(session, row.id, reply, actor)
                elif isinstance(action, EmailAssignee | EmailGroup):
                    await self._notify_staff(session, row, rule, action)
                elif isinstance(action, NotifyWebhook):
                    data = {"trigger": {"id": str(rule.id), "name": rule.name}, "case": case_json(row)}
                    await self.webhooks.notify(session, action.webhook_id, "trigger.fired", data)
                elif isinstance(action, AddNote):
                    note = MessageDraft(
                        direction="outbound",
                        public=False,
                        author=actor.name,
                        author_role="system",
                        channel=row.channel,
                        text=action.text,
                    )
                    row, _ = await self.cases.add_message(session, row.id, note, actor)
        return row

    async def _notify_staff(
        self, session: AsyncSession, row: CaseRow, rule: TriggerRow, action: EmailAssignee | EmailGroup
    ) -> None:
        """Record the email in this transaction; recipients are resolved from routing after it commits."""
        values = await placeholder_values(session, row, content=self.cases.content)
        text, html = render_for(action, row, values)
        # A subject is a header: no line breaks, whatever a placeholder held.
        subject = " ".join(render_text(action.subject, values).split())
        failed = None
        kind: RecipientKind
        if isinstance(action, EmailAssignee):
            kind, target = "agent", row.assignee_id
            if target is None:
                failed = "the case has no assignee"
        else:
            kind, target = "group", action.group_id or row.group_id
            if target is None:
                failed = "the case has no group"
        await self.notifications.queue(
            session,
            Draft(
                reason=f"trigger:{rule.id}",
                recipient_kind=kind,
                recipient_id=target,
                subject=subject or f"[#{row.number}]",
                text=text,
                html=html,
                case_id=row.id,
                trigger_id=rule.id,
                brand=row.brand,
                failed=failed,
            ),
        )

    async def dry_run(self, session: AsyncSession, case_id: uuid.UUID, changes: CaseChanges, actor: Actor) -> RunResult:
        """What the rules would do to this case (after ``changes``); nothing is kept."""
        savepoint = await session.begin_nested()
        try:
            before = case_json(await self.cases.get(session, case_id))
            row = await self.cases.change(
                session, case_id, changes, Actor(name=actor.name, via="dry-run"), location="body.changes"
            )
            _, result = await self.run(session, case_id, diff(before, case_json(row)), is_new=False)
            return result
        finally:
            await savepoint.rollback()
