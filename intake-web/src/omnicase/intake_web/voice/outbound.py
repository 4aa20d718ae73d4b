"""Click-to-call: an agent places a call from a case through the provider's REST API (Twilio's Calls resource).

The provider rings the customer from the channel's number; once they answer it asks the
channel's outbound URL for TwiML, which connects them to the agent's voice client
(``<Dial><Client>agent_<hex>``, as an inbound call is connected), so the call's own progress is
the customer's: ``in-progress`` is their answer. The call's status callbacks come to the channel's callback
URL like an inbound call's, and each change (answered, ended) is written on the case as an
internal note (``case.change`` on ``case.commands``) and published on ``voice.events``. The
customer's answer completes the open callbacks of the case's calls (``voice/callbacks.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast
from urllib.parse import urlencode

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.providers import _url
from omnicase.intake_web.service import SPEC
from omnicase.intake_web.voice.agents import client_identity
from omnicase.intake_web.voice.callbacks import complete_callbacks
from omnicase.intake_web.voice.repository import VoiceCallRepository
from omnicase.intake_web.voice.service import StoredVoiceChannel, VoiceUrls
from omnicase.kit.errors import Conflict, ServiceUnavailable
from omnicase.kit.events import CallAnswered, CallEnded, CallEndStatus, CallStarted, ChangeCase, EventData
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox
from omnicase.kit.peers import PeerClient

# What Twilio reports as an outbound call's progress (StatusCallbackEvent).
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


class CallNotPlaced(Conflict):
    slug = "call-not-placed"
    title = "The provider refused the call"


class CaseLookup(PeerClient):
    """case-core's answers about the case a call is placed from: whether it exists, and the numbers its
    requester can be called on."""

    def __init__(self, base_url: str, secret: str) -> None:
        super().__init__(
            "case-core", base_url, secret, caller="intake-web", scopes=frozenset({"cases:read", "contacts:read"})
        )

    async def exists(self, case_id: uuid.UUID) -> bool:
        return await self.get(f"/api/v1/cases/{case_id}") is not None

    async def requester_phones(self, case_id: uuid.UUID) -> list[str] | None:
        """The phone numbers (E.164) of the case's requester, in the order the contact keeps them; empty for
        a requester with none (or no requester); None when case-core has no such case."""
        case = await self.get(f"/api/v1/cases/{case_id}")
        if case is None:
            return None
        requester = case.json().get("requester_id")
        if requester is None:
            return []
        contact = await self.get(f"/api/v1/contacts/{requester}")
        if contact is None:
            return []
        return [str(phone) for phone in contact.json().get("phones") or []]


async def create_provider_call(
    http: httpx.AsyncClient,
    channel: StoredVoiceChannel,
    urls: VoiceUrls,
    to: str,
    agent: uuid.UUID,
    wait_seconds: float,
) -> str:
    """POST to the provider's Calls resource: ring ``to``, then the channel's outbound TwiML (the agent); the
    call's sid. :class:`CallNotPlaced` for a refusal (4xx), :class:`ServiceUnavailable` otherwise."""
    config = channel.config
    try:
        response = await http.post(
            _url(config.api_base_url, f"/2010-04-01/Accounts/{config.account_sid}/Calls.json"),
            data={
                "To": to,
                "From": config.phone_numbers[0],
                "Url": f"{urls.outbound}?{urlencode({'agent': str(agent)})}",
                "Method": "POST",
                "StatusCallback": urls.events,
                "StatusCallbackMethod": "POST",
                "StatusCallbackEvent": list(STATUS_EVENTS),
            },
            auth=(config.account_sid, config.auth_token),
            timeout=wait_seconds,
        )
    except httpx.HTTPError as error:
        raise ServiceUnavailable(f"The telephony provider is unreachable: {error!r}.") from error
    if 400 <= response.status_code < 500:
        try:
            reason = str(response.json().get("message") or response.text[:300])
        except ValueError:
            reason = response.text[:300]
        raise CallNotPlaced(f"The provider refused the call ({response.status_code}): {reason}")
    if not response.is_success:
        raise ServiceUnavailable(f"The telephony provider answered {response.status_code}; try again.")
    try:
        sid = response.json().get("sid")
    except ValueError:
        sid = None
    if not isinstance(sid, str) or not sid:
        raise ServiceUnavailable("The telephony provider answered without the call's sid.")
    return sid


def _note(case_id: uuid.UUID, call_id: uuid.UUID, text: str, author: uuid.UUID | None) -> ChangeCase:
    return ChangeCase(
        case_id=case_id,
        internal_note=text,
        note_author=f"user:{author}" if author else None,
        reason=f"voice: call {call_id}",
    )


async def _publish(session: AsyncSession, outbox: Outbox, call_id: uuid.UUID, *events: EventData) -> None:
    for event in events:
        key = str(event.case_id) if isinstance(event, ChangeCase) else str(call_id)
        await outbox.add(session, event, source=SPEC.name, subject=key, key=key)


async def record_placed_call(
    session: AsyncSession,
    outbox: Outbox,
    channel: StoredVoiceChannel,
    case_id: uuid.UUID,
    agent: uuid.UUID,
    call_sid: str,
    to: str,
    now: datetime,
) -> uuid.UUID:
    """The call the provider accepted: its record, ``call.started`` and the note on its case."""
    call_id = uuid7()
    from_number = channel.config.phone_numbers[0]
    await VoiceCallRepository(session).record(
        {
            "id": call_id,
            "channel_id": channel.id,
            "call_sid": call_sid,
            "direction": "outbound",
            "from_number": from_number,
            "to_number": to,
            "status": "queued",
            "duration_seconds": None,
            "recording_url": None,
            "transcription": None,
            "intake_id": None,
            "case_id": case_id,
            "placed_by": agent,
            "answered_by": None,
            "answered_at": None,
            "started_at": now,
            "ended_at": None,
            "updated_at": now,
        }
    )
    started = CallStarted(
        call_id=call_id,
        call_sid=call_sid,
        channel_id=channel.id,
        direction="outbound",
        from_number=from_number,
        to_number=to,
        brand=channel.defaults.brand,
        case_id=case_id,
        started_at=now,
        placed_by=f"user:{agent}",
    )
    await _publish(session, outbox, call_id, started, _note(case_id, call_id, f"Outbound call to {to}.", agent))
    return call_id


async def store_outbound_status(
    session: AsyncSession,
    outbox: Outbox,
    channel: StoredVoiceChannel,
    call_sid: str,
    status: str,
    duration: int | None,
    now: datetime,
) -> None:
    """An outbound call's status callback: the record brought up to date, and what changed (the customer
    answered, the call ended) noted on its case and published; a repeated status changes nothing."""
    repository = VoiceCallRepository(session)
    stored = await repository.find(channel.id, call_sid)
    if stored is None or stored.case_id is None:
        return
    answered = status == "in-progress"
    final = status in ("completed", "busy", "failed", "no-answer", "canceled")
    change = await repository.record(
        {
            "id": uuid7(),
            "channel_id": channel.id,
            "call_sid": call_sid,
            "direction": "outbound",
            "from_number": stored.from_number,
            "to_number": stored.to_number,
            "status": status,
            "duration_seconds": duration if final else None,
            "recording_url": None,
            "transcription": None,
            "intake_id": None,
            "case_id": stored.case_id,
            "placed_by": None,
            "answered_by": None,
            "answered_at": now if answered else None,
            "started_at": now,
            "ended_at": now if final else None,
            "updated_at": now,
        }
    )
    if change.previous_status == change.status or change.case_id is None:
        return
    common = {"call_id": change.id, "channel_id": channel.id, "direction": "outbound", "case_id": change.case_id}
    if answered and change.answered_at is not None and change.previous_status != "in-progress":
        await _publish(
            session,
            outbox,
            change.id,
            CallAnswered(
                **common,
                answered_at=change.answered_at,
                wait_seconds=max(0, int((change.answered_at - change.started_at).total_seconds())),
            ),
            _note(change.case_id, change.id, f"Outbound call to {change.to_number} answered.", None),
        )
        # The customer answered a call from their case: whatever callback it owed them is done.
        await complete_callbacks(session, outbox, change.case_id, change.id, change.to_number, now)
    elif change.ended_now and change.ended_at is not None:
        after = f" after {change.duration_seconds} s" if change.duration_seconds is not None else ""
        await _publish(
            session,
            outbox,
            change.id,
            CallEnded(
                **common,
                status=cast(CallEndStatus, change.status),
                duration_seconds=change.duration_seconds,
                started_at=change.started_at,
                ended_at=change.ended_at,
            ),
            _note(change.case_id, change.id, f"Outbound call to {change.to_number} ended{after} ({status}).", None),
        )


def answer_outbound(agent: uuid.UUID) -> str:
    """TwiML once the customer answered: connect them to the agent who placed the call."""
    dial = f"<Dial><Client>{client_identity(agent)}</Client></Dial>"
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{dial}</Response>'
