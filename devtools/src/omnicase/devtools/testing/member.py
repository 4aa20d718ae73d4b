"""A consumer-group member in a process of its own, for tests that kill one as a crash would.

``python -m omnicase.devtools.testing.member DATABASE_URL SCHEMA BOOTSTRAP PREFIX GROUP`` runs
the kit's consumer on ``case.events`` (under ``PREFIX``) in group ``GROUP``, recording every
event it applies in ``SCHEMA.effects`` (:func:`omnicase.devtools.testing.probes.effects_table`),
until it is killed. It prints ``ready`` once started.
"""

from __future__ import annotations

import asyncio
import sys

from omnicase.devtools.testing.probes import Effects, effects_table
from omnicase.kit.bus.consumer import ConsumerConfig, EventConsumer
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.db import Database, create_engine, service_metadata
from omnicase.kit.inbox import Inbox, inbox_table
from omnicase.kit.topics import Topic


async def run(database_url: str, schema: str, bootstrap: str, prefix: str, group: str) -> None:
    database = Database(create_engine(database_url, pool_size=2))
    producer = EventProducer(bootstrap, client_id=f"{group}-member")
    await producer.start()
    consumer = EventConsumer(
        ConsumerConfig(group=group, topics=[Topic.CASE_EVENTS], session_timeout_ms=3000, heartbeat_interval_ms=300),
        Effects(effects_table(schema)).apply,
        database=database,
        inbox=Inbox(inbox_table(service_metadata(schema))),
        producer=producer,
        bootstrap_servers=bootstrap,
        topic_prefix=prefix,
    )
    await consumer.start()
    print("ready", flush=True)  # noqa: T201 - the parent test waits for this line
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(run(*sys.argv[1:6]))
