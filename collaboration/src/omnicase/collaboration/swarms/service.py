"""Swarm rules: who may start, join, post and end one; what each step tells case-core and the topic.

A swarm never writes the case: read access of its members and a promoted message go to case-core
as commands on ``case.commands`` (written to the outbox with the swarm's change), so the case's
history records them with case-core's own rules.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.collaboration.cases.desk import CaseDesk, CaseView
from omnicase.collaboration.experts.peers import Peers
from omnicase.collaboration.service import SPEC
from omnicase.collaboration.slack.service import SlackService
from omnicase.collaboration.swarms.repository import SwarmRecord, SwarmRepository
from omnicase.collaboration.swarms.schemas import (
    MemberRef,
    MessageCreate,
    Swarm,
    SwarmAttachment,
    SwarmCreate,
    SwarmEnd,
    SwarmMessage,
)
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import FieldError, Forbidden, NotFound, ServiceUnavailable, StateConflict
from omnicase.kit.events import (
    AttachmentRef,
    ChangeCase,
    EventData,
    RecordCaseAccess,
    SwarmMemberJoined,
    SwarmMessagePosted,
    SwarmResolved,
    SwarmStarted,
)
from omnicase.kit.identity import Identity
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox
from omnicase.kit.pagination import Page, decode_id_cursor, paginate
from omnicase.kit.peers import PeerUnavailable

logger = logging.getLogger(__name__)


class CaseNotFound(NotFound):
    slug, title = "case-not-found", "Case not found"


class SwarmNotFound(NotFound):
    slug, title = "swarm-not-found", "Swarm not found"


class SwarmAttachmentNotFound(NotFound):
    slug, title = "swarm-attachment-not-found", "Swarm attachment not found"


class SwarmMessageNotFound(NotFound):
    slug, title = "swarm-message-not-found", "Swarm message not found"


class NotSwarmOwner(Forbidden):
    slug, title = "not-swarm-owner", "Not the case's owner"


class NotSwarmMember(Forbidden):
    slug, title = "not-swarm-member", "Not a member of the swarm"


class SwarmEnded(StateConflict):
    slug, title = "swarm-ended", "The swarm has ended"


class CaseSolved(StateConflict):
    slug, title = "case-solved", "The case is solved"


class MessagePromoted(StateConflict):
    slug, title = "swarm-message-promoted", "Already promoted"


async def read_case(desk: CaseDesk, case_id: uuid.UUID) -> CaseView:
    """The case as case-core has it now: 404 when it has none, 503 when it cannot say."""
    try:
        case = await desk.case(case_id)
    except PeerUnavailable as error:
        raise ServiceUnavailable(f"case-core cannot read case {case_id} now: {error}.") from error
    if case is None:
        raise CaseNotFound(f"Case {case_id} does not exist.")
    return case


def actor_of(identity: Identity) -> str:
    """How history and events name the caller: ``user:<id>`` for people, ``integration:<id>`` for tokens."""
    return f"integration:{identity.subject}" if identity.kind == "api_token" else f"user:{identity.subject}"


def _is_lead(identity: Identity) -> bool:
    # Admins lead teams; an integration acts for whoever configured it.
    return identity.role == "admin" or identity.kind == "api_token"


def _user_id(identity: Identity) -> uuid.UUID | None:
    try:
        return uuid.UUID(identity.subject)
    except ValueError:
        return None


def _member_name(ref: MemberRef) -> str:
    return f"{'user' if ref.kind == 'agent' else 'group'}:{ref.id}"


class SwarmService:
    def __init__(self, outbox: Outbox, slack: SlackService, peers: Peers, desk: CaseDesk) -> None:
        self.outbox = outbox
        self.slack = slack
        self.peers = peers
        self.desk = desk

    async def start(self, session: AsyncSession, case_id: uuid.UUID, payload: SwarmCreate, identity: Identity) -> Swarm:
        """The case's assignee or a lead starts a swarm; the case keeps its owner."""
        case = await read_case(self.desk, case_id)
        if not _is_lead(identity) and str(case.assignee_id) not in {identity.subject, str(identity.agent_id)}:
            raise NotSwarmOwner("Only the case's assignee or a lead (an admin) may start a swarm on it.")
        if case.solved:
            raise CaseSolved(
                f"Case {case_id} is {case.status}; reopen it to swarm on it.",
                errors=[FieldError(field="path.case_id", message=f"the case is {case.status}", code="case_solved")],
            )
        # Asked before anything is written (only a Slack thread's summary shows it).
        sla_due = await self.desk.sla_due(case_id) if await self.slack.connected(session) else None
        now, by = utcnow(), actor_of(identity)
        repository = SwarmRepository(session)
        record = await repository.insert(
            {
                "id": uuid7(),
                "case_id": case_id,
                "started_by": by,
                "question": payload.question,
                "urgency": payload.urgency,
                "status": "open",
                "started_at": now,
            }
        )
        await self._emit(
            session,
            case_id,
            SwarmStarted(
                swarm_id=record.id,
                case_id=case_id,
                started_by=by,
                question=payload.question,
                urgency=payload.urgency,
                started_at=now,
            ),
        )
        await self._join(session, record, [_member_name(ref) for ref in payload.members], by)
        await self.slack.swarm_started(session, record, case, sla_due)
        return (await self._shown(session, [record]))[0]

    async def page_of_case(
        self, session: AsyncSession, case_id: uuid.UUID, cursor: str | None, limit: int
    ) -> Page[Swarm]:
        await read_case(self.desk, case_id)
        rows = await SwarmRepository(session).page_of_case(case_id, decode_id_cursor(cursor), limit)
        return paginate(
            Page[Swarm], rows, limit, key=lambda row: [row.id], items=await self._shown(session, rows[:limit])
        )

    async def get(self, session: AsyncSession, swarm_id: uuid.UUID) -> Swarm:
        return (await self._shown(session, [await self._swarm(session, swarm_id)]))[0]

    async def add_member(self, session: AsyncSession, swarm_id: uuid.UUID, ref: MemberRef, identity: Identity) -> Swarm:
        """Anyone in the swarm (or a lead) pulls in another agent or group while it is open."""
        record = await self._open(session, swarm_id, lock=True)
        await self._may_act(session, record, identity)
        await self._join(session, record, [_member_name(ref)], actor_of(identity))
        return (await self._shown(session, [record]))[0]

    async def may_post(self, session: AsyncSession, swarm_id: uuid.UUID, identity: Identity) -> None:
        """Refused before any file is stored: the swarm is open and ``identity`` acts in it."""
        await self._may_act(session, await self._open(session, swarm_id), identity)

    async def post(
        self,
        session: AsyncSession,
        swarm_id: uuid.UUID,
        payload: MessageCreate,
        identity: Identity,
        attachments: Sequence[AttachmentRef] = (),
    ) -> SwarmMessage:
        # Locked: the Slack worker opening the swarm's thread meanwhile mirrors this message, or this
        # post sees the thread open and mirrors it itself (slack.thread_opened).
        record = await self._open(session, swarm_id, lock=True)
        await self._may_act(session, record, identity)
        await self.slack.message_posted(session, record, identity.name or actor_of(identity), payload.text)
        return await self.add_message(
            session,
            record,
            author=actor_of(identity),
            author_name=identity.name,
            text=payload.text,
            mentions=[f"user:{agent}" for agent in dict.fromkeys(payload.mentions)],
            source="omnicase",
            attachments=attachments,
        )

    async def add_message(
        self,
        session: AsyncSession,
        record: SwarmRecord,
        *,
        author: str,
        author_name: str | None,
        text: str,
        mentions: Sequence[str],
        source: str,
        attachments: Sequence[AttachmentRef] = (),
    ) -> SwarmMessage:
        """A message in the swarm's thread, from the API or a chat integration, told on the topic."""
        repository = SwarmRepository(session)
        message = await repository.add_message(
            {
                "id": uuid7(),
                "swarm_id": record.id,
                "author": author,
                "author_name": author_name,
                "text": text,
                "mentions": list(mentions),
                "source": source,
                "posted_at": utcnow(),
            }
        )
        await repository.add_attachments(record.id, message.id, list(attachments))
        await self._emit(
            session,
            record.case_id,
            SwarmMessagePosted(
                swarm_id=record.id,
                case_id=record.case_id,
                message_id=message.id,
                author=author,
                mentions=list(mentions),
                source=message.source,
                posted_at=message.posted_at,
            ),
        )
        return (await self._with_attachments(session, [message]))[0]

    async def messages(
        self, session: AsyncSession, swarm_id: uuid.UUID, cursor: str | None, limit: int
    ) -> Page[SwarmMessage]:
        await self._swarm(session, swarm_id)
        page = await SwarmRepository(session).messages(swarm_id, decode_id_cursor(cursor), limit)
        return page.model_copy(update={"items": await self._with_attachments(session, page.items)})

    async def attachment(
        self, session: AsyncSession, swarm_id: uuid.UUID, sha256: str, identity: Identity
    ) -> SwarmAttachment:
        """A file of the thread, for the swarm's members and leads only (ended swarms included)."""
        await self._may_act(session, await self._swarm(session, swarm_id), identity)
        found = await SwarmRepository(session).attachment(swarm_id, sha256)
        if found is None:
            raise SwarmAttachmentNotFound(f"Swarm {swarm_id} has no attachment {sha256}.")
        return found

    async def promote(
        self, session: AsyncSession, swarm_id: uuid.UUID, message_id: uuid.UUID, identity: Identity
    ) -> SwarmMessage:
        """Copy a message into the case as an internal note by its author, through case-core's commands."""
        record = await self._swarm(session, swarm_id)
        await self._may_act(session, record, identity)
        repository = SwarmRepository(session)
        message = await repository.message(swarm_id, message_id)
        if message is None:
            raise SwarmMessageNotFound(f"Swarm {swarm_id} has no message {message_id}.")
        if message.promoted_at is not None:
            raise MessagePromoted(f"Message {message_id} was promoted to the case already.")
        by = actor_of(identity)
        promoted = await repository.mark_promoted(message_id, by, utcnow())
        files = (await repository.attachments_of([message_id]))[message_id]
        await self._emit(
            session,
            record.case_id,
            ChangeCase(
                case_id=record.case_id,
                internal_note=message.text,
                note_author=message.author,
                # The same blobs: the case's note names the files the swarm's message does.
                note_attachments=[AttachmentRef.model_validate(file.model_dump(exclude={"url"})) for file in files],
                reason=f"swarm:{swarm_id}",
            ),
        )
        return promoted.model_copy(update={"attachments": files})

    async def end(self, session: AsyncSession, swarm_id: uuid.UUID, payload: SwarmEnd, identity: Identity) -> Swarm:
        """Whoever started it (or a lead) resolves or abandons it with its outcome; members' access ends."""
        record = await self._open(session, swarm_id, lock=True)
        if not _is_lead(identity) and record.started_by != actor_of(identity):
            raise NotSwarmOwner("Only whoever started the swarm, or a lead (an admin), may end it.")
        # Asked before anything is written (the swarm's row stays locked meanwhile, so it is offered once).
        draft = await self._offer_draft(record, payload.outcome) if payload.status == "resolved" else None
        now, by = utcnow(), actor_of(identity)
        repository = SwarmRepository(session)
        ended = await repository.end(
            swarm_id,
            {
                "status": payload.status,
                "outcome": payload.outcome,
                "ended_at": now,
                "ended_by": by,
                "draft_article_id": draft,
            },
        )
        for member in await repository.member_names(swarm_id):
            await self._emit(
                session,
                record.case_id,
                RecordCaseAccess(case_id=record.case_id, grantee=member, granted=False, reason=f"swarm:{swarm_id}"),
            )
        await self._emit(
            session,
            record.case_id,
            SwarmResolved(
                swarm_id=swarm_id,
                case_id=record.case_id,
                status=payload.status,
                question=record.question,
                outcome=payload.outcome,
                promoted=await repository.promoted_texts(swarm_id),
                ended_by=by,
                started_at=record.started_at,
                ended_at=now,
            ),
        )
        return (await self._shown(session, [ended]))[0]

    # -- helpers -----------------------------------------------------------------------

    async def _offer_draft(self, record: SwarmRecord, outcome: str) -> uuid.UUID | None:
        """knowledge's draft article from the solved case and the outcome; none when the case is not solved
        (knowledge refuses) or knowledge cannot answer now (the swarm is resolved all the same)."""
        try:
            return await self.peers.capture(record.case_id, record.id, outcome)
        except PeerUnavailable as error:
            logger.warning(
                "no draft article for the resolved swarm: knowledge did not answer",
                extra={"swarm_id": str(record.id), "case_id": str(record.case_id), "error": str(error)},
            )
            return None

    async def _swarm(self, session: AsyncSession, swarm_id: uuid.UUID, *, lock: bool = False) -> SwarmRecord:
        record = await SwarmRepository(session).get(swarm_id, lock=lock)
        if record is None:
            raise SwarmNotFound(f"Swarm {swarm_id} does not exist.")
        return record

    async def _open(self, session: AsyncSession, swarm_id: uuid.UUID, *, lock: bool = False) -> SwarmRecord:
        record = await self._swarm(session, swarm_id, lock=lock)
        if record.status != "open":
            raise SwarmEnded(f"Swarm {swarm_id} is {record.status}.")
        return record

    async def _may_act(self, session: AsyncSession, record: SwarmRecord, identity: Identity) -> None:
        """Whoever started the swarm, its members (agents by name, or through a group routing says they
        are in) and leads act in it."""
        by = actor_of(identity)
        if _is_lead(identity) or record.started_by == by:
            return
        members = await SwarmRepository(session).member_names(record.id)
        if by in members:
            return
        groups = {member.removeprefix("group:") for member in members if member.startswith("group:")}
        if groups and identity.kind == "user" and (user_id := _user_id(identity)) is not None:
            try:
                mine = await self.peers.agent_groups(user_id)
            except PeerUnavailable as error:
                raise ServiceUnavailable(f"routing cannot say which groups {by} is in now: {error}.") from error
            if groups & {str(group) for group in mine}:
                return
        raise NotSwarmMember(f"Only the swarm's members may act in it; {by} is not one.")

    async def _join(self, session: AsyncSession, record: SwarmRecord, members: list[str], by: str) -> None:
        now = utcnow()
        for member in await SwarmRepository(session).add_members(record.id, list(dict.fromkeys(members)), by, now):
            await self._emit(
                session,
                record.case_id,
                RecordCaseAccess(case_id=record.case_id, grantee=member, granted=True, reason=f"swarm:{record.id}"),
            )
            await self.slack.member_joined(session, record, member)
            await self._emit(
                session,
                record.case_id,
                SwarmMemberJoined(
                    swarm_id=record.id, case_id=record.case_id, member=member, added_by=by, joined_at=now
                ),
            )

    async def _with_attachments(self, session: AsyncSession, messages: Sequence[SwarmMessage]) -> list[SwarmMessage]:
        files = await SwarmRepository(session).attachments_of([message.id for message in messages])
        return [message.model_copy(update={"attachments": files[message.id]}) for message in messages]

    async def _emit(self, session: AsyncSession, case_id: uuid.UUID, data: EventData) -> None:
        await self.outbox.add(session, data, source=SPEC.name, subject=str(case_id), key=str(case_id))

    async def _shown(self, session: AsyncSession, records: Sequence[SwarmRecord]) -> list[Swarm]:
        members = await SwarmRepository(session).members([record.id for record in records])
        return [Swarm.model_validate({**asdict(record), "members": members[record.id]}) for record in records]
