"""What the stream carries: case, SLA, offer, voice status, swarm, chat and call events, and what each kind of
caller may see.

Staff and integrations (``cases:read``) see every case and SLA event whole, as it travels
on the topic; an agent sees the offers made to them and their own voice status (admins and
integrations with ``routing:read`` see every offer and every agent's); staff see swarms' events (integrations with
``collaboration:read``), and who is typing or has read in a case's chat. A customer sees
only their own cases (or their organization's, where they may): a case opened or changed in
status or subject, and public messages on it, each reduced to what the customer's own API
answers show; never internal notes, SLA events, swarms, chat signals or anything about
another customer's case. Phone calls (intake-web's voice channels) are the desk's too: staff
and ``cases:read`` hear every call start, answer, end and voicemail (the call log the case shows),
a customer none.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from omnicase.gateway.stream.positions import Positions, encode
from omnicase.kit.events import Envelope

CASE_TYPES = ("case.created", "case.updated", "case.message_added", "case.satisfaction_rated")
SLA_TYPES = ("sla.clocks_started", "sla.milestones_updated", "sla.threshold_reached", "sla.milestone_achieved")
OFFER_TYPES = ("offer.created", "offer.ended")
# An agent's own events on routing.events (their voice status): theirs, as their offers are.
AGENT_TYPES = (*OFFER_TYPES, "agent.voice_status_changed")
# Swarms around a case (collaboration): staff only, like the case's internal notes.
SWARM_TYPES = ("swarm.started", "swarm.member_joined", "swarm.message_posted", "swarm.resolved")
# A case's chat: the visitor or an agent typing, or having read (intake-web, on intake.messages; staff only).
CHAT_TYPES = ("intake.widget_signalled",)
# Phone calls (intake-web's voice channels, on voice.events): staff and cases:read, never a customer.
CALL_TYPES = (
    "call.started",
    "call.answered",
    "call.ended",
    "call.voicemail_recorded",
    "call.voicemail_transcribed",
    "call.callback_requested",
)
STREAMED = frozenset(CASE_TYPES + SLA_TYPES + AGENT_TYPES + SWARM_TYPES + CHAT_TYPES + CALL_TYPES)
# A customer hears of these changes to their case; the rest is the desk's business.
_CUSTOMER_FIELDS = frozenset({"status", "subject"})


@dataclass(frozen=True)
class CaseFacts:
    """Who a case concerns, as its latest event said."""

    requester_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    group_id: uuid.UUID | None
    assignee_id: uuid.UUID | None


@dataclass(frozen=True)
class StreamEvent:
    topic: int
    partition: int
    offset: int
    read: Positions = field(repr=False)  # the next offset per partition once this event is read
    type: str
    case_id: uuid.UUID | None
    facts: CaseFacts | None
    group_id: uuid.UUID | None
    offered_to: uuid.UUID | None  # the agent an offer or voice status event is about
    staff_data: str  # JSON, serialised once for every client
    customer_data: str | None  # None: no customer ever sees it

    @cached_property
    def position(self) -> str:
        """The event's id: where a client that received it stands (encoded once, when first sent)."""
        return encode(self.read)


def facts_of(snapshot: dict[str, Any] | None) -> CaseFacts | None:
    if not snapshot:
        return None
    return CaseFacts(
        _uuid(snapshot.get("requester_id")),
        _uuid(snapshot.get("organization_id")),
        _uuid(snapshot.get("group_id")),
        _uuid(snapshot.get("assignee_id")),
    )


def stream_event(
    envelope: Envelope, topic: int, partition: int, offset: int, known: CaseFacts | None, *, read: Positions
) -> StreamEvent | None:
    """The stream's view of one record, or None for a type it does not carry."""
    if envelope.type not in STREAMED:
        return None
    data = envelope.data
    snapshot = data.get("case") if isinstance(data.get("case"), dict) else None
    case_id = _uuid(data.get("case_id")) or _uuid((snapshot or {}).get("case_id"))
    facts = facts_of(snapshot) or known
    return StreamEvent(
        topic=topic,
        partition=partition,
        offset=offset,
        read=read,
        type=envelope.type,
        case_id=case_id,
        facts=facts,
        group_id=_uuid(data.get("group_id")) or (facts.group_id if facts else None),
        offered_to=_uuid(data.get("agent_id")) if envelope.type in AGENT_TYPES else None,
        staff_data=json.dumps(
            {"type": envelope.type, "event_id": str(envelope.id), "time": envelope.time.isoformat(), "data": data},
            separators=(",", ":"),
        ),
        customer_data=_for_customer(envelope, snapshot),
    )


def _for_customer(envelope: Envelope, snapshot: dict[str, Any] | None) -> str | None:
    data = envelope.data
    if snapshot is None:
        return None
    case = {key: snapshot.get(key) for key in ("case_id", "number", "subject", "status", "updated_at")}
    if envelope.type == "case.created":
        shown: dict[str, Any] = {"case": case}
    elif envelope.type == "case.updated" and _CUSTOMER_FIELDS & set(data.get("changes") or {}):
        shown = {"case": case, "changed": sorted(_CUSTOMER_FIELDS & set(data["changes"]))}
    elif envelope.type == "case.message_added" and data.get("public") is True:
        message = {key: data.get(key) for key in ("message_id", "direction", "author_role", "channel")}
        shown = {"case": case, "message": message}
    else:
        return None
    return json.dumps(
        {"type": envelope.type, "event_id": str(envelope.id), "time": envelope.time.isoformat(), "data": shown},
        separators=(",", ":"),
    )


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
