"""One reader of the streamed topics per gateway replica, fanning each event out to its clients.

The replica reads every partition itself (no consumer group, nothing committed): a
client's stream may move to any replica and resume from its ``Last-Event-ID``, which
names offsets, not anything one replica remembers. At start the reader goes back
``history_seconds`` in every partition so a replica that just started can still resume
clients; the history it keeps is bounded in time and in count. Clients are queues of
bounded size: one slow client is ended (it resumes from its last id), never waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from omnicase.gateway.stream.events import STREAMED, CaseFacts, StreamEvent, stream_event
from omnicase.gateway.stream.positions import Position, Positions, encode
from omnicase.kit.bus.fetch_hold import FetchHold
from omnicase.kit.bus.producer import EVENT_TYPE_HEADER, record_header
from omnicase.kit.bus.tail import open_tail, partitions_of
from omnicase.kit.events import Envelope
from omnicase.kit.topics import physical

logger = logging.getLogger(__name__)

# Case facts kept for events that carry no snapshot (SLA, offers), most recent cases first.
FACTS_KEPT = 200_000


@dataclass(eq=False)
class Subscriber:
    """One client's stream: what it wants and where it stands.

    ``queue`` holds events, then ``None`` once the stream is over: the feed stopped, or
    the client fell ``limit`` events behind (it resumes from its last id instead of
    holding the feed up). Its size is ``limit`` + 1, so the end always fits.
    """

    accepts: Callable[[StreamEvent], bool]
    # Next offset to deliver per partition; events below it were delivered or predate the stream.
    floor: Positions
    limit: int
    queue: asyncio.Queue[StreamEvent | None] = field(init=False)
    lagging: bool = False
    ended: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.limit + 1)

    def offer(self, event: StreamEvent) -> None:
        if self.ended or event.offset < self.floor.get((event.topic, event.partition), 0):
            return
        if not self.accepts(event):
            return
        if self.queue.qsize() >= self.limit:
            self.lagging = True
            self.end()
            return
        self.queue.put_nowait(event)

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(None)


@dataclass(frozen=True)
class Replay:
    """What a resuming client missed; or, when history no longer reaches back to its id,
    the id it starts again from (it must reload what it shows)."""

    events: list[StreamEvent]
    restart_at: str | None = None


class StreamFeed:
    def __init__(
        self,
        bootstrap_servers: str,
        topic_prefix: str,
        topics: Sequence[str],
        *,
        history_seconds: float,
        history_max_events: int,
        queue_size: int,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topics = [physical(topic, topic_prefix) for topic in topics]
        self.history_seconds = history_seconds
        self.history_max_events = history_max_events
        self.queue_size = queue_size
        self._consumer: AIOKafkaConsumer | None = None
        # An offer rings a console through this fetch: the short hold while events flow.
        self._hold = FetchHold()
        self._task: asyncio.Task[None] | None = None
        self._history: deque[tuple[float, StreamEvent]] = deque()
        # Per partition: the lowest offset history still answers for, the next offset read,
        # and the end offsets at start (a client without an id hears only what comes after).
        self._floor: Positions = {}
        self._read: Positions = {}
        self._live_from: Positions = {}
        self._facts: OrderedDict[uuid.UUID, CaseFacts] = OrderedDict()
        self._subscribers: set[Subscriber] = set()
        self.ready = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start reading in the background: the gateway serves its other routes while the broker is away."""
        self._task = asyncio.create_task(self._run(), name="gateway-stream-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
        for subscriber in list(self._subscribers):
            subscriber.end()

    async def _assign(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, Position]:
        """Every partition of the streamed topics, each read from ``history_seconds`` ago."""
        places: dict[TopicPartition, Position] = {
            tp: (self.topics.index(tp.topic), tp.partition) for tp in await partitions_of(consumer, self.topics)
        }
        consumer.assign(list(places))
        ends = await consumer.end_offsets(list(places))
        since = int((time.time() - self.history_seconds) * 1000)
        starts = await consumer.offsets_for_times(dict.fromkeys(places, since))
        for tp, place in places.items():
            found = starts.get(tp)
            # Nothing that recent: start at the end (some brokers answer timestamp -1 instead of None).
            start = found.offset if found is not None and found.timestamp >= 0 else ends[tp]
            consumer.seek(tp, start)
            self._floor[place] = self._read[place] = start
            self._live_from[place] = ends[tp]
        return places

    async def _connect(self) -> AIOKafkaConsumer:
        self._consumer = await open_tail(self.bootstrap_servers, "gateway-stream")
        return self._consumer

    async def _run(self) -> None:
        while True:
            consumer = await self._connect()
            try:
                places = await self._assign(consumer)
                break
            except KafkaError as error:
                logger.warning("stream feed: partitions not assigned; retrying", extra={"error": str(error)})
                await consumer.stop()
                await asyncio.sleep(2.0)
        self.ready.set()
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
                self._hold.after_fetch(consumer, bool(batches))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("stream feed: fetch failed; retrying")
                await asyncio.sleep(1.0)
                continue
            now = time.monotonic()
            for tp, records in batches.items():
                topic, partition = places[tp]
                for record in records:
                    self._take(record, topic, partition, now)
            self._evict(now)

    def _take(self, record: ConsumerRecord[bytes, bytes], topic: int, partition: int, now: float) -> None:
        self._read[(topic, partition)] = record.offset + 1
        if record.value is None:
            return
        event_type = record_header(record, EVENT_TYPE_HEADER)
        if event_type is not None and event_type not in STREAMED:
            return  # a type no stream carries: passed over before decoding
        try:
            envelope = Envelope.from_bytes(record.value)
        except ValidationError:
            logger.warning("stream feed: skipped a record that is no envelope", extra={"offset": record.offset})
            return
        case_id = _case_id(envelope)
        known = self._facts.get(case_id) if case_id else None
        event = stream_event(envelope, topic, partition, record.offset, known, read=dict(self._read))
        if event is None:
            return
        if event.case_id is not None and event.facts is not None:
            self._facts[event.case_id] = event.facts
            self._facts.move_to_end(event.case_id)
            if len(self._facts) > FACTS_KEPT:
                self._facts.popitem(last=False)
        self._history.append((now, event))
        for subscriber in self._subscribers:
            subscriber.offer(event)

    def _evict(self, now: float) -> None:
        history = self._history
        while history and (len(history) > self.history_max_events or now - history[0][0] > self.history_seconds):
            _, old = history.popleft()
            self._floor[(old.topic, old.partition)] = old.offset + 1

    # -- clients ----------------------------------------------------------------------

    def subscribe(self, accepts: Callable[[StreamEvent], bool], resume: Positions | None) -> tuple[Subscriber, Replay]:
        """A new client stream, with what it missed since ``resume`` (None: from now on)."""
        now = {place: max(self._read[place], self._live_from[place]) for place in self._read}
        if resume is None:
            floor, replay = now, Replay([])
        elif any(offset < self._floor.get(place, 0) for place, offset in resume.items()):
            floor, replay = now, Replay([], restart_at=encode(now))
        else:
            floor = {place: resume.get(place, self._floor[place]) for place in self._read}
            replay = Replay([event for event in self._after(floor) if accepts(event)])
            for event in replay.events:
                floor[(event.topic, event.partition)] = event.offset + 1
        subscriber = Subscriber(accepts, floor, self.queue_size)
        self._subscribers.add(subscriber)
        return subscriber, replay

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def _after(self, floor: Positions) -> Iterator[StreamEvent]:
        for _, event in self._history:
            if event.offset >= floor.get((event.topic, event.partition), 0):
                yield event


def _case_id(envelope: Envelope) -> uuid.UUID | None:
    try:
        return uuid.UUID(envelope.subject)
    except ValueError:
        return None
