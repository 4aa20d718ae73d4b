"""Callbacks: a caller nobody could take asks to be called back, and the call's case becomes callback work.

A caller asks by leaving a voicemail, or by pressing 1 on hold (a channel with ``callback_keypress``:
they keep their place, since the call's case stays in its queue, and hang up), published as
``call.callback_requested`` on ``voice.events``. The call's case is
tagged ``callback`` (``case.change`` on ``case.commands``, with an internal note), so routing's rules
can send callbacks to a queue of their own and offer them like any case; the tag goes on once
case-core has confirmed the case (at once when it had, else when its confirmation comes). An
agent's click-to-call from the case completes every open callback of its calls once the customer
answers: the tag comes off, with a note.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.service import SPEC
from omnicase.intake_web.voice.repository import CallChange, VoiceCallRepository
from omnicase.kit.events import CallCallbackRequested, CaseCreated, CaseMessageAdded, ChangeCase, Channel
from omnicase.kit.outbox import Outbox

CALLBACK_TAG = "callback"


async def _change(session: AsyncSession, outbox: Outbox, change: ChangeCase) -> None:
    key = str(change.case_id)
    await outbox.add(session, change, source=SPEC.name, subject=key, key=key)


def _tagged(case_id: uuid.UUID, call_id: uuid.UUID) -> ChangeCase:
    return ChangeCase(
        case_id=case_id,
        add_tags=[CALLBACK_TAG],
        internal_note="The caller asked to be called back.",
        reason=f"voice: callback of call {call_id}",
    )


async def request_callback(
    session: AsyncSession,
    outbox: Outbox,
    channel_id: uuid.UUID,
    call: CallChange,
    via: Literal["voicemail", "keypress"],
    now: datetime,
) -> None:
    """The caller of ``call`` asks to be called back (its webhook holds the call locked): published as
    ``call.callback_requested``; the case is tagged now if case-core has confirmed it, else by
    :func:`tag_confirmed_callbacks`. Asking twice (a voicemail after a 1, a retry) changes nothing."""
    repository = VoiceCallRepository(session)
    if not await repository.request_callback(call.id, now):
        return
    requested = CallCallbackRequested(
        call_id=call.id, channel_id=channel_id, via=via, case_id=call.case_id, requested_at=now
    )
    await outbox.add(session, requested, source=SPEC.name, subject=str(call.id), key=str(call.id))
    if call.case_id is None:
        return
    await repository.note_callback_tagged([call.id])
    await _change(session, outbox, _tagged(call.case_id, call.id))


async def tag_confirmed_callbacks(
    session: AsyncSession, outbox: Outbox, confirmations: Sequence[CaseCreated | CaseMessageAdded]
) -> None:
    """Tag the cases case-core just confirmed for voice calls whose callback was asked before."""
    cases: dict[uuid.UUID, uuid.UUID] = {}
    for event in confirmations:
        match event:
            case CaseCreated(source_intake_id=uuid.UUID() as intake_id, case=case) if case.channel is Channel.VOICE:
                cases[intake_id] = case.case_id
            case CaseMessageAdded(source_intake_id=uuid.UUID() as intake_id, channel=Channel.VOICE):
                cases[intake_id] = event.case_id
    if not cases:
        return
    repository = VoiceCallRepository(session)
    due = await repository.callbacks_to_tag(list(cases))
    if not due:
        return
    await repository.note_callback_tagged([call_id for call_id, _ in due])
    for call_id, intake_id in due:
        await _change(session, outbox, _tagged(cases[intake_id], call_id))


async def complete_callbacks(
    session: AsyncSession, outbox: Outbox, case_id: uuid.UUID, call_id: uuid.UUID, to_number: str, now: datetime
) -> None:
    """The customer answered the outbound call ``call_id`` placed from ``case_id``: its open callbacks are done."""
    completed = await VoiceCallRepository(session).complete_callbacks(case_id, call_id, now)
    if completed:
        await _change(
            session,
            outbox,
            ChangeCase(
                case_id=case_id,
                remove_tags=[CALLBACK_TAG],
                internal_note=f"Called back: {to_number} answered.",
                reason=f"voice: callback completed by call {call_id}",
            ),
        )
