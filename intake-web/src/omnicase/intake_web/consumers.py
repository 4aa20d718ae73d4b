"""intake-web's one consumer: case events (acknowledgements, held messages kept) and outbound messages (delivery)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.definition import parse_thread_key
from omnicase.intake_web.channels.outbound import OUR_CHANNELS, OutboundRequests
from omnicase.intake_web.channels.schemas import ChannelKind
from omnicase.intake_web.messages.acks import Acknowledgements
from omnicase.intake_web.models import outbox as outbox_table
from omnicase.intake_web.voice.callbacks import tag_confirmed_callbacks
from omnicase.intake_web.widget.hub import ConversationHub
from omnicase.intake_web.widget.repository import WidgetRepository
from omnicase.intake_web.widget.service import deliver_reply
from omnicase.kit.bus.batch import Batch, event_types
from omnicase.kit.events import CaseCreated, CaseMessageAdded, Channel, HeldMessageKept, OutboundMessageRequested
from omnicase.kit.outbox import Outbox

GROUP = "intake-web"
ACCEPTS = event_types(CaseCreated, CaseMessageAdded, HeldMessageKept, OutboundMessageRequested)
# Web forms, the messaging channels and voice calls: acknowledgements and replies for email are
# intake-email's (a reply on a voice case is no delivery of ours: OutboundRequests leaves it).
INTAKE_CHANNELS = frozenset(channel.value for channel in OUR_CHANNELS | {Channel.WEB, Channel.VOICE})


class IntakeWebConsumer:
    def __init__(self, hub: ConversationHub) -> None:
        outbox = Outbox(outbox_table)
        self.outbox = outbox
        self.hub = hub
        self.acks = Acknowledgements()
        self.outbound = OutboundRequests(outbox)

    async def handle(self, session: AsyncSession, batch: Batch) -> None:
        confirmations: list[CaseCreated | CaseMessageAdded | HeldMessageKept] = []
        for received in batch:
            match received.data:
                case CaseCreated() | CaseMessageAdded() | HeldMessageKept() as confirmation:
                    confirmations.append(confirmation)
                case OutboundMessageRequested() as request:
                    with received.traced():
                        widget = parse_thread_key(request.conversation_id)
                        if widget is not None and widget[0] is ChannelKind.WIDGET and request.channel in OUR_CHANNELS:
                            # The chat widget's replies are delivered here and now: into its transcript.
                            await deliver_reply(session, self.outbox, self.hub, request, widget[1], widget[2])
                        else:
                            await self.outbound.requested(session, request)
        await self.acks.acknowledge(session, confirmations)
        # A voice call's callback asked for before case-core confirmed its case: the case is known now.
        await tag_confirmed_callbacks(
            session, self.outbox, [event for event in confirmations if not isinstance(event, HeldMessageKept)]
        )
        # A chat opens a messaging case: its widget conversation learns the case (answers first wait for it).
        opened = [
            (event.source_intake_id, event.case.case_id)
            for event in confirmations
            if isinstance(event, CaseCreated) and event.case.channel is Channel.MESSAGING and event.source_intake_id
        ]
        if opened:
            await WidgetRepository(session).note_cases(opened)
