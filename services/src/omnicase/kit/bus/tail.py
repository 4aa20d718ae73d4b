"""A reader of its own: every partition of a topic read by each replica, for fan-out to its clients.

The gateway's live stream and intake-web's widget wake-ups read topics this way: no
consumer group (each replica sees every record, so a client may be served by any of
them), nothing committed (the position is the client's, or "from now on"), committed
transactions only. The caller assigns partitions and seeks; this module only opens it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

logger = logging.getLogger(__name__)


async def open_tail(
    bootstrap_servers: str, client_id: str, *, fetch_max_wait_ms: int = 50, retry_seconds: float = 2.0
) -> AIOKafkaConsumer:
    """A started group-less consumer; waits (retrying every ``retry_seconds``) until the broker answers."""
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_max_wait_ms=fetch_max_wait_ms,
            client_id=client_id,
        )
        try:
            await consumer.start()
        except KafkaError as error:
            logger.warning("%s: broker not reachable; retrying", client_id, extra={"error": str(error)})
            await consumer.stop()
            await asyncio.sleep(retry_seconds)
            continue
        return consumer


class OpenedBeforeTopics(KafkaError):  # type: ignore[misc]
    """The broker lists a topic this reader's metadata lacks: it was made after the reader opened (a reader
    refreshes its metadata only every few minutes). Open another reader, which learns every topic as it starts."""


async def partitions_of(
    consumer: AIOKafkaConsumer, topics: Sequence[str], *, retry_seconds: float = 2.0
) -> list[TopicPartition]:
    """Every partition of ``topics``, in their order, once the broker has them all: waits while one is missing
    (``omnicase up`` creates them); raises :class:`OpenedBeforeTopics` if one was made after ``consumer`` opened."""
    while True:
        available = await consumer.topics()
        if all(topic in available for topic in topics):
            break
        logger.info("topics not there yet; waiting", extra={"topics": list(topics)})
        await asyncio.sleep(retry_seconds)
    found = [sorted(consumer.partitions_for_topic(topic) or ()) for topic in topics]
    if not all(found):
        raise OpenedBeforeTopics(f"the reader's metadata lacks partitions of {', '.join(topics)}")
    pairs = zip(topics, found, strict=True)
    return [TopicPartition(topic, number) for topic, numbers in pairs for number in numbers]
