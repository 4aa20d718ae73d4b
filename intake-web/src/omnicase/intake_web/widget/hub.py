"""Waking the widget streams of a conversation when something was committed to it, on any replica.

A stream reads its conversation's entries from the database (the transcript is the truth)
and then waits on the hub. Every change to a conversation is followed, after its commit,
by an event on ``intake.messages`` keyed by the conversation's thread key (the visitor's
``intake.message_received``, the reply's ``intake.delivery_reported``, intake-web's own
entries' ``intake.widget_conversation_updated``): each replica reads
that topic itself (every partition from its end, no consumer group, nothing committed) and
wakes the streams of the conversations it names, from the record's key alone, never
decoding a value. A change made in this process wakes its streams at commit too, without
waiting for the broker. A stream registers before it reads, so a commit after its read
always wakes it; a wake for something it already read costs one empty query.

While the feed reads, no commit goes unannounced, so a quiet stream reads nothing at its heartbeats
(thousands of open sockets would otherwise re-read their conversations hundreds of times a second).
Whenever the feed starts reading again (at start, after an error) it reads from the topic's end, so it
wakes every stream: what was committed while it was away is read from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.fetch_hold import FetchHold
from omnicase.kit.bus.tail import open_tail, partitions_of
from omnicase.kit.topics import Topic, physical

logger = logging.getLogger(__name__)

KEY_PREFIX = b"widget:"


def thread_key(channel_id: uuid.UUID, conversation_id: uuid.UUID) -> str:
    """A widget conversation's thread key, as :meth:`StoredChannel.thread_key` makes it."""
    return f"{KEY_PREFIX.decode()}{channel_id}:{conversation_id}"


def conversation_of(key: bytes | None) -> uuid.UUID | None:
    """The conversation a widget thread key (``widget:<channel id>:<conversation id>``) names."""
    if key is None or not key.startswith(KEY_PREFIX):
        return None
    try:
        return uuid.UUID(key.rsplit(b":", 1)[-1].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None


class ConversationHub:
    def __init__(self) -> None:
        self._waiting: defaultdict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)
        # Whether every commit, on any replica, wakes its streams: the feed is reading. While it is not,
        # a quiet stream reads its conversation again at each heartbeat.
        self.complete = False

    def watch(self, conversation_id: uuid.UUID) -> asyncio.Event:
        woken = asyncio.Event()
        self._waiting[conversation_id].add(woken)
        return woken

    def unwatch(self, conversation_id: uuid.UUID, woken: asyncio.Event) -> None:
        waiting = self._waiting.get(conversation_id)
        if waiting is not None:
            waiting.discard(woken)
            if not waiting:
                del self._waiting[conversation_id]

    def wake(self, conversation_id: uuid.UUID) -> None:
        for woken in self._waiting.get(conversation_id, ()):
            woken.set()

    def wake_all(self) -> None:
        for waiting in self._waiting.values():
            for woken in waiting:
                woken.set()

    def wake_after_commit(self, session: AsyncSession, conversation_id: uuid.UUID) -> None:
        """Wake the conversation's streams in this process once ``session`` commits."""
        if conversation_id not in self._waiting:
            return
        loop = asyncio.get_running_loop()

        def committed(_: Any) -> None:
            loop.call_soon_threadsafe(self.wake, conversation_id)

        event.listen(session.sync_session, "after_commit", committed, once=True)

    @property
    def streams(self) -> int:
        return sum(len(waiting) for waiting in self._waiting.values())


class ConversationFeed:
    """Reads ``intake.messages`` from its end on every partition and wakes the hub's streams."""

    def __init__(self, hub: ConversationHub, bootstrap_servers: str, topic_prefix: str) -> None:
        self.hub = hub
        self.bootstrap_servers = bootstrap_servers
        self.topic = physical(Topic.INTAKE_MESSAGES, topic_prefix)
        self._task: asyncio.Task[None] | None = None
        # A reply rings the visitor's panel through this fetch: the short hold while replies flow.
        self._hold = FetchHold()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="intake-web-widget-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            consumer = await open_tail(self.bootstrap_servers, "intake-web-widget-feed")
            try:
                await self._read(consumer)
            except KafkaError as error:
                logger.warning("widget feed: reading failed; reconnecting", extra={"error": str(error)})
            except Exception:
                # Never for good: without the feed every quiet stream of the replica reads at each heartbeat.
                logger.exception("widget feed: reading failed; reconnecting")
            finally:
                self.hub.complete = False
                await consumer.stop()
            await asyncio.sleep(2.0)

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        partitions = await partitions_of(consumer, [self.topic])
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        self.hub.complete = True
        self.hub.wake_all()  # anything committed before the end just sought is read from the database
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            self._hold.after_fetch(consumer, bool(batches))
            for records in batches.values():
                for record in records:
                    conversation_id = conversation_of(record.key)
                    if conversation_id is not None:
                        self.hub.wake(conversation_id)
