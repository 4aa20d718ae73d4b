"""Which case an inbound message belongs to.

Rules, first match wins:

1. email: ``In-Reply-To`` / ``References`` against every Message-ID a case sent or
   received (the ``thread_keys`` table; sent ones arrive with intake-email's delivery
   report), or naming one of our outbound messages by its id;
2. any channel: the hidden reference marker of our outbound mail, found in the body
   (quoted or forwarded text included) or an ``X-Omnicase-Ref`` header;
3. email: a ``[#1234]`` token in the subject, only when the sender is the case's
   requester (numbers are guessable; anyone else gets a new case);
4. messaging, SMS, social, voice, api: the channel's conversation id;
5. web forms (and everything else): a new case.

Several cases can share a thread (a follow-up of a closed case continues its
predecessor's Message-IDs): the newest one wins, a merged case leads to the
case it was merged into, and a closed case to its newest follow-up (so every later
reply to the old thread joins that follow-up instead of opening another).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseRepository, CaseRow
from omnicase.case_core.messages import reference
from omnicase.case_core.messages.repository import CONVERSATION, MESSAGE_ID, MessageRepository
from omnicase.kit.events import CaseStatus, Channel, MessageReceived

_CONVERSATION_CHANNELS = {Channel.MESSAGING, Channel.SMS, Channel.SOCIAL, Channel.VOICE, Channel.API}


class ThreadFinder:
    async def find(
        self, session: AsyncSession, message: MessageReceived, requester_id: uuid.UUID | None
    ) -> CaseRow | None:
        if message.channel == Channel.WEB:
            return None
        if message.channel == Channel.EMAIL:
            message_ids = list(dict.fromkeys([*message.in_reply_to, *message.references]))
            case = await self._newest_rows(
                session, await MessageRepository(session).cases_by_keys(MESSAGE_ID, message_ids)
            )
            if case is not None:
                return case
            # Our replies' Message-IDs are ``<outbound id>@<domain>`` (intake-email derives them
            # from the id), so a reply threads even before the delivery report names it.
            outbound_ids = [sent for value in message_ids if (sent := _our_message_id(value)) is not None]
            case = await self._newest_rows(session, await MessageRepository(session).cases_of_outbound(outbound_ids))
            if case is not None:
                return case
        tokens = reference.tokens_in([message.text, message.html, message.subject], message.metadata)
        case = await self._newest_rows(session, await CaseRepository(session).get_by_ref_tokens(tokens))
        if case is not None:
            return case
        if message.channel == Channel.EMAIL and requester_id is not None:
            for number in reference.subject_numbers(message.subject):
                found = await CaseRepository(session).get_by_number(number)
                if found is not None and found.requester_id == requester_id:
                    return await self._follow_merges(session, found)
        if message.channel in _CONVERSATION_CHANNELS and message.conversation_id:
            rows = await MessageRepository(session).cases_by_keys(CONVERSATION, [message.conversation_id])
            return await self._newest_rows(session, rows)
        return None

    async def _newest_rows(self, session: AsyncSession, rows: list[CaseRow]) -> CaseRow | None:
        if not rows:
            return None
        return await self._follow_merges(session, max(rows, key=lambda row: row.number))

    async def _follow_merges(self, session: AsyncSession, case: CaseRow) -> CaseRow:
        """The case a thread lives on now: past merges, and past closed cases to their follow-ups."""
        seen = {case.id}
        while True:
            if case.merged_into is not None:
                successor = await CaseRepository(session).get(case.merged_into)
            elif case.status == CaseStatus.CLOSED:
                successor = await CaseRepository(session).newest_follow_up(case.id)
            else:
                return case
            if successor is None or successor.id in seen:
                return case
            seen.add(successor.id)
            case = successor


def _our_message_id(message_id: str) -> uuid.UUID | None:
    local = message_id.split("@", 1)[0]
    try:
        return uuid.UUID(local)
    except ValueError:
        return None
