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

No agent takes calls yet (routing to agents is a later step): every call is greeted and, when the
channel records voicemail, asked for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.inbound import PayloadError
from omnicase.intake_web.messages.intake import accept_message
from omnicase.intake_web.service import SPEC
from omnicase.intake_web.voice.repository import FINAL_STATUSES, CallChange, VoiceCallRepository
from omnicase.intake_web.voice.service import StoredVoiceChannel
from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
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

CallEventKind = Literal["started", "status", "recording", "transcription"]

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
                return f"Voicemail recorded{length}: {self.recording_url}"
            case "transcription":
                return f"Voicemail transcript: {self.transcription}" if self.transcription else "No transcript."


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def parse_call(params: list[tuple[str, str]], *, incoming: bool) -> CallEvent:
    """The call webhook of ``params`` (the incoming call itself, or one of its callbacks)."""
    values = dict(params)
    call_sid, caller, called = (values.get(name, "").strip() for name in ("CallSid", "From", "To"))
    if not call_sid or not caller or not called:
        raise PayloadError("CallSid, From and To are required")
    if len(call_sid) > 64 or len(caller) > 32 or len(called) > 32:
        raise PayloadError("CallSid, From or To is longer than a provider sends")
    status = values.get("CallStatus", "").strip()
    kind: CallEventKind
    if incoming:
        kind = "started"
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
        duration_seconds=_int(values.get("RecordingDuration" if kind == "recording" else "CallDuration")),
        recording_url=values.get("RecordingUrl") or None,
        recording_sid=values.get("RecordingSid") or None,
        transcription=(values.get("TranscriptionText") or None) if transcribed else None,
        transcription_sid=values.get("TranscriptionSid") or None,
    )


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
                "status": event.status,
                "duration_seconds": event.duration_seconds if event.kind == "status" else None,
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
        case "recording" if event.recording_url:
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


def answer_call(channel: StoredVoiceChannel, events_url: str) -> str:
    """TwiML for an incoming call: the greeting, then a voicemail (recorded, transcribed when asked)
    reported to the callback URL, or the end of the call."""
    config = channel.config
    say = f"<Say language={quoteattr(config.language)}>{escape(config.greeting)}</Say>"
    if not config.voicemail:
        then = "<Hangup/>"
    else:
        transcribe = f' transcribe="true" transcribeCallback={quoteattr(events_url)}' if config.transcribe else ""
        then = (
            f'<Record action={quoteattr(events_url)} method="POST" maxLength="{config.voicemail_max_seconds}"'
            f' playBeep="true"{transcribe}/>'
        )
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{say}{then}</Response>'
