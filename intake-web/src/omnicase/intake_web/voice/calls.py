"""A provider's call webhooks → call records and inbound messages, and the TwiML that answers them.

Twilio's model (Vonage and Amazon Connect have the same one): an incoming call is a signed,
form-encoded POST to the number's voice URL, answered with TwiML telling the provider what to
do; what happens to the call later (status changes, the voicemail's recording, its transcript)
comes as further signed POSTs to the callback URL. Each of them is stored once (deduplicated by
CallSid and what it reports) as an ``intake.message_received`` on the caller's conversation,
``voice:<channel>:<caller>``, so the first opens a case (or joins the caller's open one) and the
rest are logged on that case, through crashes, exactly as messaging's messages are. What changes
the call (its start, its end, a voicemail and its transcript) is published on ``voice.events`` in the
same transaction, through the outbox.

A channel with a queue (``queue_seconds``) holds the caller (music or silence, then a ``<Redirect>``
back to its hold URL every few seconds) while routing offers the call's case to an agent; at the
first check after an agent holds the case, the caller is connected to them (``<Dial><Client>``), and
nobody taking it in time sends the caller to the voicemail. Without a queue, every call is greeted
and, when the channel records voicemail, asked for one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.inbound import PayloadError
from omnicase.intake_web.messages.intake import accept_message
from omnicase.intake_web.service import SPEC
from omnicase.intake_web.voice.agents import client_identity
from omnicase.intake_web.voice.callbacks import request_callback
from omnicase.intake_web.voice.repository import FINAL_STATUSES, CallChange, VoiceCallRepository
from omnicase.intake_web.voice.schemas import VoiceConfig
from omnicase.intake_web.voice.service import StoredVoiceChannel, VoiceUrls
from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
    CallAnswered,
    CallEnded,
    CallEndStatus,
    CallStarted,
    CallVoicemailRecorded,
    CallVoicemailTranscribed,
    Channel,
    EventData,
    MessageReceived,
    Party,
)
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox

CallEventKind = Literal["started", "status", "recording", "transcription", "dialed", "callback"]

# What the provider reports of an agent's leg that was connected (Dial's DialCallStatus).
ANSWERED_DIALS = frozenset({"completed", "answered"})

_STATUS_TEXT = {
    "queued": "Call queued.",
    "ringing": "Call ringing.",
    "in-progress": "Call answered.",
    "busy": "Call ended: the line was busy.",
    "failed": "Call failed.",
    "no-answer": "Call ended: nobody answered.",
    "canceled": "Call canceled by the caller.",
}


@dataclass(frozen=True)
class CallEvent:
    """One of a call's webhooks, as the provider sent it."""

    kind: CallEventKind
    call_sid: str
    from_number: str
    to_number: str
    status: str
    duration_seconds: int | None = None
    recording_url: str | None = None
    recording_sid: str | None = None
    transcription: str | None = None
    transcription_sid: str | None = None
    agent_id: uuid.UUID | None = None
    # A recording of the conversation with the agent (Dial's recording), not a voicemail.
    conversation_recorded: bool = False

    @property
    def asks_callback(self) -> bool:
        """The caller asks to be called back: they pressed 1 on hold, or left a voicemail."""
        return self.kind == "callback" or (
            self.kind == "recording" and self.recording_url is not None and not self.conversation_recorded
        )

    @property
    def answered(self) -> bool:
        """The agent dialled from the queue picked up."""
        return self.kind == "dialed" and self.status in ANSWERED_DIALS

    @property
    def dedupe_key(self) -> str:
        """What makes a retry of this webhook the same one: the call and what it reports."""
        match self.kind:
            case "started":
                return f"call:{self.call_sid}:started"
            case "status":
                return f"call:{self.call_sid}:status:{self.status}"
            case "recording":
                return f"call:{self.call_sid}:recording:{self.recording_sid or self.recording_url}"
            case "transcription":
                return f"call:{self.call_sid}:transcription:{self.transcription_sid or ''}"
            case "dialed":
                return f"call:{self.call_sid}:dialed:{self.agent_id}:{self.status}"
            case "callback":
                return f"call:{self.call_sid}:callback"

    @property
    def text(self) -> str:
        """The line it logs on the case."""
        match self.kind:
            case "started":
                return f"Incoming call from {self.from_number} to {self.to_number}."
            case "status" if self.status == "completed":
                after = f" after {self.duration_seconds} s" if self.duration_seconds is not None else ""
                return f"Call ended{after}."
            case "status":
                return _STATUS_TEXT.get(self.status, f"Call {self.status}.")
            case "recording":
                length = f" ({self.duration_seconds} s)" if self.duration_seconds is not None else ""
                what = "Call recorded" if self.conversation_recorded else "Voicemail recorded"
                return f"{what}{length}: {self.recording_url}"
            case "transcription":
                return f"Voicemail transcript: {self.transcription}" if self.transcription else "No transcript."
            case "dialed" if self.answered:
                talked = f"; talked {self.duration_seconds} s" if self.duration_seconds is not None else ""
                return f"Call answered by agent {self.agent_id}{talked}."
            case "dialed":
                return f"Agent {self.agent_id} did not answer the call ({self.status})."
            case "callback":
                return f"The caller pressed 1 to be called back at {self.from_number}."


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def parse_call(
    params: list[tuple[str, str]],
    *,
    incoming: bool,
    dialed: uuid.UUID | None = None,
    numbers: tuple[str, str] | None = None,
) -> CallEvent:
    """The call webhook of ``params`` (the incoming call itself, or one of its callbacks; with ``dialed``, the
    end of the agent's leg the call was connected to). ``numbers``: the call's From and To as stored, for a
    callback that does not repeat them (a recording's status callback)."""
    values = dict(params)
    if numbers is not None:
        values = {"From": numbers[0], "To": numbers[1], **values}
    call_sid, caller, called = (values.get(name, "").strip() for name in ("CallSid", "From", "To"))
    if not call_sid or not caller or not called:
        raise PayloadError("CallSid, From and To are required")
    if len(call_sid) > 64 or len(caller) > 32 or len(called) > 32:
        raise PayloadError("CallSid, From or To is longer than a provider sends")
    status = values.get("CallStatus", "").strip()
    kind: CallEventKind
    if incoming:
        kind = "started"
    elif dialed is not None:
        kind, status = "dialed", values.get("DialCallStatus", "").strip()
        if not status:
            raise PayloadError("the end of a dialled call reports its DialCallStatus")
    elif "TranscriptionText" in values or "TranscriptionSid" in values:
        kind = "transcription"
    elif values.get("RecordingUrl"):
        kind = "recording"
    elif status:
        kind = "status"
    else:
        raise PayloadError("a call callback reports a CallStatus, a RecordingUrl or a transcription")
    transcribed = values.get("TranscriptionStatus", "completed") == "completed"
    return CallEvent(
        kind=kind,
        call_sid=call_sid,
        from_number=caller,
        to_number=called,
        status=status or "in-progress",
        duration_seconds=_int(values.get(_DURATION[kind])),
        recording_url=values.get("RecordingUrl") or None,
        recording_sid=values.get("RecordingSid") or None,
        transcription=(values.get("TranscriptionText") or None) if transcribed else None,
        transcription_sid=values.get("TranscriptionSid") or None,
        agent_id=dialed,
        conversation_recorded=kind == "recording" and values.get("RecordingSource") == "DialVerb",
    )


_DURATION: dict[CallEventKind, str] = {
    "started": "CallDuration",
    "status": "CallDuration",
    "recording": "RecordingDuration",
    "transcription": "CallDuration",
    "dialed": "DialCallDuration",
    "callback": "CallDuration",
}


async def store_call(session: AsyncSession, outbox: Outbox, channel: StoredVoiceChannel, event: CallEvent) -> bool:
    """Stage the webhook as the caller's message, and the call record as it tells it; False for a
    webhook stored before (a provider's retry), which changes nothing."""
    now = utcnow()
    thread_key = channel.thread_key(event.from_number)
    message = MessageReceived(
        intake_id=uuid7(),
        channel=Channel.VOICE,
        received_at=now,
        thread_key=thread_key,
        sender=Party(phone=event.from_number),
        recipient=f"voice:{channel.id}",
        subject=f"Call from {event.from_number}" if event.kind == "started" else None,
        text=event.text,
        message_id=event.call_sid,
        conversation_id=thread_key,
        defaults=channel.defaults,
        metadata={
            "channel_id": str(channel.id),
            "channel_kind": "voice",
            "call_sid": event.call_sid,
            "call_event": event.kind,
            "call_status": event.status,
            "to": event.to_number,
            **({"recording_url": event.recording_url} if event.recording_url else {}),
            **({"duration_seconds": event.duration_seconds} if event.duration_seconds is not None else {}),
        },
    )
    new = await accept_message(
        session,
        outbox,
        message,
        source=f"voice:{channel.id}",
        channel_id=channel.id,
        dedupe_key=event.dedupe_key,
        fields={},
    )
    if new:
        final = event.kind == "status" and event.status in FINAL_STATUSES
        change = await VoiceCallRepository(session).record(
            {
                "id": uuid7(),
                "channel_id": channel.id,
                "call_sid": event.call_sid,
                "direction": "inbound",
                "from_number": event.from_number,
                "to_number": event.to_number,
                # An agent's leg ending is no end of the call (the caller may go on to the voicemail).
                "status": "in-progress" if event.kind == "dialed" else event.status,
                "duration_seconds": event.duration_seconds if event.kind == "status" else None,
                "answered_by": event.agent_id if event.answered else None,
                # Told when the agent's leg ends (Dial's action): the answer was its talk time before.
                "answered_at": now - timedelta(seconds=event.duration_seconds or 0) if event.answered else None,
                "recording_url": event.recording_url,
                "transcription": event.transcription,
                "intake_id": message.intake_id,
                "started_at": now,
                "ended_at": now if final else None,
                "updated_at": now,
            }
        )
        published = call_event(channel, event, change, now)
        if published is not None:
            await outbox.add(session, published, source=SPEC.name, subject=str(change.id), key=str(change.id))
        if event.asks_callback:
            via: Literal["voicemail", "keypress"] = "keypress" if event.kind == "callback" else "voicemail"
            await request_callback(session, outbox, channel.id, change, via, now)
    return new


def call_event(channel: StoredVoiceChannel, event: CallEvent, change: CallChange, now: datetime) -> EventData | None:
    """The ``voice.events`` event a stored webhook makes, if it changed the call (a status after the end,
    or a ringing nobody needs to count, makes none)."""
    common = {"call_id": change.id, "channel_id": channel.id, "case_id": change.case_id}
    match event.kind:
        case "started":
            return CallStarted(
                **common,
                call_sid=event.call_sid,
                direction="inbound",
                from_number=event.from_number,
                to_number=event.to_number,
                brand=channel.defaults.brand,
                started_at=change.started_at,
            )
        case "status" if change.ended_now and change.ended_at is not None:
            return CallEnded(
                **common,
                direction="inbound",
                status=cast(CallEndStatus, change.status),
                duration_seconds=change.duration_seconds,
                started_at=change.started_at,
                ended_at=change.ended_at,
            )
        case "dialed" if event.answered and change.answered_at is not None:
            return CallAnswered(
                **common,
                direction="inbound",
                answered_by=f"user:{change.answered_by}",
                answered_at=change.answered_at,
                wait_seconds=max(0, int((change.answered_at - change.started_at).total_seconds())),
            )
        case "recording" if event.recording_url and not event.conversation_recorded:
            return CallVoicemailRecorded(
                **common,
                from_number=event.from_number,
                recording_url=event.recording_url,
                duration_seconds=event.duration_seconds,
                recorded_at=now,
            )
        case "transcription" if event.transcription:
            return CallVoicemailTranscribed(**common, transcription=event.transcription, transcribed_at=now)
    return None


def _twiml(*verbs: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{"".join(verbs)}</Response>'


def _say(config: VoiceConfig, text: str) -> str:
    return f"<Say language={quoteattr(config.language)}>{escape(text)}</Say>"


def _hold(config: VoiceConfig, urls: VoiceUrls) -> str:
    wait = (
        f"<Play>{escape(str(config.hold_music_url))}</Play>"
        if config.hold_music_url
        else f'<Pause length="{config.hold_check_seconds}"/>'
    )
    if config.callback_keypress:
        # A key pressed during the wait is posted (Digits) to the hold URL; none: on to the redirect.
        gather = f'<Gather input="dtmf" numDigits="1" action={quoteattr(urls.hold)} method="POST" timeout="1">'
        wait = f"{gather}{wait}</Gather>"
    return f'{wait}<Redirect method="POST">{escape(urls.hold)}</Redirect>'


def _voicemail(config: VoiceConfig, urls: VoiceUrls) -> str:
    if not config.voicemail:
        return "<Hangup/>"
    transcribe = f' transcribe="true" transcribeCallback={quoteattr(urls.events)}' if config.transcribe else ""
    return (
        f'<Record action={quoteattr(urls.events)} method="POST" maxLength="{config.voicemail_max_seconds}"'
        f' playBeep="true"{transcribe}/>'
    )


def answer_call(channel: StoredVoiceChannel, urls: VoiceUrls) -> str:
    """TwiML for an incoming call: the greeting, then the hold loop while an agent may take it (a queue),
    else a voicemail (recorded, transcribed when asked) reported to the callback URL, or the end of the call."""
    config = channel.config
    if not config.queue_seconds:
        return _twiml(_say(config, config.greeting), _voicemail(config, urls))
    offer = _say(config, config.callback_prompt) if config.callback_keypress else ""
    return _twiml(_say(config, config.greeting), offer, _hold(config, urls))


def answer_after_hours(channel: StoredVoiceChannel, urls: VoiceUrls) -> str:
    """TwiML for a call outside the channel's business hours: the message, then the voicemail (or the end)."""
    config = channel.config
    return _twiml(_say(config, config.after_hours_message), _voicemail(config, urls))


def answer_callback(channel: StoredVoiceChannel) -> str:
    """TwiML once a caller on hold pressed 1: the confirmation, and the end of the call."""
    return _twiml(_say(channel.config, channel.config.callback_confirmation), "<Hangup/>")


def answer_hold(channel: StoredVoiceChannel, urls: VoiceUrls, waited_seconds: float, agent: uuid.UUID | None) -> str:
    """TwiML for a caller on hold: dial the agent who took the call, or hold on while the queue time lasts,
    then the voicemail."""
    config = channel.config
    if agent is not None:
        dialed = f"{urls.dialed}?{urlencode({'agent': str(agent)})}"
        record = (
            f' record="record-from-answer" recordingStatusCallback={quoteattr(urls.events)}'
            ' recordingStatusCallbackMethod="POST"'
            if config.record_calls
            else ""
        )
        return _twiml(
            f'<Dial action={quoteattr(dialed)} method="POST" timeout="{config.agent_ring_seconds}"{record}>'
            f"<Client>{client_identity(agent)}</Client></Dial>"
        )
    if waited_seconds < config.queue_seconds:
        return _twiml(_hold(config, urls))
    return _twiml(_say(config, config.voicemail_prompt), _voicemail(config, urls))


def answer_dialed(channel: StoredVoiceChannel, urls: VoiceUrls, event: CallEvent) -> str:
    """TwiML once the agent's leg ended: the call is over if they talked, else the voicemail."""
    config = channel.config
    if event.answered:
        return _twiml("<Hangup/>")
    return _twiml(_say(config, config.voicemail_prompt), _voicemail(config, urls))
