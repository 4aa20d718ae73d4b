"""The consumer loop every service uses.

One iteration, per fetch (every partition the fetch returned; the steps run in this
order, commit last):

1. skip the records whose ``event-type`` header names a type the binding does not
   accept, or whose ``intake-channel`` header names a channel the binding does not
   serve, without decoding them (no transaction, no inbox claim); a handler that can
   say it has nothing to do right now (``wants``, asked on statements run alone:
   no webhook subscribed, say) has the whole fetch skipped the same way;
2. decode the rest once into typed :class:`~omnicase.kit.bus.batch.Received`
   events; one that is not a valid envelope of a known contract is poison at once
   and goes to the dead-letter topic;
3. open **one** database transaction for the batch, claim its event ids in the
   inbox in one statement (``ON CONFLICT DO NOTHING RETURNING``), hand the handler
   the new ones only (per partition in offset order), commit. With
   ``partitions_at_once`` above one, the fetch's partitions are dealt whole into that
   many transactions, run at the same time (as consumers in several processes would
   run them): a message then waits for its own share of the fetch, not all of it;
4. note every partition's offset ``last + 1``, only after that transaction committed,
   and commit the noted offsets in one call at most every ``commit_interval_ms``, when
   the consumer falls idle, before its partitions are revoked and when it stops. A crash
   in between delivers those events again, and the inbox drops them: a round trip to the
   broker per interval rather than per batch, which at a trickle is per event.

If the transaction fails it is retried with exponential backoff. Database and
network trouble (the database restarting) is retried without limit: it is not the
message's fault and dead-lettering would throw good messages away. Any other error
is retried ``max_attempts`` times, then the batch is split and each message retried
on its own, so only the message that really fails goes to ``<topic>.dlq``, with
headers saying where it came from and why. If more than ``dlq_flood_limit`` messages
are dead-lettered within ``dlq_flood_window`` seconds the consumer stops (and the
service reports not ready) rather than dead-lettering a whole topic behind a bug.

A rebalance listener waits for the in-flight batch before partitions are revoked,
so a partition changes hands only between batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections import deque
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from omnicase.kit.backoff import JITTER
from omnicase.kit.bus.batch import BatchHandler, Received, WantsEvents
from omnicase.kit.bus.fetch_hold import FetchHold, held_ms
from omnicase.kit.bus.producer import (
    EVENT_TYPE_HEADER,
    INTAKE_CHANNEL_HEADER,
    EventProducer,
    Headers,
    record_header,
)
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database, database_unavailable
from omnicase.kit.events import Envelope, UnknownEventType
from omnicase.kit.inbox import Inbox
from omnicase.kit.metrics import (
    CONSUMER_HANDLER_SECONDS,
    CONSUMER_LAG,
    CONSUMER_MESSAGES,
    CONSUMER_RETRIES,
)
from omnicase.kit.topics import dlq, physical

logger = logging.getLogger(__name__)


class ConsumerStopped(RuntimeError):
    """The consumer gave up (dead-letter flood); the service must be looked at."""


@dataclass(frozen=True)
class ConsumerConfig:
    """What one consumer reads and how it treats failure."""

    group: str
    topics: Sequence[str]
    # ``event-type`` header values the handler wants (:func:`~omnicase.kit.bus.batch.event_types`);
    # empty: every type. Others are skipped before decoding.
    accepts: frozenset[str] = frozenset()
    # An intake's channels: records addressed to another channel's intake (their
    # ``intake-channel`` header) are skipped before decoding. Empty: every record.
    intake_channels: frozenset[str] = frozenset()
    max_records: int = 200
    max_attempts: int = 3
    backoff_initial: float = 0.2
    backoff_max: float = 10.0
    dlq_flood_limit: int = 20
    dlq_flood_window: float = 60.0
    poll_timeout_ms: int = 200
    # How long the broker may hold a fetch while records flow, once none came for
    # ``quiet_after_seconds``, and once none came for ``idle_after_seconds``
    # (:mod:`omnicase.kit.bus.fetch_hold`: each hop of a case's path pays up to half the wait).
    # A consumer off that path takes ``OFF_THE_CASE_PATH_FETCH_WAIT_MS`` here, which the
    # longer waits never shorten.
    fetch_max_wait_ms: int = 20
    quiet_fetch_max_wait_ms: int = 50
    quiet_after_seconds: float = 2.0
    idle_fetch_max_wait_ms: int = 250
    idle_after_seconds: float = 30.0
    # How long an applied batch's offsets may wait to be committed with later ones.
    commit_interval_ms: int = 1_000
    # How many transactions apply one fetch, each taking whole partitions (so a key's order
    # holds): a batch's round trips are sequential, and a message waits for its whole batch,
    # so splitting it shortens the wait. Consumers in several processes already run their
    # partitions' transactions at the same time; this does the same within one.
    partitions_at_once: int = 1
    # Services take these from their settings (consumer_session_timeout_ms …).
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000


# For consumers whose events nobody waits on within a second (webhooks, outgoing mail, the
# intakes' acknowledgements): a broker that holds no fetch open until data arrives (Tansu
# answers within half the wait, data or not) is asked a tenth as often while they are idle.
OFF_THE_CASE_PATH_FETCH_WAIT_MS = 500


RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


def is_transient(error: BaseException) -> bool:
    """Failures of the infrastructure rather than of the message."""
    if isinstance(error, OperationalError | InterfaceError | ConnectionError | TimeoutError | OSError):
        return True
    # A server shutting down or in crash recovery ("the database system is starting up", SQLSTATE
    # class 57) is no fault of the message either: dead-lettering would lose it.
    if database_unavailable(error):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    # Deadlocks and serialization failures are lost races: the same batch succeeds when tried again.
    if isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(error, KafkaError) and bool(getattr(error, "retriable", False))


@dataclass
class _Decoded:
    record: ConsumerRecord[bytes, bytes]
    received: Received[Any]

    @property
    def envelope(self) -> Envelope:
        return self.received.envelope


def _spread(partitions: list[list[_Decoded]], transactions: int) -> list[list[_Decoded]]:
    """Whole partitions dealt into at most ``transactions`` groups of about equal size, largest first."""
    groups: list[list[_Decoded]] = [[] for _ in range(min(max(1, transactions), len(partitions)))]
    for items in sorted(partitions, key=len, reverse=True):
        min(groups, key=len).extend(items)
    return groups


class _DrainBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Wait for the batch in flight (its DB commit) to finish, then hand over its offsets.
        async with self.consumer.processing:
            await self.consumer.commit_noted()
            logger.info("partitions revoked", extra={"group": self.consumer.config.group, "count": len(revoked)})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        logger.info("partitions assigned", extra={"group": self.consumer.config.group, "count": len(assigned)})


@dataclass(eq=False)
class EventConsumer:
    config: ConsumerConfig
    handler: BatchHandler
    _: KW_ONLY
    wants: WantsEvents | None = None
    database: Database
    inbox: Inbox
    producer: EventProducer
    bootstrap_servers: str
    topic_prefix: str = ""
    failure: BaseException | None = field(default=None, init=False)
    processing: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _dead_lettered: deque[float] = field(default_factory=deque, init=False)
    _noted: dict[TopicPartition, int] = field(default_factory=dict, init=False)
    _last_commit: float = field(default=0.0, init=False)
    _hold: FetchHold = field(init=False)

    def __post_init__(self) -> None:
        config = self.config
        self._hold = FetchHold(
            config.fetch_max_wait_ms,
            config.quiet_fetch_max_wait_ms,
            config.quiet_after_seconds,
            config.idle_fetch_max_wait_ms,
            config.idle_after_seconds,
        )

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=physical(self.config.group, self.topic_prefix),
            client_id=self.config.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=self.config.session_timeout_ms,
            heartbeat_interval_ms=self.config.heartbeat_interval_ms,
            fetch_max_wait_ms=self.config.fetch_max_wait_ms,
        )
        await self._consumer.start()
        self._consumer.subscribe(
            [physical(topic, self.topic_prefix) for topic in self.config.topics],
            listener=_DrainBeforeRevoke(self),
        )
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.config.group}")

    async def stop(self, grace: float = 10.0) -> None:
        """Finish the batch in flight, commit it, and leave the group.

        A batch still failing after ``grace`` seconds is abandoned uncommitted; it is
        delivered again to whoever owns the partition next.
        """
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                # Bounded: aiokafka's getmany can swallow a cancellation (seen around a broker
                # restart) and wait on; a stop must still end.
                await asyncio.wait({self._task}, timeout=grace)
            except (asyncio.CancelledError, Exception):
                pass
        if self._consumer is not None:
            # Not committed (the broker gone, say): the next owner gets them again and its inbox drops them.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.commit_noted(), grace)
            await self._consumer.stop()

    @property
    def healthy(self) -> bool:
        return self.failure is None and self._task is not None and not self._task.done()

    # -- the loop ----------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        try:
            while not self._stopping.is_set():
                fetched = await consumer.getmany(
                    timeout_ms=self.config.poll_timeout_ms, max_records=self.config.max_records
                )
                if self._stopping.is_set():
                    continue
                self._hold.after_fetch(consumer, bool(fetched))
                async with self.processing:
                    if fetched:
                        await self._process_batch(fetched)
                        self._noted.update(
                            {partition: records[-1].offset + 1 for partition, records in fetched.items()}
                        )
                    if not fetched or time.monotonic() - self._last_commit >= self.config.commit_interval_ms / 1000:
                        await self.commit_noted()
                for partition, records in fetched.items():
                    self._record_lag(partition, records[-1].offset + 1)
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            self.failure = error
            logger.exception("consumer stopped", extra={"group": self.config.group})
            raise

    @property
    def fetch_wait_ms(self) -> int | None:
        """How long the broker may hold this consumer's next fetch (None before start)."""
        return held_ms(self._consumer)

    async def commit_noted(self) -> None:
        """Commit the offsets of every batch applied since the last commit."""
        offsets, self._noted = self._noted, {}
        self._last_commit = time.monotonic()
        if not offsets:
            return
        assert self._consumer is not None
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError:
            # A partition moved during a rebalance; the new owner starts from the
            # last committed offset and the inbox drops what we already applied.
            logger.warning("offset commit lost to a rebalance", extra={"partitions": sorted(map(str, offsets))})

    def _record_lag(self, partition: TopicPartition, next_offset: int) -> None:
        assert self._consumer is not None
        highwater = self._consumer.highwater(partition)
        if highwater is not None:
            CONSUMER_LAG.labels(self.config.group, partition.topic, str(partition.partition)).set(
                max(0, highwater - next_offset)
            )

    # -- one batch ---------------------------------------------------------------------

    async def _process_batch(self, fetched: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        if not await self._handler_wants_events():
            for partition, records in fetched.items():
                CONSUMER_MESSAGES.labels(self.config.group, partition.topic, "skipped").inc(len(records))
            return
        decoded: list[list[_Decoded]] = []
        for partition, records in fetched.items():
            decoded.append([])
            skipped = 0
            for record in records:
                if self._passed_over(record):
                    skipped += 1
                    continue
                try:
                    envelope = Envelope.from_bytes(record.value or b"")
                    data = envelope.payload()  # unknown type/version or bad data: poison now, not later
                except (ValidationError, UnknownEventType, ValueError) as error:
                    await self._dead_letter(record, error, attempts=0)
                    continue
                decoded[-1].append(_Decoded(record, Received(envelope, data)))
            if skipped:
                CONSUMER_MESSAGES.labels(self.config.group, partition.topic, "skipped").inc(skipped)
        groups = _spread([items for items in decoded if items], self.config.partitions_at_once)
        if not groups:
            return
        started = time.perf_counter()
        try:
            if len(groups) == 1:
                await self._apply_with_retries(groups[0], isolate_on_failure=len(groups[0]) > 1)
            else:
                # A failure (the consumer stopping) cancels the others: no offset is noted, so the
                # whole fetch comes again and the inbox drops what a finished transaction applied.
                try:
                    async with asyncio.TaskGroup() as running:
                        for group in groups:
                            running.create_task(self._apply_with_retries(group, isolate_on_failure=len(group) > 1))
                except BaseExceptionGroup as failed:
                    raise failed.exceptions[0] from None
        finally:
            CONSUMER_HANDLER_SECONDS.labels(self.config.group, groups[0][0].record.topic).observe(
                time.perf_counter() - started
            )

    def _passed_over(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """A record of a type this consumer does not accept, or addressed to another channel's intake."""
        accepts, channels = self.config.accepts, self.config.intake_channels
        event_type = record_header(record, EVENT_TYPE_HEADER) if accepts else None
        if event_type is not None and event_type not in accepts:
            return True
        return (
            bool(channels)
            and (channel := record_header(record, INTAKE_CHANNEL_HEADER)) is not None
            and channel not in channels
        )

    async def _handler_wants_events(self) -> bool:
        if self.wants is None:
            return True
        try:
            async with self.database.statements_alone() as session:
                return await self.wants(session)
        except Exception as error:
            # Handled as usual then: the batch's own transaction retries (or dead-letters) what fails.
            logger.debug("wants check failed", extra={"group": self.config.group, "error": repr(error)})
            return True

    async def _apply_with_retries(self, items: list[_Decoded], *, isolate_on_failure: bool) -> None:
        attempt = 0
        delay = self.config.backoff_initial
        while True:
            attempt += 1
            try:
                await self._apply(items)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                CONSUMER_RETRIES.labels(self.config.group, items[0].record.topic).inc()
                if self._stopping.is_set():
                    raise  # shutting down: leave the batch uncommitted for redelivery
                if not is_transient(error) and attempt >= self.config.max_attempts:
                    if isolate_on_failure:
                        for item in items:
                            await self._apply_with_retries([item], isolate_on_failure=False)
                    else:
                        await self._dead_letter(items[0].record, error, attempts=attempt)
                    return
                logger.warning(
                    "batch failed; retrying",
                    extra={"group": self.config.group, "attempt": attempt, "error": repr(error)},
                )
                await asyncio.sleep(delay * (0.5 + JITTER.random()))
                delay = min(self.config.backoff_max, delay * 2)

    async def _apply(self, items: list[_Decoded]) -> None:
        async with self.database.unit_of_work() as session:
            fresh = await self.inbox.claim(session, self.config.group, [item.envelope.id for item in items])
            batch: list[Received[Any]] = []
            for item in items:
                if item.envelope.id in fresh:
                    fresh.discard(item.envelope.id)  # a copy later in the same batch is a duplicate
                    batch.append(item.received)
            if batch:
                await self.handler(session, batch)
        topic = items[0].record.topic
        CONSUMER_MESSAGES.labels(self.config.group, topic, "processed").inc(len(batch))
        if len(items) > len(batch):
            CONSUMER_MESSAGES.labels(self.config.group, topic, "duplicate").inc(len(items) - len(batch))

    # -- dead letters --------------------------------------------------------------------

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], error: BaseException, *, attempts: int) -> None:
        now = time.monotonic()
        self._dead_lettered.append(now)
        while self._dead_lettered and now - self._dead_lettered[0] > self.config.dlq_flood_window:
            self._dead_lettered.popleft()
        if len(self._dead_lettered) > self.config.dlq_flood_limit:
            raise ConsumerStopped(
                f"{len(self._dead_lettered)} messages dead-lettered within "
                f"{self.config.dlq_flood_window:.0f}s; stopping consumer {self.config.group}"
            ) from error
        headers: Headers = list(record.headers or [])
        headers += [
            ("dlq-error", f"{type(error).__name__}: {error}"[:2000].encode()),
            ("dlq-error-type", type(error).__name__.encode()),
            ("dlq-traceback", "".join(traceback.format_exception(error))[-4000:].encode()),
            ("dlq-original-topic", record.topic.encode()),
            ("dlq-original-partition", str(record.partition).encode()),
            ("dlq-original-offset", str(record.offset).encode()),
            ("dlq-consumer", self.config.group.encode()),
            ("dlq-attempts", str(attempts).encode()),
            ("dlq-failed-at", utcnow().isoformat().encode()),
        ]
        await self.producer.send(dlq(record.topic), record.value or b"", key=record.key, headers=headers)
        CONSUMER_MESSAGES.labels(self.config.group, record.topic, "dead_lettered").inc()
        logger.error(
            "message dead-lettered",
            extra={
                "group": self.config.group,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "error": repr(error),
            },
        )
