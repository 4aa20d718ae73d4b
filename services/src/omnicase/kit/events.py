"""Event contracts: the envelope and the data model of every event type.

This module is the one place the suite's events are defined. A contract change is
a versioned change: add a field with a default (compatible, same version) or add a
new model under a new ``schema_version`` and keep reading the old one until no
producer sends it. :data:`EVENT_TYPES` maps ``(type, schema_version)`` to its model;
a consumer that meets an unknown pair dead-letters it instead of guessing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.clock import utcnow
from omnicase.kit.context import current_trace_id
from omnicase.kit.ids import uuid7
from omnicase.kit.topics import Topic


class Envelope(BaseModel):
    """What travels on every topic (ARCHITECTURE.md § Data flow)."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(description="UUIDv7; consumers deduplicate by it.")
    type: str = Field(examples=["case.created"])
    source: str = Field(description="Service that produced the event.", examples=["case-core"])
    subject: str = Field(description="Case id or message id the event is about.")
    time: datetime
    trace_id: str | None = None
    schema_version: int = 1
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)

    def payload(self) -> EventData:
        """The typed data of this event; raises :class:`UnknownEventType` if not in the contracts."""
        model = EVENT_TYPES.get((self.type, self.schema_version))
        if model is None:
            raise UnknownEventType(f"no contract for {self.type} v{self.schema_version}")
        return model.model_validate(self.data)


class UnknownEventType(ValueError):
    pass


def intake_channel_of(envelope: Envelope) -> str | None:
    """The channel whose intake ``envelope`` is addressed to, if its contract says (header ``intake-channel``)."""
    model = EVENT_TYPES.get((envelope.type, envelope.schema_version))
    return None if model is None else model.intake_channel(envelope.data)


EVENT_TYPES: dict[tuple[str, int], type[EventData]] = {}


class EventData(BaseModel):
    """Base of every event's ``data``; subclasses declare their type, version and topic."""

    model_config = ConfigDict(extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # Every contract is registered as it is defined, one model per (type, schema_version).
        super().__pydantic_init_subclass__(**kwargs)
        key = (cls.event_type, cls.schema_version)
        if key in EVENT_TYPES:
            raise ValueError(f"duplicate contract {key}")
        EVENT_TYPES[key] = cls

    @classmethod
    def intake_channel(cls, data: dict[str, Any]) -> str | None:
        """The channel of the one intake this event is for (an acknowledgement, a reply to send).

        Read from the JSON ``data`` so any envelope can carry it as a header, and each intake's
        consumer skips the others' records before decoding them. None: for every consumer.
        """
        return None

    def envelope(self, *, source: str, subject: str, event_id: uuid.UUID | None = None) -> Envelope:
        return Envelope(
            id=event_id or uuid7(),
            type=self.event_type,
            source=source,
            subject=subject,
            time=utcnow(),
            trace_id=current_trace_id(),
            schema_version=self.schema_version,
            data=self.model_dump(mode="json"),
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> Self:
        if (envelope.type, envelope.schema_version) != (cls.event_type, cls.schema_version):
            raise UnknownEventType(f"{envelope.type} v{envelope.schema_version} is not {cls.event_type}")
        return cls.model_validate(envelope.data)


# --- shared vocabulary -------------------------------------------------------


class Channel(StrEnum):
    EMAIL = "email"
    WEB = "web"
    SMS = "sms"
    MESSAGING = "messaging"
    SOCIAL = "social"
    API = "api"
    VOICE = "voice"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


class Party(BaseModel):
    """Who sent or receives a message, in whatever terms the channel knows them."""

    email: str | None = None
    name: str | None = None
    phone: str | None = None
    handle: str | None = Field(default=None, description="Channel handle, e.g. a WhatsApp id.")


class AttachmentRef(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    filename: str
    content_type: str
    size: int = Field(ge=0)
    content_id: str | None = None
    inline: bool = False


class CaseDefaults(BaseModel):
    """Defaults an intake route (mailbox, form) applies to a case it opens."""

    brand: str | None = None
    priority: Priority | None = None
    group_id: uuid.UUID | None = None
    type: str | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    language: str | None = Field(
        default=None,
        description="The language the channel states (a form's locale): taken as the case's, not detected.",
    )


class FieldChange(BaseModel):
    old: Any = None
    new: Any = None


# --- intake.messages -----------------------------------------------------------


class MessageReceived(EventData):
    """An inbound customer message, committed by an intake and waiting for case-core."""

    event_type = "intake.message_received"
    topic = Topic.INTAKE_MESSAGES

    intake_id: uuid.UUID = Field(description="The intake's id of the stored raw message (end-to-end ack key).")
    channel: Channel
    received_at: datetime
    thread_key: str = Field(description="Kafka key: sender address or conversation id.")
    sender: Party
    recipient: str | None = None
    subject: str | None = None
    text: str = ""
    html: str | None = None
    message_id: str | None = Field(default=None, description="Email Message-ID or provider message id.")
    in_reply_to: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    conversation_id: str | None = None
    attachments: list[AttachmentRef] = Field(default_factory=list)
    auto_generated: bool = Field(default=False, description="Auto-reply, bounce or bulk: never auto-respond.")
    defaults: CaseDefaults = Field(default_factory=CaseDefaults)
    metadata: dict[str, Any] = Field(default_factory=dict)


class HoldReason(StrEnum):
    """Why an intake held a message back instead of handing it on as a case."""

    NOISE = "noise"  # a bounce, bulk mail or auto-reply answering no case
    MAIL_LOOP = "mail_loop"
    SENDER_SUSPENDED = "sender_suspended"
    SPAM = "spam"


class MessageHeld(EventData):
    """A message an intake stored but held back; case-core keeps it where staff may recover it."""

    event_type = "intake.message_held"
    topic = Topic.INTAKE_MESSAGES

    message: MessageReceived = Field(description="What would have been handed on; recovery hands on exactly this.")
    reason: HoldReason
    detail: str = Field(description="The intake's own words: which rule held it and why.")


class DeliveryReported(EventData):
    """An intake reports what became of an outbound message it was asked to send."""

    event_type = "intake.delivery_reported"
    topic = Topic.INTAKE_MESSAGES

    outbound_id: uuid.UUID
    case_id: uuid.UUID
    status: Literal["sent", "failed"]
    provider_message_id: str | None = None
    error: str | None = None


class WidgetConversationUpdated(EventData):
    """intake-web added an entry of its own to a chat widget's conversation (suggested articles, the note
    that ends them), keyed by the conversation's thread key: every intake-web replica reads the key to wake
    the conversation's open streams. Nobody else needs it (case-core skips it on its type)."""

    event_type = "intake.widget_conversation_updated"
    topic = Topic.INTAKE_MESSAGES

    conversation_id: uuid.UUID
    seq: int = Field(description="The entry's place in the conversation.")


class WidgetSignalled(EventData):
    """Someone in a chat widget's conversation is typing, or has read it up to an entry (issue 23), keyed
    by the conversation's thread key: intake-web's replicas wake the conversation's open streams on the key,
    and the gateway's live stream shows it to staff on the case. Nothing is stored from it elsewhere."""

    event_type = "intake.widget_signalled"
    topic = Topic.INTAKE_MESSAGES

    conversation_id: uuid.UUID
    case_id: uuid.UUID | None = Field(description="The case the conversation opened, once case-core said so.")
    by: Literal["visitor", "agent"]
    signal: Literal["typing", "read"]
    seq: int = Field(description="read: the entry read up to; typing: the conversation's last entry.")


# --- case.events -----------------------------------------------------------------


class CaseSnapshot(BaseModel):
    """The case as other services need it (routing rules, SLA policies), after the change.

    Carried by every case event so no consumer has to read case-core's tables or
    depend on having seen every earlier event.
    """

    case_id: uuid.UUID
    number: int
    subject: str
    status: CaseStatus
    priority: Priority
    channel: Channel
    type: str | None = None
    requester_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    brand: str | None = None
    # Added without a new schema_version: optional, and earlier readers ignore it (issue 22).
    brand_id: uuid.UUID | None = Field(default=None, description="case-core's brand `brand` names, if defined.")
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    language: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = Field(ge=1, description="Increases by one with every change (optimistic concurrency).")


class CaseCreated(EventData):
    event_type = "case.created"
    topic = Topic.CASE_EVENTS

    case: CaseSnapshot
    description: str = Field(default="", description="Text of the first message (rules match keywords in it).")
    source_intake_id: uuid.UUID | None = Field(default=None, description="End-to-end ack for the intake.")
    follow_up_of: uuid.UUID | None = None
    actor: str = Field(default="system", description="user:<id>, rule:<id>, or a service name.")

    @classmethod
    def intake_channel(cls, data: dict[str, Any]) -> str | None:
        # A case opened by an intake message: the intake of the case's channel acknowledges it.
        return str(data["case"]["channel"]) if data.get("source_intake_id") else None


class CaseUpdated(EventData):
    event_type = "case.updated"
    topic = Topic.CASE_EVENTS

    case_id: uuid.UUID
    version: int
    changes: dict[str, FieldChange]
    actor: str = Field(description="user:<id>, rule:<id>, or a service name.")
    case: CaseSnapshot | None = None


class CaseMessageAdded(EventData):
    event_type = "case.message_added"
    topic = Topic.CASE_EVENTS

    case_id: uuid.UUID
    message_id: uuid.UUID
    direction: Literal["inbound", "outbound"]
    public: bool
    author: str = Field(description="user:<id> for agents, contact:<id> for customers, or a service name.")
    author_role: Literal["agent", "customer", "system"] = "customer"
    channel: Channel
    source_intake_id: uuid.UUID | None = None
    case: CaseSnapshot | None = None

    @classmethod
    def intake_channel(cls, data: dict[str, Any]) -> str | None:
        return str(data["channel"]) if data.get("source_intake_id") else None


class HeldMessageKept(EventData):
    """case-core keeps a held message (the intake's end-to-end acknowledgement; keyed by intake id)."""

    event_type = "case.held_message_kept"
    topic = Topic.CASE_EVENTS

    source_intake_id: uuid.UUID


class CaseSatisfactionRated(EventData):
    """The requester rated the support of a solved case (or changed the rating) through its survey."""

    event_type = "case.satisfaction_rated"
    topic = Topic.CASE_EVENTS

    case_id: uuid.UUID
    version: int = Field(description="The case's version after the rating.")
    survey_id: uuid.UUID = Field(description="The survey (one per solve of the case) the rating answers.")
    rating: Literal["good", "bad"]
    previous_rating: Literal["good", "bad"] | None = Field(
        default=None, description="The rating it replaces (the customer changed their mind), or null."
    )
    reason: str | None = Field(default=None, description="For a bad rating, the reason picked from the admin's list.")
    comment: str | None = None
    rated_at: datetime
    case: CaseSnapshot


class CaseSatisfactionSurveySent(EventData):
    """A satisfaction survey went out to the requester of a solved case (one per solve at most).

    Surveys sent are what a survey's response rate counts against (reporting). Key: the case id.
    """

    event_type = "case.satisfaction_survey_sent"
    topic = Topic.CASE_EVENTS

    case_id: uuid.UUID
    survey_id: uuid.UUID
    channel: Channel = Field(description="The channel the survey went out on.")
    solved_at: datetime = Field(description="The solve the survey asks about.")
    sent_at: datetime


# --- case.commands -----------------------------------------------------------------


class AssignCase(EventData):
    event_type = "case.assign"
    topic = Topic.CASE_COMMANDS

    case_id: uuid.UUID
    assignee_id: uuid.UUID | None
    group_id: uuid.UUID | None = None
    reason: str


class ChangeCase(EventData):
    """Set priority or group, add or remove tags, add an internal note, with the same rules as the API."""

    event_type = "case.change"
    topic = Topic.CASE_COMMANDS

    case_id: uuid.UUID
    priority: Priority | None = None
    group_id: uuid.UUID | None = None
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    internal_note: str | None = None
    note_author: str | None = Field(
        default=None,
        description="user:<id> the internal note is written by (a promoted swarm message); null: the reason.",
    )
    # Added in place (issue 21): a case-core older than it refuses the field, so case-core is
    # deployed before the collaboration that sends it.
    note_attachments: list[AttachmentRef] = Field(
        default_factory=list, description="Files the internal note carries (stored in the kit's blob store)."
    )
    reason: str


class RecordCaseAccess(EventData):
    """A person or group is given, or loses, read access to a case outside its assignment (a swarm's
    members); case-core records it in the case's history. Key: the case id."""

    event_type = "case.record_access"
    topic = Topic.CASE_COMMANDS

    case_id: uuid.UUID
    grantee: str = Field(description="user:<id> or group:<id>.", pattern=r"^(user|group):[0-9a-f-]{36}$")
    granted: bool = Field(description="True: read access begins; false: it ends.")
    reason: str = Field(description="Why, as history shows it, e.g. swarm:<id>.")


class SendReplyByEmail(EventData):
    """An agent's public reply on a chat's case goes out again by email: the visitor left the chat
    before reading it (intake-web decides, after the widget's delay) and gave an address. case-core
    asks intake-email for it as for an email case's reply (``outbound.message_requested``, channel
    ``email``, threaded), with the reply's own message id as its outbound id, so a repeat is sent
    once. Key: the case id."""

    event_type = "case.send_reply_by_email"
    topic = Topic.CASE_COMMANDS

    case_id: uuid.UUID
    message_id: uuid.UUID = Field(description="The reply: case-core's message id (its outbound id).")
    to: Party = Field(description="Who gets the mail: the address the visitor gave (pre-chat form, leave a message).")
    reason: str = Field(description="Why, as the logs show it, e.g. widget:<conversation id>.")


# --- sla.events -----------------------------------------------------------------------


class SlaThresholdReached(EventData):
    event_type = "sla.threshold_reached"
    topic = Topic.SLA_EVENTS

    case_id: uuid.UUID
    policy_id: uuid.UUID
    milestone: str
    level: Literal["warning", "breach"]
    due_at: datetime


# --- routing.events ---------------------------------------------------------------------

OfferOutcome = Literal["accepted", "declined", "expired", "revoked"]


class OfferCreated(EventData):
    """A case was offered to an agent (push routing); the agent accepts or declines through routing's API."""

    event_type = "offer.created"
    topic = Topic.ROUTING_EVENTS

    offer_id: uuid.UUID
    case_id: uuid.UUID
    agent_id: uuid.UUID
    group_id: uuid.UUID
    expires_at: datetime | None
    created_at: datetime


class OfferEnded(EventData):
    """A pending offer ended; ``revoked``: the agent went offline (or, for a call, became busy on another), or
    the case was closed, moved or reassigned."""

    event_type = "offer.ended"
    topic = Topic.ROUTING_EVENTS

    offer_id: uuid.UUID
    case_id: uuid.UUID
    agent_id: uuid.UUID
    group_id: uuid.UUID
    outcome: OfferOutcome
    reason: str | None = None
    ended_at: datetime


VoiceStatusName = Literal["available", "busy", "offline"]


class AgentVoiceStatusChanged(EventData):
    """An agent's voice status changed (issue 25): set by the agent or an admin (``available`` or ``offline``
    for calls), ``busy`` when they answered or placed a call (``call_id``), and after the call ``busy``
    through their wrap-up (``wrap_up_until``, no call), then back to what they last said. Key and subject: the agent's
    user id. Only an agent ``available`` for calls is offered a call's case."""

    event_type = "agent.voice_status_changed"
    topic = Topic.ROUTING_EVENTS

    agent_id: uuid.UUID
    status: VoiceStatusName
    previous: VoiceStatusName
    call_id: uuid.UUID | None = None
    wrap_up_until: datetime | None = None
    reason: str
    changed_at: datetime


# --- outbound.messages ------------------------------------------------------------------


class BrandLook(BaseModel):
    """How the customer emails of a case's brand look (case-core's brand; issue 22): its name,
    signature, logo, colour and language. The sending mailbox's own signature and logo come first."""

    slug: str
    name: str
    signature: str = ""
    logo_url: str | None = None
    primary_color: str | None = None
    locale: str | None = None


class OutboundMessageRequested(EventData):
    event_type = "outbound.message_requested"
    topic = Topic.OUTBOUND_MESSAGES

    outbound_id: uuid.UUID
    case_id: uuid.UUID
    channel: Channel
    to: list[Party]
    subject: str | None = None
    text: str
    html: str | None = None
    automatic: bool = Field(default=False, description="Auto-response: sent with Auto-Submitted.")
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    conversation_id: str | None = None
    attachments: list[AttachmentRef] = Field(default_factory=list)
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra headers for channels that have them (email): only X- names are sent, e.g. X-Omnicase-Ref.",
    )
    # Added in place (issue 22): an intake older than it refuses the field, so case-core and the
    # intakes are deployed together when it first appears.
    brand: BrandLook | None = Field(default=None, description="The case brand's look, for the message's frame.")

    @classmethod
    def intake_channel(cls, data: dict[str, Any]) -> str | None:
        return str(data["channel"])


# --- sla-engine additions -------------------------------------------------------------------


class SetCaseStatus(EventData):
    """Move a case to a status with the same rules as the API (time-based automations:
    pending for 4 business days → solved, solved for 4 days → closed)."""

    event_type = "case.set_status"
    topic = Topic.CASE_COMMANDS

    case_id: uuid.UUID
    status: CaseStatus
    reason: str


class SlaMilestoneAchieved(EventData):
    """A milestone with a target was met (``breached`` if it was met late)."""

    event_type = "sla.milestone_achieved"
    topic = Topic.SLA_EVENTS

    case_id: uuid.UUID
    policy_id: uuid.UUID
    milestone: str
    cycle: int = 1
    achieved_at: datetime
    due_at: datetime | None = None
    elapsed_seconds: float = Field(ge=0, description="Counted time (business seconds for business-hours targets).")
    breached: bool = False


class SlaClock(BaseModel):
    """One milestone with a target, as integrators see it: what is due and when."""

    milestone: str = Field(examples=["first_reply"])
    cycle: int = 1
    state: Literal["running", "paused", "achieved", "cancelled"]
    breached: bool = False
    due_at: datetime | None = Field(default=None, description="None while paused: the time left is kept.")
    warn_at: datetime | None = None
    achieved_at: datetime | None = None


class CaseClocks(BaseModel):
    """A case's milestones with targets, as both SLA clock events carry them (reporting reads them alike)."""

    case_id: uuid.UUID
    policy_id: uuid.UUID | None
    schedule_id: uuid.UUID | None = Field(
        default=None, description="The business-hours schedule of the case's policy (null: none, or calendar time)."
    )
    clocks: list[SlaClock]


class SlaClocksStarted(EventData, CaseClocks):
    """A case's SLA targets apply for the first time: its milestones have due times."""

    event_type = "sla.clocks_started"
    topic = Topic.SLA_EVENTS


class SlaMilestonesUpdated(EventData, CaseClocks):
    """A case's milestones changed after their clocks started (re-timed, paused, resumed, met,
    cancelled, breached, or no policy applying any more); ``clocks`` is the whole new set."""

    event_type = "sla.milestones_updated"
    topic = Topic.SLA_EVENTS


# --- case-core additions ----------------------------------------------------------------------


class NotificationRequested(EventData):
    """An email to staff (an agent, a group's members, an admin) about a case or the suite itself.

    Not a message on any case: it never goes to the requester, nothing threads into a
    case from it, and it sets no case timestamps. The intake that sends it (email) answers
    with :class:`NotificationReported`. Key: the case id, or the notification id without a case.
    """

    event_type = "outbound.notification_requested"
    topic = Topic.OUTBOUND_MESSAGES

    notification_id: uuid.UUID = Field(description="Deduplication key; also the sent mail's Message-ID local part.")
    reason: str = Field(description="What asked for it: trigger:<id>, webhook_disabled:<id> …")
    to: list[Party] = Field(min_length=1)
    subject: str
    text: str
    html: str | None = None
    case_id: uuid.UUID | None = None
    brand: str | None = None


class NotificationReported(EventData):
    """What became of a :class:`NotificationRequested` (sent, or failed with the reason)."""

    event_type = "intake.notification_reported"
    topic = Topic.INTAKE_MESSAGES

    notification_id: uuid.UUID
    status: Literal["sent", "failed"]
    error: str | None = None


# --- knowledge.events ---------------------------------------------------------------------------


class ArticlePublished(EventData):
    """A translation of a knowledge article was published, first or again (a new version).

    Key: the article id. ``version`` counts the published versions of this translation from 1.
    """

    event_type = "article.published"
    topic = Topic.KNOWLEDGE_EVENTS

    article_id: uuid.UUID
    locale: str
    brand: str | None
    section_id: uuid.UUID | None
    title: str
    version: int
    author_id: str
    published_at: datetime


class ArticleUnpublished(EventData):
    """A published translation went back to draft: the public no longer sees it. Key: the article id."""

    event_type = "article.unpublished"
    topic = Topic.KNOWLEDGE_EVENTS

    article_id: uuid.UUID
    locale: str
    author_id: str
    unpublished_at: datetime


class ArticleArchived(EventData):
    """An article and all its translations were archived: nobody but writers sees it. Key: the article id."""

    event_type = "article.archived"
    topic = Topic.KNOWLEDGE_EVENTS

    article_id: uuid.UUID
    author_id: str
    archived_at: datetime


class ArticleSuggested(EventData):
    """A published article was suggested to a customer for their case (an auto-response's or a chat
    widget's link, answered "did this answer your question?" later: :class:`ArticleAnswered`).

    Key: the article id. One event per article suggested; ``suggestion_id`` names the suggestion
    (the link) and ties it to its answer. Deflection per article, brand or day is counted from these.
    """

    event_type = "article.suggested"
    topic = Topic.KNOWLEDGE_EVENTS

    suggestion_id: uuid.UUID
    article_id: uuid.UUID
    case_id: uuid.UUID
    locale: str
    brand: str | None
    score: float
    suggested_at: datetime


class ArticleAnswered(EventData):
    """A customer answered "did this answer your question?" on a suggested article: ``solved`` (Yes:
    knowledge asked case-core to solve the case with the reason ``answered by article <id>``) or
    ``not_solved`` (No: the case stays open). Each suggestion is answered once.

    Key: the article id; ``suggestion_id`` is the :class:`ArticleSuggested` it answers.
    """

    event_type = "article.answered"
    topic = Topic.KNOWLEDGE_EVENTS

    suggestion_id: uuid.UUID
    article_id: uuid.UUID
    case_id: uuid.UUID
    locale: str
    outcome: Literal["solved", "not_solved"]
    opened_at: datetime
    answered_at: datetime


# --- swarm.events ---------------------------------------------------------------------------------

SwarmStatus = Literal["open", "resolved", "abandoned"]


class SwarmStarted(EventData):
    """Someone started a swarm of experts around a case to answer a question. Key: the case id."""

    event_type = "swarm.started"
    topic = Topic.SWARM_EVENTS

    swarm_id: uuid.UUID
    case_id: uuid.UUID
    started_by: str = Field(description="user:<id> of the case's assignee or the lead who started it.")
    question: str
    urgency: Literal["low", "normal", "high", "urgent"]
    started_at: datetime


class SwarmMemberJoined(EventData):
    """An agent or a group joined a swarm (they may read its case while it is open). Key: the case id."""

    event_type = "swarm.member_joined"
    topic = Topic.SWARM_EVENTS

    swarm_id: uuid.UUID
    case_id: uuid.UUID
    member: str = Field(description="user:<id> or group:<id>.")
    added_by: str
    joined_at: datetime


class SwarmMessagePosted(EventData):
    """A message in a swarm's internal thread (never shown to the customer). Key: the case id."""

    event_type = "swarm.message_posted"
    topic = Topic.SWARM_EVENTS

    swarm_id: uuid.UUID
    case_id: uuid.UUID
    message_id: uuid.UUID
    author: str = Field(description="user:<id>, or slack:<user id> for a Slack user Omnicase does not know.")
    mentions: list[str] = Field(default_factory=list, description="user:<id> of each agent @mentioned.")
    source: Literal["omnicase", "slack"] = "omnicase"
    posted_at: datetime


class SwarmResolved(EventData):
    """A swarm ended, resolved (its question answered) or abandoned, with its outcome. Key: the case id.

    With the question and the messages promoted to the case, it is what knowledge needs to draft an
    article from the swarm (issue 21's knowledge capture), linked to the case and the swarm.
    """

    event_type = "swarm.resolved"
    topic = Topic.SWARM_EVENTS

    swarm_id: uuid.UUID
    case_id: uuid.UUID
    status: Literal["resolved", "abandoned"]
    question: str = ""
    outcome: str
    promoted: list[str] = Field(default_factory=list, description="Texts of the messages promoted to the case.")
    ended_by: str
    started_at: datetime
    ended_at: datetime


# --- voice.events ---------------------------------------------------------------------------------
# A phone call's life, as intake-web's voice channels see it through the telephony provider's
# webhooks (issue 25). Key and subject: the call id (intake-web's call record), so a call's events
# stay in order. ``case_id`` is the case the call is logged on once case-core has confirmed it (the
# call's first webhook opens or joins the case asynchronously, so the started event may not know it).

CallDirection = Literal["inbound", "outbound"]
CallEndStatus = Literal["completed", "busy", "failed", "no-answer", "canceled"]


def call_agent(who: str | None) -> uuid.UUID | None:
    """The agent's user id a call event names as ``user:<id>`` (``answered_by``, ``placed_by``); None for
    anything else (the customer answering an outbound call, a malformed value)."""
    kind, _, value = (who or "").partition(":")
    if kind != "user":
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class CallStarted(EventData):
    """A call reached one of a voice channel's numbers (inbound), or was placed from one (outbound)."""

    event_type = "call.started"
    topic = Topic.VOICE_EVENTS

    call_id: uuid.UUID
    call_sid: str = Field(description="The provider's id of the call.")
    channel_id: uuid.UUID
    direction: CallDirection
    from_number: str
    to_number: str
    brand: str | None = None
    case_id: uuid.UUID | None = None
    started_at: datetime
    placed_by: str | None = Field(
        default=None, description="user:<id> of the agent who placed an outbound call (click-to-call); null inbound."
    )


class CallAnswered(EventData):
    """Somebody answered the call: an agent an inbound call was offered to, or the customer an outbound
    call rang. ``wait_seconds`` is from the call's start to the answer."""

    event_type = "call.answered"
    topic = Topic.VOICE_EVENTS

    call_id: uuid.UUID
    channel_id: uuid.UUID
    direction: CallDirection
    answered_by: str | None = Field(
        default=None, description="user:<id> of the agent who took the call; null: the customer (outbound)."
    )
    case_id: uuid.UUID | None = None
    answered_at: datetime
    wait_seconds: int = Field(ge=0)


class CallEnded(EventData):
    """The call is over, with the provider's final status (``completed`` for a call that was connected,
    to an agent or to the voicemail; ``no-answer``, ``busy``, ``failed``, ``canceled`` otherwise)."""

    event_type = "call.ended"
    topic = Topic.VOICE_EVENTS

    call_id: uuid.UUID
    channel_id: uuid.UUID
    direction: CallDirection
    status: CallEndStatus
    duration_seconds: int | None = Field(default=None, ge=0, description="As the provider counts it.")
    case_id: uuid.UUID | None = None
    started_at: datetime
    ended_at: datetime


class CallVoicemailRecorded(EventData):
    """A caller left a voicemail: work for later (a callback)."""

    event_type = "call.voicemail_recorded"
    topic = Topic.VOICE_EVENTS

    call_id: uuid.UUID
    channel_id: uuid.UUID
    from_number: str
    recording_url: str
    duration_seconds: int | None = Field(default=None, ge=0)
    case_id: uuid.UUID | None = None
    recorded_at: datetime


class CallCallbackRequested(EventData):
    """The caller asked to be called back (a voicemail, or 1 pressed on hold): the call's case is callback work."""

    event_type = "call.callback_requested"
    topic = Topic.VOICE_EVENTS

    call_id: uuid.UUID
    channel_id: uuid.UUID
    via: Literal["voicemail", "keypress"]
    case_id: uuid.UUID | None = None
    requested_at: datetime


class CallVoicemailTranscribed(EventData):
    """The provider's transcript of a voicemail arrived (it comes after the recording, often minutes later)."""

    event_type = "call.voicemail_transcribed"
    topic = Topic.VOICE_EVENTS

    call_id: uuid.UUID
    channel_id: uuid.UUID
    transcription: str
    case_id: uuid.UUID | None = None
    transcribed_at: datetime
