"""The case aggregate: create, change, add messages, merge; every change recorded and published.

Every write locks the case row (``FOR UPDATE``), so writers of one case serialise
and its version increases by exactly one per change; history rows and the
``case.events`` event go into the same transaction as the change.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.brands.service import BrandService
from omnicase.case_core.cases.lifecycle import REOPENED_BY_REPLY, can_transition
from omnicase.case_core.cases.repository import (
    CaseFilters,
    CaseHistoryRow,
    CaseKey,
    CaseRepository,
    CaseRow,
    CaseValues,
    NewCaseRow,
    NewHistoryRow,
)
from omnicase.case_core.cases.schemas import CaseChanges
from omnicase.case_core.cases.snapshot import to_case, to_snapshot
from omnicase.case_core.contacts.repository import ContactRepository, ContactRow
from omnicase.case_core.custom_fields.repository import CustomFieldRepository
from omnicase.case_core.custom_fields.validation import DEFINITION_CODES, merge_custom_fields, missing_on_solve
from omnicase.case_core.dynamic_content.service import DynamicContentService
from omnicase.case_core.errors import CaseClosed, CaseNotFound, NoRecipient
from omnicase.case_core.identity import Actor
from omnicase.case_core.messages import reference
from omnicase.case_core.messages.repository import (
    CONVERSATION,
    MESSAGE_ID,
    AttachmentRow,
    CaseAttachmentRow,
    MessageRepository,
    MessageRow,
)
from omnicase.case_core.service import SPEC
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import (
    NOT_FOUND_CODE,
    FieldError,
    NotFound,
    PreconditionFailed,
    ServiceError,
    ValidationFailed,
    refusal,
)
from omnicase.kit.events import (
    AttachmentRef,
    CaseCreated,
    CaseMessageAdded,
    CaseSatisfactionRated,
    CaseStatus,
    CaseUpdated,
    Channel,
    FieldChange,
    OutboundMessageRequested,
    Party,
)
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox
from omnicase.kit.sanitize import sanitize_html

# Refusals the stored state decides (a 409): the status the case has now cannot become the one
# asked for, a case cannot be its own problem, the linked case is not a problem, the case's stored
# type is not an incident (or a change of type leaves a stored link to a problem), a case cannot be
# solved while a custom field the admin made required to solve is empty, a custom field's value
# its stored definition refuses (the body's schema takes any value: the definition says which).
_STATE_CODES = (
    frozenset({"transition", "self", "not_a_problem", "not_an_incident", "required_on_solve"}) | DEFINITION_CODES
)

logger = logging.getLogger(__name__)


@dataclass
class MessageDraft:
    direction: str
    public: bool
    author: str
    author_role: str
    channel: str
    text: str
    html: str | None = None
    email_message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    conversation_id: str | None = None
    source_intake_id: uuid.UUID | None = None
    attachments: list[AttachmentRef] = field(default_factory=list)


Rating = Literal["good", "bad"]


@dataclass(frozen=True)
class Satisfaction:
    """The requester's answer to a case's satisfaction survey, as the case stores it (JSON)."""

    rating: Rating
    reason: str | None
    comment: str | None
    rated_at: datetime
    survey_id: uuid.UUID


@dataclass
class NewCase:
    subject: str
    channel: str
    description: str = ""
    status: str = "new"
    priority: str = "normal"
    type: str | None = None
    requester_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    brand: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    problem_id: uuid.UUID | None = None
    language: str | None = None
    conversation_id: str | None = None
    follow_up_of: uuid.UUID | None = None


def _json(value: Any) -> Any:
    return to_jsonable_python(value)


def _attachment_rows(message_id: uuid.UUID, attachments: list[AttachmentRef]) -> list[AttachmentRow]:
    # Names come from senders: cut to the columns rather than fail a whole batch on one long name.
    return [
        AttachmentRow(
            message_id=message_id,
            position=position,
            sha256=attachment.sha256,
            filename=attachment.filename[:255] or "attachment",
            content_type=attachment.content_type[:255],
            size=attachment.size,
            content_id=attachment.content_id[:255] if attachment.content_id else None,
            inline=attachment.inline,
        )
        for position, attachment in enumerate(attachments)
    ]


def reply_channel(case: CaseRow) -> Channel:
    """The channel a message to the case's requester goes out on: the case's own where it has a conversation."""
    channel = Channel(case.channel)
    integration_conversation = channel is Channel.API and case.conversation_id is not None
    if channel in {Channel.WEB, Channel.API, Channel.VOICE} and not integration_conversation:
        # Forms, calls and cases created over the REST API have no conversation to
        # answer in: reply by email. An integrator's channel (intake-web) has one.
        return Channel.EMAIL
    return channel


Solved = Callable[[AsyncSession, CaseRow, Actor], Awaitable[None]]
"""Runs in the transaction that solved a case (the case as solved, who solved it): the satisfaction survey."""

Automation = Callable[[AsyncSession, uuid.UUID, dict[str, FieldChange], bool], Awaitable[CaseRow | None]]
"""Runs after a case is created (``True``) or changed: the business rules (triggers); returns the case after them."""

# Changes made by the rules themselves (the rule chain handles them) or imagined by a dry run.
_NO_AUTOMATION = {"trigger", "dry-run"}


class CaseService:
    def __init__(self, outbox: Outbox, brands: BrandService, content: DynamicContentService) -> None:
        self.outbox = outbox
        self.brands = brands
        # Not the case's own: the texts written into it (macros, triggers, surveys) read it from here.
        self.content = content
        self.automation: Automation | None = None
        self.solved: Solved | None = None

    # -- reading (the API) -----------------------------------------------------------

    async def page(
        self, session: AsyncSession, filters: CaseFilters, *, sort: str, after: CaseKey | None, limit: int
    ) -> list[CaseRow]:
        """Cases matching ``filters`` in ``sort`` order after the cursor's key, ``limit`` of them."""
        return await CaseRepository(session).page(filters, sort=sort, after=after, limit=limit)

    async def history(
        self, session: AsyncSession, case_id: uuid.UUID, *, after_id: int | None, limit: int
    ) -> list[CaseHistoryRow]:
        return await CaseRepository(session).history(case_id, after_id=after_id, limit=limit)

    async def messages_page(
        self,
        session: AsyncSession,
        case_id: uuid.UUID,
        *,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
        public_only: bool,
    ) -> list[MessageRow]:
        """A case's messages, oldest first, after the cursor's key."""
        return await MessageRepository(session).page(case_id, after=after, limit=limit, public_only=public_only)

    async def attachments_of(
        self, session: AsyncSession, message_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[AttachmentRow]]:
        return await MessageRepository(session).attachments_of(message_ids)

    async def attachment_of_case(
        self, session: AsyncSession, case_id: uuid.UUID, sha256: str, *, public_only: bool
    ) -> CaseAttachmentRow | None:
        return await MessageRepository(session).attachment_of_case(case_id, sha256, public_only=public_only)

    # -- reading ---------------------------------------------------------------------

    async def get(self, session: AsyncSession, case_id: uuid.UUID, *, for_update: bool = False) -> CaseRow:
        row = await CaseRepository(session).get(case_id, for_update=for_update)
        if row is None:
            raise CaseNotFound(f"Case {case_id} does not exist.")
        return row

    # -- creating --------------------------------------------------------------------

    async def create(
        self,
        session: AsyncSession,
        new: NewCase,
        actor: Actor,
        *,
        first_message: MessageDraft | None = None,
        strict: bool = True,
        location: str = "body",
        requester: ContactRow | None = None,
    ) -> CaseRow:
        """Open a case (and its first message); ``strict=False`` drops invalid defaults instead of failing.

        ``requester``: the requester's contact row when the caller holds it already (the intake
        just resolved it), which saves looking it up again.
        """
        errors: list[FieldError] = []
        # Most cases (every plain inbound message) carry no custom fields: skip the lookup then.
        needs_definitions = bool(new.custom_fields) or new.status == CaseStatus.SOLVED
        definitions = await CustomFieldRepository(session).by_key() if needs_definitions else {}
        custom, custom_errors = merge_custom_fields(
            definitions, {}, new.custom_fields, location=f"{location}.custom_fields"
        )
        if strict:
            errors += custom_errors
        organization_id = None
        if new.requester_id is not None:
            held = requester is not None and requester.id == new.requester_id
            contact = requester if held else await ContactRepository(session).get(new.requester_id)
            if contact is None:
                errors.append(
                    FieldError(field=f"{location}.requester_id", message="no such contact", code=NOT_FOUND_CODE)
                )
            else:
                organization_id = contact.organization_id
        errors += await self._check_problem(session, None, new.type, new.problem_id, location, type_from_body=True)
        if new.status == CaseStatus.SOLVED:
            errors += missing_on_solve(definitions, custom)
        if errors:
            raise refusal("The case cannot be created as given.", errors, conflicts=_STATE_CODES)

        now = utcnow()
        new_case = NewCaseRow(
            id=uuid7(),
            ref_token=reference.new_token(),
            subject=new.subject,
            description=new.description,
            status=new.status,
            priority=new.priority,
            type=new.type,
            channel=new.channel,
            requester_id=new.requester_id,
            organization_id=organization_id,
            assignee_id=new.assignee_id,
            group_id=new.group_id,
            brand=new.brand,
            brand_id=await self._brand_id(session, new.brand),
            tags=tuple(new.tags),
            custom_fields=custom,
            language=new.language,
            conversation_id=new.conversation_id,
            follow_up_of=new.follow_up_of,
            problem_id=new.problem_id,
            version=1,
            created_at=now,
            updated_at=now,
            solved_at=now if new.status == CaseStatus.SOLVED else None,
        )
        source_intake_id = None
        if first_message is None:
            case = await CaseRepository(session).insert(new_case, new.description)
        else:
            message, attachments, keys = self._new_message(new_case.id, first_message)
            case = await MessageRepository(session).insert_with_case(
                new_case, new.description, message, attachments, thread_keys=keys
            )
            source_intake_id = message.source_intake_id
        await CaseRepository(session).add_history(
            [self._history(case, actor, "case", None, "created", now)]
            + (
                [self._history(case, actor, "follow_up_of", None, str(new.follow_up_of), now)]
                if new.follow_up_of
                else []
            ),
        )
        if new.conversation_id and (first_message is None or first_message.conversation_id != new.conversation_id):
            await MessageRepository(session).add_thread_keys(case.id, [(CONVERSATION, new.conversation_id)])
        await self.outbox.add(
            session,
            CaseCreated(
                case=to_snapshot(case),
                description=new.description,
                source_intake_id=source_intake_id,
                follow_up_of=new.follow_up_of,
                actor=actor.name,
            ),
            source=SPEC.name,
            subject=str(case.id),
            key=str(case.id),
        )
        if case.status == CaseStatus.SOLVED and self.solved is not None and actor.via != "dry-run":
            await self.solved(session, case, actor)
        if self.automation is not None and actor.via not in _NO_AUTOMATION:
            case = await self.automation(session, case.id, {}, True) or case
        return case

    # -- changing --------------------------------------------------------------------

    async def change(
        self,
        session: AsyncSession,
        case_id: uuid.UUID,
        changes: CaseChanges,
        actor: Actor,
        *,
        expected_version: int | None = None,
        location: str = "body",
    ) -> CaseRow:
        """Apply ``changes`` with every rule (transitions, custom fields, links); no-op changes record nothing.

        Every rule is checked before anything is written, so a refusal (a ``ServiceError``)
        leaves the transaction as it was: case commands rely on it, without savepoints.
        """
        case = await self.get(session, case_id, for_update=True)
        if expected_version is not None and case.version != expected_version:
            current = to_case(case).model_dump(mode="json")
            raise PreconditionFailed(
                f"Case {case_id} is at version {case.version}, not {expected_version}; "
                "someone else changed it. Review the current state and try again.",
                headers={"ETag": f'"{case.version}"'},
                extra={"current": current},
            )
        self._ensure_changeable(case)
        requested = changes.requested()
        new = requested.copy()
        new.pop("tags", None)  # written below, with the tag edits
        new.pop("followers", None)
        errors: list[FieldError] = []
        if "brand" in new:
            new["brand_id"] = await self._brand_id(session, new["brand"])
        if "status" in new and not can_transition(CaseStatus(case.status), CaseStatus(new["status"])):
            errors.append(
                FieldError(
                    field=f"{location}.status",
                    message=f"a {case.status} case cannot become {new['status']}",
                    code="transition",
                )
            )
        if "tags" in requested or changes.add_tags or changes.remove_tags:
            tags: list[str] = list(requested.get("tags", case.tags))
            tags += [tag for tag in changes.add_tags if tag not in tags]
            new["tags"] = [tag for tag in tags if tag not in changes.remove_tags]
        if "followers" in requested:
            # null (the schema allows it, as for every nullable field of a change) clears them.
            new["followers"] = list(dict.fromkeys(requested["followers"] or []))
        solving = new.get("status") == CaseStatus.SOLVED and case.status != CaseStatus.SOLVED
        definitions = await CustomFieldRepository(session).by_key() if changes.custom_fields or solving else {}
        custom = case.custom_fields
        if changes.custom_fields:
            custom, custom_errors = merge_custom_fields(
                definitions, custom, changes.custom_fields, location=f"{location}.custom_fields"
            )
            errors += custom_errors
            new["custom_fields"] = custom
        if "requester_id" in new and new["requester_id"] != case.requester_id:
            if new["requester_id"] is None:
                errors.append(FieldError(field=f"{location}.requester_id", message="cannot be null", code="required"))
            else:
                contact = await ContactRepository(session).get(new["requester_id"])
                if contact is None:
                    errors.append(
                        FieldError(field=f"{location}.requester_id", message="no such contact", code=NOT_FOUND_CODE)
                    )
                else:
                    new["organization_id"] = contact.organization_id
        if "problem_id" in new or "type" in new:
            errors += await self._check_problem(
                session,
                case.id,
                new.get("type", case.type),
                new.get("problem_id", case.problem_id),
                location,
                type_from_body="type" in new and "problem_id" in new,
            )
        if solving:
            errors += missing_on_solve(definitions, custom)
        # Assigning a case nobody has touched yet means someone is on it.
        if case.status == CaseStatus.NEW and "status" not in new and new.get("assignee_id"):
            new["status"] = CaseStatus.OPEN
        if errors:
            raise refusal(f"Case {case_id} cannot be changed as asked.", errors, conflicts=_STATE_CODES)
        row, applied = await self._apply(session, case, new, actor)
        if row.type == "problem" and "status" in applied and row.status == CaseStatus.SOLVED:
            await self._solve_incidents(session, row, actor)
        if applied and self.automation is not None and actor.via not in _NO_AUTOMATION:
            row = await self.automation(session, row.id, applied, False) or row
        return row

    async def _brand_id(self, session: AsyncSession, slug: str | None) -> uuid.UUID | None:
        """The id of the brand ``slug`` names; None for no brand, or a string no brand has (kept as it is)."""
        if slug is None:
            return None
        brand = (await self.brands.current(session)).of_slug(slug)
        return brand.id if brand is not None else None

    async def _solve_incidents(self, session: AsyncSession, problem: CaseRow, actor: Actor) -> None:
        """Solving a problem solves its open incidents, each by the usual rules (one it cannot solve stays)."""
        for incident_id in await CaseRepository(session).unsolved_incidents(problem.id):
            try:
                async with session.begin_nested():
                    await self.change(session, incident_id, CaseChanges(status=CaseStatus.SOLVED), actor)
            except ServiceError as error:
                logger.info(
                    "incident left unsolved with its problem",
                    extra={"incident": str(incident_id), "problem": str(problem.id), "reason": error.detail},
                )

    async def _check_problem(
        self,
        session: AsyncSession,
        case_id: uuid.UUID | None,
        case_type: str | None,
        problem_id: uuid.UUID | None,
        location: str,
        *,
        type_from_body: bool,
    ) -> list[FieldError]:
        """What is wrong with linking a case of ``case_type`` to ``problem_id``; ``type_from_body``:
        the body gave both (its schema says only an incident links, a 422), else the stored type or
        link refuses the other (a 409)."""
        if problem_id is None:
            return []
        where = f"{location}.problem_id"
        if case_type != "incident":
            message = "only an incident can be linked to a problem"
            if type_from_body:
                return [FieldError(field=where, message=message, code="type")]
            return [
                FieldError(
                    field=where, message=f"{message}; this case is {case_type or 'untyped'}", code="not_an_incident"
                )
            ]
        if problem_id == case_id:
            return [FieldError(field=where, message="a case cannot be its own problem", code="self")]
        problem = await CaseRepository(session).get(problem_id)
        if problem is None:
            return [FieldError(field=where, message="no such case", code=NOT_FOUND_CODE)]
        if problem.type != "problem":
            return [FieldError(field=where, message="the linked case is not a problem", code="not_a_problem")]
        return []

    def _ensure_changeable(self, case: CaseRow) -> None:
        if case.merged_into is not None:
            raise CaseClosed(f"Case {case.id} was merged into {case.merged_into}; change that case instead.")
        if case.status == CaseStatus.CLOSED:
            raise CaseClosed(f"Case {case.id} is closed; closed cases do not change (a reply opens a follow-up).")

    async def _apply(
        self,
        session: AsyncSession,
        case: CaseRow,
        new: CaseValues,
        actor: Actor,
        *,
        extra: CaseValues | None = None,
        search_text: str | None = None,
        touch: bool = False,
    ) -> tuple[CaseRow, dict[str, FieldChange]]:
        """Write the fields of ``new`` that differ, their history and a ``case.updated`` event."""
        changes = {
            name: FieldChange(old=_json(getattr(case, name)), new=_json(value))
            for name, value in new.items()
            if _json(getattr(case, name)) != _json(value)
        }
        if not changes and not touch:
            return case, {}
        now = utcnow()
        # The fields of ``new`` that changed: a part of the same columns.
        values = cast(CaseValues, {name: value for name, value in new.items() if name in changes})
        if "status" in changes:
            status = new["status"]
            if status == CaseStatus.SOLVED:
                values["solved_at"] = now
            elif status == CaseStatus.CLOSED:
                values["closed_at"] = now
            elif case.status == CaseStatus.SOLVED:
                values["solved_at"] = None
        values.update(extra or {})
        values["version"] = case.version + 1
        values["updated_at"] = now
        row = await CaseRepository(session).update(case.id, values, search_text)
        await CaseRepository(session).add_history(
            [self._history(row, actor, name, change.old, change.new, now) for name, change in changes.items()],
        )
        solved = "status" in changes and row.status == CaseStatus.SOLVED
        if solved and self.solved is not None and actor.via != "dry-run":
            await self.solved(session, row, actor)
        if changes:
            await self.outbox.add(
                session,
                CaseUpdated(
                    case_id=row.id, version=row.version, changes=changes, actor=actor.name, case=to_snapshot(row)
                ),
                source=SPEC.name,
                subject=str(row.id),
                key=str(row.id),
            )
        return row, changes

    @staticmethod
    def _history(case: CaseRow, actor: Actor, name: str, old: object, new: object, at: datetime) -> NewHistoryRow:
        return NewHistoryRow(
            case_id=case.id,
            version=case.version,
            actor=actor.name,
            via=actor.via,
            field=name,
            old=_json(old),
            new=_json(new),
            at=at,
        )

    # -- satisfaction ----------------------------------------------------------------

    async def rate(
        self, session: AsyncSession, case_id: uuid.UUID, satisfaction: Satisfaction, actor: Actor
    ) -> CaseRow:
        """Record the requester's satisfaction on the case.

        One history row and one ``case.satisfaction_rated``; then the rules run, the rating a
        change they can match (``satisfaction``). The same answer again changes nothing.
        """
        case = await self.get(session, case_id, for_update=True)
        self._ensure_changeable(case)
        old = dict(case.satisfaction) if case.satisfaction else None
        answer = {"rating": satisfaction.rating, "reason": satisfaction.reason, "comment": satisfaction.comment}
        if old is not None and {name: old.get(name) for name in answer} == answer:
            return case
        new = _json(satisfaction)
        now = utcnow()
        row = await CaseRepository(session).update(
            case.id, {"satisfaction": new, "version": case.version + 1, "updated_at": now}, None
        )
        await CaseRepository(session).add_history([self._history(row, actor, "satisfaction", old, new, now)])
        previous = old["rating"] if old else None
        await self.outbox.add(
            session,
            CaseSatisfactionRated(
                case_id=row.id,
                version=row.version,
                survey_id=satisfaction.survey_id,
                rating=satisfaction.rating,
                previous_rating=previous,
                reason=satisfaction.reason,
                comment=satisfaction.comment,
                rated_at=satisfaction.rated_at,
                case=to_snapshot(row),
            ),
            source=SPEC.name,
            subject=str(row.id),
            key=str(row.id),
        )
        if self.automation is not None and actor.via not in _NO_AUTOMATION:
            changes = {}
            if previous != satisfaction.rating:
                changes["satisfaction"] = FieldChange(old=previous, new=satisfaction.rating)
            row = await self.automation(session, row.id, changes, False) or row
        return row

    # -- messages --------------------------------------------------------------------

    async def _insert_message(self, session: AsyncSession, case: CaseRow, draft: MessageDraft) -> MessageRow:
        message, attachments, keys = self._new_message(case.id, draft)
        return await MessageRepository(session).insert(message, attachments, thread_keys=keys)

    @staticmethod
    def _new_message(
        case_id: uuid.UUID, draft: MessageDraft
    ) -> tuple[MessageRow, list[AttachmentRow], list[tuple[str, str]]]:
        """The message ``draft`` makes on the case, its attachments and the thread keys it brings the case."""
        message_id = uuid7()
        keys = [(MESSAGE_ID, draft.email_message_id)] if draft.email_message_id else []
        if draft.conversation_id:
            keys.append((CONVERSATION, draft.conversation_id))
        message = MessageRow(
            id=message_id,
            case_id=case_id,
            direction=draft.direction,
            public=draft.public,
            author=draft.author,
            author_role=draft.author_role,
            channel=draft.channel,
            text=draft.text,
            html=sanitize_html(draft.html),
            email_message_id=draft.email_message_id,
            in_reply_to=tuple(draft.in_reply_to),
            references=tuple(draft.references),
            conversation_id=draft.conversation_id,
            source_intake_id=draft.source_intake_id,
            created_at=utcnow(),
        )
        return message, _attachment_rows(message_id, draft.attachments), keys

    async def add_message(
        self, session: AsyncSession, case_id: uuid.UUID, draft: MessageDraft, actor: Actor
    ) -> tuple[CaseRow, MessageRow]:
        """Append a message; a customer reply reopens, an agent's public reply is sent out."""
        case = await self.get(session, case_id, for_update=True)
        self._ensure_changeable(case)
        message = await self._insert_message(session, case, draft)
        new: CaseValues = {}
        extra: CaseValues = {}
        # A public message written on our side (an agent's, or an integration's) goes to the customer.
        agent_reply = draft.public and draft.direction == "outbound"
        if draft.author_role == "customer" and case.status in REOPENED_BY_REPLY:
            new["status"] = CaseStatus.OPEN
        if agent_reply:
            if case.first_public_reply_at is None:
                extra["first_public_reply_at"] = message.created_at
            if case.status == CaseStatus.NEW:
                new["status"] = CaseStatus.OPEN
        if draft.conversation_id and case.conversation_id is None:
            extra["conversation_id"] = draft.conversation_id
        row, applied = await self._apply(session, case, new, actor, extra=extra, search_text=draft.text, touch=True)
        await self.outbox.add(
            session,
            CaseMessageAdded(
                case_id=row.id,
                message_id=message.id,
                direction="inbound" if draft.direction == "inbound" else "outbound",
                public=draft.public,
                author=draft.author,
                author_role="agent"
                if draft.author_role == "agent"
                else ("customer" if draft.author_role == "customer" else "system"),
                channel=Channel(draft.channel),
                source_intake_id=draft.source_intake_id,
                case=to_snapshot(row),
            ),
            source=SPEC.name,
            subject=str(row.id),
            key=str(row.id),
        )
        if agent_reply:
            await self._request_outbound(session, row, message, draft)
        # A message that moved the case (a customer's reply reopening it) is an update like any other.
        if applied and self.automation is not None and actor.via not in _NO_AUTOMATION:
            row = await self.automation(session, row.id, applied, False) or row
        return row, message

    async def acknowledge_again(self, session: AsyncSession, message: MessageRow, source_intake_id: uuid.UUID) -> None:
        """A message already turned into a case arrived again: repeat the acknowledgement, change nothing."""
        case = await self.get(session, message.case_id)
        await self.outbox.add(
            session,
            CaseMessageAdded(
                case_id=case.id,
                message_id=message.id,
                direction="inbound",
                public=message.public,
                author=message.author,
                author_role="customer",
                channel=Channel(message.channel),
                source_intake_id=source_intake_id,
                case=to_snapshot(case),
            ),
            source=SPEC.name,
            subject=str(case.id),
            key=str(case.id),
        )

    async def _request_outbound(
        self, session: AsyncSession, case: CaseRow, message: MessageRow, draft: MessageDraft
    ) -> None:
        recipient = await self.requester_party(session, case)
        if recipient is None:
            raise NoRecipient(
                "The case has no requester to send a public reply to; add an internal note instead.",
                errors=[FieldError(field="body.public", message="no requester to reply to", code="no_recipient")],
            )
        await self.request_outbound(
            session,
            case,
            outbound_id=message.id,
            recipient=recipient,
            subject=reference.reply_subject(case.subject, case.number),
            text=draft.text,
            html=message.html,
            attachments=draft.attachments,
        )

    async def request_outbound(
        self,
        session: AsyncSession,
        case: CaseRow,
        *,
        outbound_id: uuid.UUID,
        recipient: Party,
        subject: str,
        text: str,
        html: str | None,
        attachments: list[AttachmentRef] | None = None,
        channel: Channel | None = None,
    ) -> None:
        """Ask the case's channel (or ``channel``) to send ``text`` to ``recipient``, threaded into the case's
        conversation."""
        channel = channel or reply_channel(case)
        thread = await MessageRepository(session).email_thread(case.id)
        if channel is Channel.EMAIL:
            # A chat's messages carry their intake's own ids (``<conversation>:<seq>``): no mail's Message-ID.
            thread = [(message_id, direction) for message_id, direction in thread if "@" in message_id]
        inbound = [message_id for message_id, direction in thread if direction == "inbound"]
        token = case.ref_token
        await self.outbox.add(
            session,
            OutboundMessageRequested(
                outbound_id=outbound_id,
                case_id=case.id,
                channel=channel,
                to=[recipient],
                subject=subject,
                text=reference.add_to_text(text, token),
                html=reference.add_to_html(html, token) if html else None,
                in_reply_to=inbound[-1] if inbound else None,
                references=[message_id for message_id, _ in thread],
                conversation_id=case.conversation_id,
                attachments=attachments or [],
                # Also in a header: bounces and forwards-as-attachment carry headers, not always bodies.
                headers={reference.HEADER: reference.marker(token)},
                brand=await self.brands.look(session, case.brand, case.language),
            ),
            source=SPEC.name,
            subject=str(case.id),
            key=str(case.id),
        )

    async def send_reply_by_email(
        self, session: AsyncSession, case_id: uuid.UUID, message_id: uuid.UUID, to: Party
    ) -> None:
        """An agent's public reply on a chat's case, again by email (the visitor left before reading it), threaded
        as the case's email replies are; the reply's id is the mail's outbound id, so asking twice sends it once."""
        case = await self.get(session, case_id)
        message = await MessageRepository(session).get(case.id, message_id)
        if message is None or message.direction != "outbound" or not message.public:
            raise NotFound(
                f"Case {case_id} has no public reply {message_id} to send by email.",
                errors=[FieldError(field="message_id", message="no public reply of the case", code=NOT_FOUND_CODE)],
            )
        if not to.email or "@" not in to.email:
            raise ValidationFailed(
                "A reply by email needs an address.",
                errors=[FieldError(field="to.email", message="no email address", code="invalid")],
            )
        attachments = (await MessageRepository(session).attachments_of([message.id])).get(message.id, [])
        await self.request_outbound(
            session,
            case,
            outbound_id=message.id,
            recipient=to,
            subject=reference.reply_subject(case.subject, case.number),
            text=message.text,
            html=message.html,
            attachments=[AttachmentRef.model_validate(row, from_attributes=True) for row in attachments],
            channel=Channel.EMAIL,
        )

    async def requester_party(self, session: AsyncSession, case: CaseRow) -> Party | None:
        if case.requester_id is None:
            return None
        contact = await ContactRepository(session).get(case.requester_id)
        identities = (await ContactRepository(session).identities_of([case.requester_id]))[case.requester_id]
        found: dict[str, str] = {}
        for kind, value in identities:
            found.setdefault(kind, value)
        if not found:
            return None
        handle = found.get("handle")
        return Party(
            email=found.get("email"),
            phone=found.get("phone"),
            handle=handle.split(":", 1)[1] if handle else None,
            name=contact.name if contact else None,
        )

    # -- links between cases ---------------------------------------------------------

    async def record_sent(
        self, session: AsyncSession, case_id: uuid.UUID, outbound_id: uuid.UUID, message_id: str
    ) -> None:
        """The Message-ID a reply went out with: answers quoting it thread, later replies reference it."""
        await MessageRepository(session).set_email_message_id(outbound_id, message_id)
        await MessageRepository(session).add_thread_keys(case_id, [(MESSAGE_ID, message_id)])

    async def record_access(
        self, session: AsyncSession, case_id: uuid.UUID, grantee: str, granted: bool, actor: Actor
    ) -> None:
        """Note in the case's history that ``grantee`` may read it (or no longer may) outside its assignment.

        Staff read every case today, so nothing else changes; the entry is what tells an auditor why
        someone outside the case's group looked at it (a swarm's member, issue 21). The case's version
        does not move: no field of the case changed.
        """
        case = await self.get(session, case_id)
        old, new = (None, grantee) if granted else (grantee, None)
        await CaseRepository(session).add_history([self._history(case, actor, "access", old, new, utcnow())])

    async def record_failed_delivery(
        self, session: AsyncSession, case_id: uuid.UUID, error: str | None, actor: Actor
    ) -> None:
        """Tell the agents, with an internal note, that a reply never reached the customer."""
        case = await self.get(session, case_id)
        if case.merged_into is not None or case.status == CaseStatus.CLOSED:
            return
        note = MessageDraft(
            direction="outbound",
            public=False,
            author=actor.name,
            author_role="system",
            channel=case.channel,
            text=f"A reply could not be delivered: {error or 'no reason given'}."[:10_000],
        )
        await self.add_message(session, case_id, note, actor)

    async def move_requester(
        self, session: AsyncSession, case_id: uuid.UUID, contact: ContactRow, actor: Actor
    ) -> CaseRow:
        """A contact merge: the case follows its requester, closed or not (history and event as always)."""
        case = await self.get(session, case_id, for_update=True)
        new: CaseValues = {"requester_id": contact.id, "organization_id": contact.organization_id}
        row, _ = await self._apply(session, case, new, actor)
        return row

    async def move_organization(
        self, session: AsyncSession, case_id: uuid.UUID, organization_id: uuid.UUID, actor: Actor
    ) -> CaseRow:
        case = await self.get(session, case_id, for_update=True)
        row, _ = await self._apply(session, case, {"organization_id": organization_id}, actor)
        return row

    async def merge(self, session: AsyncSession, target_id: uuid.UUID, source_id: uuid.UUID, actor: Actor) -> CaseRow:
        """Move the source's messages and thread into the target; the source is closed, pointing at the target."""
        if target_id == source_id:
            raise ValidationFailed(
                "A case cannot be merged into itself.",
                errors=[FieldError(field="body.source_case_id", message="same as the target", code="self")],
            )
        # Lock in id order so two opposite merges cannot deadlock.
        locked = {
            case_id: await CaseRepository(session).get(case_id, for_update=True)
            for case_id in sorted([target_id, source_id])
        }
        target, source = locked[target_id], locked[source_id]
        if target is None:
            raise CaseNotFound(f"Case {target_id} does not exist.")
        if source is None:
            # Named in the body, not the path: a 404 naming the field.
            error = FieldError(field="body.source_case_id", message="no such case", code=NOT_FOUND_CODE)
            raise refusal(f"Case {source_id} does not exist.", [error])
        self._ensure_changeable(target)
        self._ensure_changeable(source)
        await MessageRepository(session).move(source_id, target_id)
        await MessageRepository(session).move_thread_keys(source_id, target_id)
        followers = list(dict.fromkeys([*target.followers, *source.followers]))
        _, source_changes = await self._apply(
            session,
            source,
            {"status": CaseStatus.CLOSED, "merged_into": target_id},
            actor,
        )
        target, target_changes = await self._apply(
            session,
            target,
            {"followers": followers},
            actor,
            search_text=f"{source.subject} {source.description}",
            touch=True,
        )
        await CaseRepository(session).add_history(
            [self._history(target, actor, "merged_from", None, str(source_id), utcnow())]
        )
        note = MessageDraft(
            direction="outbound",
            public=False,
            author=actor.name,
            author_role="system",
            channel=target.channel,
            text=f"Case #{source.number} ({source.subject}) was merged into this case.",
        )
        target, _ = await self.add_message(session, target_id, note, actor)
        # A merge updates both cases: the rules see the source closed and the target grown.
        if self.automation is not None and actor.via not in _NO_AUTOMATION:
            await self.automation(session, source_id, source_changes, False)
            target = await self.automation(session, target_id, target_changes, False) or target
        return target
