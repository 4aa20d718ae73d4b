"""Topic administration for the dev stack and tests (production uses Strimzi KafkaTopics)."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from omnicase.kit.topics import Topic, dlq, physical


def all_topic_names() -> list[str]:
    """Every topic the suite uses, dead-letter topics included."""
    names: list[str] = []
    for topic in Topic:
        names += [topic.value, dlq(topic.value)]
    return names


async def ensure_topics(bootstrap_servers: str, names: list[str], *, partitions: int) -> list[str]:
    """Create the topics that do not exist yet; returns those created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="omnicase-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            # Another process may create them between our list and create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in missing]
                )
        return missing
    finally:
        await admin.close()


async def ensure_suite_topics(bootstrap_servers: str, *, prefix: str = "", partitions: int = 4) -> list[str]:
    names = [physical(name, prefix) for name in all_topic_names()]
    return await ensure_topics(bootstrap_servers, names, partitions=partitions)
