"""``case.commands`` → case changes, with the same rules as the API.

Routing assigns, the SLA engine escalates and moves statuses, collaboration records a
swarm member's read access and promotes swarm messages to internal notes (issue 21), intake-web sends
a chat's unread reply again by email (issue 23). A command the rules
refuse (a closed case, a transition that is not allowed, a case that does not
exist) is logged and dropped, never retried: retrying cannot make it valid, and
dead-lettering it would count towards the consumer's flood stop. A refused command
leaves nothing behind in the batch without a savepoint of its own: the case rules refuse
before anything is written (:meth:`CaseService.change` checks everything first). A
savepoint per command cost two statements each, and its numbered name a new prepared
statement on every connection for every position in the batch. The batch's cases are
locked in one statement before the first command, rather than one lock per command.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseRepository
from omnicase.case_core.cases.schemas import CaseChanges
from omnicase.case_core.cases.service import CaseService, MessageDraft
from omnicase.case_core.identity import Actor
from omnicase.kit.bus.batch import Batch, Received, event_types
from omnicase.kit.errors import ServiceError
from omnicase.kit.events import AssignCase, ChangeCase, EventData, RecordCaseAccess, SendReplyByEmail, SetCaseStatus

logger = logging.getLogger(__name__)

_COMMANDS = (AssignCase, ChangeCase, SetCaseStatus, RecordCaseAccess, SendReplyByEmail)
ACCEPTS = event_types(*_COMMANDS)


class CommandConsumer:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases

    async def handle(self, session: AsyncSession, batch: Batch) -> None:
        await CaseRepository(session).lock(
            [received.data.case_id for received in batch if isinstance(received.data, _COMMANDS)]
        )
        for received in batch:
            with received.traced():
                await self._apply_refusable(session, received)

    async def _apply_refusable(self, session: AsyncSession, received: Received[EventData]) -> None:
        envelope = received.envelope
        try:
            await self._apply(session, received)
        except ServiceError as error:
            logger.warning(
                "case command refused",
                extra={
                    "command": envelope.type,
                    "event_id": str(envelope.id),
                    "case_id": envelope.subject,
                    "reason": error.detail,
                    "errors": [field.model_dump() for field in error.errors or []],
                },
            )

    async def _apply(self, session: AsyncSession, received: Received[EventData]) -> None:
        source = received.envelope.source
        match received.data:
            case AssignCase() as assign:
                values: dict[str, object] = {"assignee_id": assign.assignee_id}
                if assign.group_id is not None:
                    values["group_id"] = assign.group_id
                await self.cases.change(
                    session, assign.case_id, CaseChanges.model_validate(values), _actor(source, assign.reason)
                )
            case ChangeCase() as change:
                actor = _actor(source, change.reason)
                fields: dict[str, object] = {"add_tags": change.add_tags, "remove_tags": change.remove_tags}
                if change.priority is not None:
                    fields["priority"] = change.priority
                if change.group_id is not None:
                    fields["group_id"] = change.group_id
                await self.cases.change(session, change.case_id, CaseChanges.model_validate(fields), actor)
                if change.internal_note:
                    note = MessageDraft(
                        direction="outbound",
                        public=False,
                        # A promoted swarm message keeps its author; history still names the command.
                        author=change.note_author or actor.name,
                        author_role="agent" if change.note_author else "system",
                        channel=(await self.cases.get(session, change.case_id)).channel,
                        text=change.internal_note,
                        attachments=list(change.note_attachments),
                    )
                    await self.cases.add_message(session, change.case_id, note, actor)
            case RecordCaseAccess() as access:
                await self.cases.record_access(
                    session, access.case_id, access.grantee, access.granted, _actor(source, access.reason)
                )
            case SendReplyByEmail() as command:
                await self.cases.send_reply_by_email(session, command.case_id, command.message_id, command.to)
            case SetCaseStatus() as command:
                await self.cases.change(
                    session,
                    command.case_id,
                    CaseChanges.model_validate({"status": command.status}),
                    _actor(source, command.reason),
                )


def _actor(source: str, reason: str) -> Actor:
    """History names the rule that acted (its reason), or the sending service."""
    return Actor(name=(reason.strip() or source)[:100], via="command")
