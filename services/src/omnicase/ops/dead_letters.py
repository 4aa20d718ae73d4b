"""Dead letters: see what failed and why, and send it back once the cause is fixed.

A consumer that gives up on a message puts it on ``<topic>.dlq`` with the original key,
value and headers, plus ``dlq-*`` headers saying which consumer failed, how often and
why (:mod:`omnicase.kit.bus.consumer`). :func:`replay_dead_letters` publishes each
dead letter that was not replayed yet back to its original topic, without the ``dlq-*``
headers and with ``dlq-replayed-from`` naming where it came from. Every consumer group
of that topic sees it again: the groups that had applied it drop it in their inbox,
the one that failed tries again (and dead-letters it again if the cause is still there).

Which dead letters were replayed is remembered as committed offsets of the consumer group
``omnicase.dlq-replay`` on the dead-letter topic, committed only after the broker has
acknowledged every record sent back, so a replay that dies half-way sends the rest (and
at worst some again, which the inboxes drop) the next time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from omnicase.kit.bus.producer import EventProducer, Headers
from omnicase.kit.topics import Topic, dlq, physical

REPLAY_GROUP = "omnicase.dlq-replay"
REPLAYED_FROM = "dlq-replayed-from"


class DeadLetterError(Exception):
    """Bad input to the dead-letter tools; ``str()`` is ready to print."""


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers
    replayed: bool

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return None

    @property
    def original_topic(self) -> str | None:
        return self.header("dlq-original-topic")

    def summary(self) -> str:
        """One line for ``omnicase dlq list``: where, state, which event, which consumer, why."""
        field = {name: self.header(name) or "?" for name in _SUMMARY_HEADERS}
        state = "replayed" if self.replayed else "pending"
        return (
            f"{self.partition}:{self.offset} {state} {field['event-type']} {field['event-id']}"
            f" consumer={field['dlq-consumer']} attempts={field['dlq-attempts']}"
            f" failed_at={field['dlq-failed-at']}: {field['dlq-error']}"
        )


_SUMMARY_HEADERS = ("event-type", "event-id", "dlq-consumer", "dlq-attempts", "dlq-failed-at", "dlq-error")


def dead_letter_topic(topic: str, prefix: str = "") -> str:
    """The physical dead-letter topic of one of the suite's topics (``case.events`` …)."""
    known = {item.value for item in Topic}
    name = topic.removesuffix(".dlq")
    if name not in known:
        raise DeadLetterError(f"unknown topic {topic!r}; the suite's topics are {', '.join(sorted(known))}")
    return dlq(physical(name, prefix))


async def read_dead_letters(bootstrap_servers: str, topic: str, *, prefix: str = "") -> list[DeadLetter]:
    """Every dead letter of ``topic`` still on the broker, each marked replayed or pending."""
    name = dead_letter_topic(topic, prefix)
    consumer = await _replay_consumer(bootstrap_servers, prefix)
    try:
        return await _read(consumer, name, bootstrap_servers)
    finally:
        await consumer.stop()


async def replay_dead_letters(
    bootstrap_servers: str, topic: str, *, prefix: str = "", dry_run: bool = False
) -> list[DeadLetter]:
    """Publish every pending dead letter of ``topic`` back to its original topic; returns them."""
    name = dead_letter_topic(topic, prefix)
    consumer = await _replay_consumer(bootstrap_servers, prefix)
    try:
        pending = [letter for letter in await _read(consumer, name, bootstrap_servers) if not letter.replayed]
        if dry_run or not pending:
            return pending
        await _publish_back(bootstrap_servers, name, pending, fallback=physical(topic.removesuffix(".dlq"), prefix))
        last: dict[int, int] = {}
        for letter in pending:
            last[letter.partition] = max(last.get(letter.partition, -1), letter.offset)
        await consumer.commit(
            {TopicPartition(name, partition): OffsetAndMetadata(offset + 1, "") for partition, offset in last.items()}
        )
        return pending
    finally:
        await consumer.stop()


async def _publish_back(bootstrap_servers: str, name: str, letters: list[DeadLetter], *, fallback: str) -> None:
    producer = EventProducer(bootstrap_servers, client_id=f"omnicase-dlq-replay-{uuid.uuid4().hex[:8]}")
    try:
        await producer.start()
        acks = []
        for letter in letters:
            headers = [(key, value) for key, value in letter.headers if not key.startswith("dlq-")]
            headers.append((REPLAYED_FROM, f"{name}:{letter.partition}:{letter.offset}".encode()))
            target = letter.original_topic or fallback
            acks.append(await producer.enqueue(target, letter.value, key=letter.key, headers=headers))
        for ack in acks:
            await ack
    finally:
        await producer.stop()


async def _replay_consumer(bootstrap_servers: str, prefix: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=f"{prefix}{REPLAY_GROUP}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()
        raise
    return consumer


async def _read(consumer: AIOKafkaConsumer, name: str, bootstrap_servers: str) -> list[DeadLetter]:
    if name not in await consumer.topics():
        raise DeadLetterError(f"topic {name} does not exist on {bootstrap_servers} (run `omnicase topics`)")
    assigned = [TopicPartition(name, partition) for partition in sorted(consumer.partitions_for_topic(name) or ())]
    consumer.assign(assigned)
    ends = await consumer.end_offsets(assigned)
    replayed_up_to = {tp: (await consumer.committed(tp)) or 0 for tp in assigned}
    await consumer.seek_to_beginning(*assigned)
    letters: list[DeadLetter] = []
    remaining = {tp for tp in assigned if ends[tp] > 0}
    while remaining:
        batch = await consumer.getmany(*remaining, timeout_ms=1000)
        for tp, records in batch.items():
            letters += [
                DeadLetter(
                    partition=tp.partition,
                    offset=record.offset,
                    key=record.key,
                    value=record.value or b"",
                    headers=list(record.headers or []),
                    replayed=record.offset < replayed_up_to[tp],
                )
                for record in records
                if record.offset < ends[tp]
            ]
        remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    return sorted(letters, key=lambda letter: (letter.partition, letter.offset))
