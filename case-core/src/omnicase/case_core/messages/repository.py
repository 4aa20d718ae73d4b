"""Every query about messages, their attachments, and the thread keys of cases, answering typed records."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, CTE, RowMapping, Select, String, Uuid, and_, bindparam, column, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.cases.repository import (
    CASE_COLUMNS,
    CaseRepository,
    CaseRow,
    NewCaseRow,
    case_record,
    case_search_vector,
)
from omnicase.case_core.models import cases, message_attachments, messages, thread_keys
from omnicase.case_core.records import column_values
from omnicase.kit.db import any_of, named_values
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class MessageRow:
    id: uuid.UUID
    case_id: uuid.UUID
    direction: str  # inbound | outbound
    public: bool
    author: str
    author_role: str
    channel: str
    text: str
    html: str | None
    email_message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    conversation_id: str | None
    source_intake_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True)
class AttachmentRow:
    message_id: uuid.UUID
    position: int
    sha256: str
    filename: str
    content_type: str
    size: int
    content_id: str | None
    inline: bool


@dataclass(frozen=True, kw_only=True)
class CaseAttachmentRow(AttachmentRow):
    """An attachment found among a case's messages, with the channel of the message carrying it."""

    channel: str


def _message(row: RowMapping) -> MessageRow:
    return MessageRow(**{**row, "in_reply_to": tuple(row["in_reply_to"]), "references": tuple(row["references"])})


MESSAGE_ID = "message_id"
CONVERSATION = "conversation"


def _thread_key_rows(case_id: uuid.UUID, keys: Sequence[tuple[str, str]]) -> list[dict[str, object]]:
    return [{"kind": kind, "value": value[:998], "case_id": case_id} for kind, value in dict.fromkeys(keys)]


# Built once, the values given at execution: every message runs it.
_ADD_THREAD_KEYS = insert(thread_keys).on_conflict_do_nothing()


def _message_and_thread_keys(prefix: str = "") -> tuple[CTE, CTE]:
    """The message (its columns as parameters named ``prefix`` + column, its case as ``case_id``)
    and its case's new thread keys (``thread_key_kinds``/``thread_key_values``), as two
    data-modifying WITH parts: a statement carrying them runs both, whether or not it reads them."""
    case_id = bindparam("case_id", type_=Uuid)
    message = (
        messages.insert()
        .values(
            {
                column.name: case_id if column.name == "case_id" else bindparam(prefix + column.name, type_=column.type)
                for column in messages.c
            }
        )
        .returning(messages.c.id)
        .cte("message")
    )
    keys = (
        func.unnest(
            bindparam("thread_key_kinds", type_=ARRAY(String)), bindparam("thread_key_values", type_=ARRAY(String))
        )
        .table_valued(column("kind", String), column("value", String))
        .render_derived(name="keys")
    )
    added = (
        insert(thread_keys)
        .from_select(["kind", "value", "case_id"], select(keys.c.kind, keys.c.value, case_id))
        .on_conflict_do_nothing()
        .cte("thread_keys_added")
    )
    return message, added


def _insert_message_with_thread_keys() -> Select[tuple[uuid.UUID]]:
    message, added = _message_and_thread_keys()
    return select(message.c.id).add_cte(added)


@functools.cache
def _insert_case_with_message(names: tuple[str, ...]) -> Select[Any]:
    """A new case (the columns ``names``, as parameters of their names, ``number`` from its
    sequence) with its first message and thread keys, in one statement: the case's row back.
    The message's foreign key is checked at the statement's end, when its case is there."""
    new_case = (
        cases.insert()
        .values(named_values(cases, names))
        .values(search=case_search_vector())
        .returning(*CASE_COLUMNS)
        .cte("new_case")
    )
    message, added = _message_and_thread_keys(_MESSAGE_PREFIX)
    return select(*new_case.c).add_cte(message).add_cte(added)


_MESSAGE_PREFIX = "message_"
_INSERT_MESSAGE = _insert_message_with_thread_keys()


class MessageRepository(Repository):
    async def insert(
        self, message: MessageRow, attachments: Sequence[AttachmentRow], thread_keys: Sequence[tuple[str, str]] = ()
    ) -> MessageRow:
        """The message, the case's thread keys it brings (one statement) and its attachments."""
        keys = _thread_key_rows(message.case_id, thread_keys)
        await self.session.execute(
            _INSERT_MESSAGE,
            column_values(message)
            | {"thread_key_kinds": [key["kind"] for key in keys], "thread_key_values": [key["value"] for key in keys]},
        )
        await self._insert_attachments(attachments)
        return message

    async def _insert_attachments(self, attachments: Sequence[AttachmentRow]) -> None:
        if attachments:
            await self.session.execute(
                message_attachments.insert(),
                [
                    {
                        "message_id": attachment.message_id,
                        "position": attachment.position,
                        "sha256": attachment.sha256,
                        "filename": attachment.filename,
                        "content_type": attachment.content_type,
                        "size": attachment.size,
                        "content_id": attachment.content_id,
                        "inline": attachment.inline,
                    }
                    for attachment in attachments
                ],
            )

    async def insert_with_case(
        self,
        new_case: NewCaseRow,
        search_text: str,
        message: MessageRow,
        attachments: Sequence[AttachmentRow],
        thread_keys: Sequence[tuple[str, str]] = (),
    ) -> CaseRow:
        """A new case (as for ``CaseRepository.insert``) and its first message in one round trip
        (and its attachments in a second, when it has any)."""
        keys = _thread_key_rows(message.case_id, thread_keys)
        case_values = column_values(new_case)
        parameters = {
            **case_values,
            "search_subject": new_case.subject,
            "search_text": search_text,
            "case_id": message.case_id,
            "thread_key_kinds": [key["kind"] for key in keys],
            "thread_key_values": [key["value"] for key in keys],
        }
        parameters |= {
            _MESSAGE_PREFIX + name: value for name, value in column_values(message).items() if name != "case_id"
        }
        statement = _insert_case_with_message(tuple(sorted(case_values)))
        case = CaseRepository(self.session).keep(
            case_record((await self.session.execute(statement, parameters)).mappings().one())
        )
        await self._insert_attachments(attachments)
        return case

    async def already_received(self, intake_id: uuid.UUID, email_message_id: str | None) -> MessageRow | None:
        """The message an inbound message became before: by its intake id, or an inbound email's Message-ID."""
        condition = messages.c.source_intake_id == intake_id
        if email_message_id:
            condition = or_(
                condition, and_(messages.c.email_message_id == email_message_id, messages.c.direction == "inbound")
            )
        statement = select(messages).where(condition).order_by(messages.c.created_at).limit(1)
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _message(row) if row else None

    async def received_among(
        self, intake_ids: list[uuid.UUID], email_message_ids: list[str]
    ) -> tuple[dict[uuid.UUID, MessageRow], dict[str, MessageRow]]:
        """What :meth:`already_received` answers for a whole batch, in one query: by intake id, by Message-ID."""
        condition = any_of(messages.c.source_intake_id, intake_ids)
        if email_message_ids:
            condition = or_(
                condition,
                and_(any_of(messages.c.email_message_id, email_message_ids), messages.c.direction == "inbound"),
            )
        statement = select(messages).where(condition).order_by(messages.c.created_at.desc())
        by_intake: dict[uuid.UUID, MessageRow] = {}
        by_email: dict[str, MessageRow] = {}
        # Newest first, so the oldest ends up in each map, as already_received picks it.
        for row in (await self.session.execute(statement)).mappings():
            message = _message(row)
            if message.source_intake_id is not None:
                by_intake[message.source_intake_id] = message
            if message.email_message_id and message.direction == "inbound":
                by_email[message.email_message_id] = message
        return by_intake, by_email

    async def get(self, case_id: uuid.UUID, message_id: uuid.UUID) -> MessageRow | None:
        statement = select(messages).where(messages.c.id == message_id, messages.c.case_id == case_id)
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _message(row) if row else None

    async def page(
        self,
        case_id: uuid.UUID,
        *,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
        public_only: bool = False,
    ) -> list[MessageRow]:
        conditions = [messages.c.case_id == case_id]
        if public_only:
            conditions.append(messages.c.public.is_(True))
        if after is not None:
            conditions.append(tuple_(messages.c.created_at, messages.c.id) > tuple_(*after))
        statement = (
            select(messages).where(and_(*conditions)).order_by(messages.c.created_at, messages.c.id).limit(limit)
        )
        return [_message(row) for row in (await self.session.execute(statement)).mappings()]

    async def attachments_of(self, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AttachmentRow]]:
        result: dict[uuid.UUID, list[AttachmentRow]] = {message_id: [] for message_id in message_ids}
        if message_ids:
            statement = (
                select(message_attachments)
                .where(message_attachments.c.message_id.in_(list(message_ids)))
                .order_by(message_attachments.c.message_id, message_attachments.c.position)
            )
            for row in (await self.session.execute(statement)).mappings():
                result[row["message_id"]].append(AttachmentRow(**row))
        return result

    async def attachment_of_case(
        self, case_id: uuid.UUID, sha256: str, *, public_only: bool = False
    ) -> CaseAttachmentRow | None:
        statement = (
            select(message_attachments, messages.c.channel)
            .join(messages, messages.c.id == message_attachments.c.message_id)
            .where(messages.c.case_id == case_id, message_attachments.c.sha256 == sha256)
            .limit(1)
        )
        if public_only:
            statement = statement.where(messages.c.public.is_(True))
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return CaseAttachmentRow(**row) if row else None

    async def email_thread(self, case_id: uuid.UUID, limit: int = 20) -> list[tuple[str, str]]:
        """The case's last email Message-IDs, oldest first, with each message's direction."""
        statement = (
            select(messages.c.email_message_id, messages.c.direction)
            .where(messages.c.case_id == case_id, messages.c.email_message_id.is_not(None))
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(limit)
        )
        rows = [(row.email_message_id, row.direction) for row in await self.session.execute(statement)]
        return list(reversed(rows))

    async def set_email_message_id(self, message_id: uuid.UUID, email_message_id: str) -> None:
        await self.session.execute(
            messages.update()
            .where(
                messages.c.id == message_id,
                messages.c.direction == "outbound",
                # A chat's reply first holds its widget entry's id; the mail sent when the visitor left takes over,
                # so later mails on the case reference it.
                messages.c.email_message_id.is_(None) | messages.c.email_message_id.not_like("%@%"),
            )
            .values(email_message_id=email_message_id)
        )

    async def move(self, source: uuid.UUID, target: uuid.UUID) -> None:
        await self.session.execute(messages.update().where(messages.c.case_id == source).values(case_id=target))

    # -- thread keys ------------------------------------------------------------------

    async def add_thread_keys(self, case_id: uuid.UUID, keys: Sequence[tuple[str, str]]) -> None:
        rows = _thread_key_rows(case_id, keys)
        if rows:
            await self.session.execute(_ADD_THREAD_KEYS, rows)

    async def cases_by_keys(self, kind: str, values: Sequence[str]) -> list[CaseRow]:
        """The cases owning any of these thread keys (one query: the intake's hot path)."""
        if not values:
            return []
        statement = (
            select(*CASE_COLUMNS)
            .join(thread_keys, thread_keys.c.case_id == cases.c.id)
            .where(thread_keys.c.kind == kind, thread_keys.c.value.in_([value[:998] for value in values]))
            .distinct()
        )
        return [case_record(row) for row in (await self.session.execute(statement)).mappings()]

    async def cases_of_outbound(self, message_ids: Sequence[uuid.UUID]) -> list[CaseRow]:
        """The cases that sent these outbound messages."""
        if not message_ids:
            return []
        statement = (
            select(*CASE_COLUMNS)
            .join(messages, messages.c.case_id == cases.c.id)
            .where(messages.c.id.in_(list(message_ids)), messages.c.direction == "outbound")
            .distinct()
        )
        return [case_record(row) for row in (await self.session.execute(statement)).mappings()]

    async def move_thread_keys(self, source: uuid.UUID, target: uuid.UUID) -> None:
        rows = (
            await self.session.execute(
                select(thread_keys.c.kind, thread_keys.c.value).where(thread_keys.c.case_id == source)
            )
        ).all()
        await self.add_thread_keys(target, [(row.kind, row.value) for row in rows])
        await self.session.execute(thread_keys.delete().where(thread_keys.c.case_id == source))
