"""The chat widget's rows in ``omnicase bench``: many visitors' sockets open on one intake-web process.

A real intake-web (``omnicase serve intake-web``, its own process) on the run's PostgreSQL and
broker, beside a case-core answering only its brands (the widget's brand must be one); a widget
channel; ``BENCH_WIDGET_VISITORS`` (2,000) visitors each open a conversation
and its WebSocket (``/public/messaging/{id}/socket``, as the widget does), and keep it open.
With every socket open, each visitor writes one message over its socket, 16 in flight at a
time: latency from the frame sent to its ``ack`` (given once the message and its intake event
are committed). Once those messages are cases (below; a minute at most), ``BENCH_WIDGET_REPLIES``
(300) agent replies are published on
``outbound.messages`` at ``BENCH_WIDGET_RATE`` (10) per second, as case-core sends them, each to
another visitor: latency from the reply's envelope time (stamped as it is published) to its
``message`` frame at the visitor's socket (the consumer stores it in the transcript and wakes
the socket). Every reply must arrive. A socket that closes is opened again after the last
entry it held and its unacknowledged message sent again, as the widget does (counted as
``sockets reopened``). intake-web's memory per socket is its resident size with every socket
open, less its size before, over the sockets. These rows replace the event-stream rows of
before: the event stream is the fallback where sockets are blocked and shares the socket's
reading and waking (``widget/public.py``, ``_live``).

**Visitor -> case created**: the case-core beside it reads the same topics, so each visitor's
first message (the one over its socket above) becomes a case as in the suite; a group-less reader
of ``case.events`` notes each ``case.created`` (tied to its visitor by the number in the message's
text), and the latency is from the frame sent to the envelope's ``time``, stamped by case-core in
the transaction that made the case (as the suite's observer takes it). The first two rows are
therefore measured with case-core making those cases beside intake-web, as a deployment runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
from websockets import ConnectionClosed, InvalidHandshake
from websockets.asyncio.client import ClientConnection, connect

from omnicase.devtools.bench.measure import CpuMeter, Measurement
from omnicase.devtools.bench.services import BenchTarget
from omnicase.devtools.devstack.processes import free_port
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.bus.tail import open_tail, partitions_of
from omnicase.kit.events import CaseCreated, Envelope, OutboundMessageRequested, Party
from omnicase.kit.identity import service_identity_headers
from omnicase.kit.service import get_service
from omnicase.kit.topics import Topic, physical
from omnicase.ops.migrations import upgrade
from omnicase.ops.topics import ensure_suite_topics

HOST = "127.0.0.1"
# The visitor's number in their first message's text: ties case-core's case.created to its visitor.
FIRST_MESSAGE = "Where is my parcel? (visitor {number})"
_VISITOR_NUMBER = re.compile(r"\(visitor (\d+)\)")


class Dropped(Exception):
    """The socket a message was sent on closed before its ack came."""


@dataclass
class Visitor:
    conversation_id: str
    token: str
    thread_key: str
    arrived: dict[str, float] = field(default_factory=dict)  # reply text -> when its frame first arrived
    acked: dict[str, asyncio.Future[float]] = field(default_factory=dict)  # client_id -> when its ack arrived
    socket: ClientConnection | None = None
    url: str = ""
    last_seq: int = 0
    drops: int = 0  # sockets closed other than at their time's end (4000), each opened again

    async def open(self, url: str) -> None:
        self.url = url
        self.socket = await connect(f"{url}&after={self.last_seq}", open_timeout=60, ping_interval=None)

    async def read(self) -> None:
        """Until cancelled: the socket's frames; a socket that closes is opened again after the last entry
        held, as the widget does, and a message waiting for its ack there is sent again."""
        while True:
            assert self.socket is not None
            try:
                async for raw in self.socket:
                    self._take(json.loads(raw))
            except ConnectionClosed:
                pass
            if self.socket.close_code != 4000:
                self.drops += 1
            for waiting in self.acked.values():
                if not waiting.done():
                    waiting.set_exception(Dropped())
            while True:
                try:
                    await self.open(self.url)
                    break
                except (OSError, TimeoutError, InvalidHandshake):
                    await asyncio.sleep(1.0)

    def _take(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "message":
            self.last_seq = max(self.last_seq, frame["entry"]["seq"])
            if frame["entry"]["direction"] == "agent":
                self.arrived.setdefault(frame["entry"]["text"], time.time())
        elif frame["type"] in ("ack", "refused") and (waiting := self.acked.get(frame["client_id"])):
            if waiting.done():
                return
            if frame["type"] == "refused":
                waiting.set_exception(RuntimeError(f"a visitor's message was refused: {frame['problem']}"))
            else:
                waiting.set_result(time.perf_counter())

    async def write(self, text: str, client_id: str) -> float:
        """Send a message over the socket; milliseconds until its ack (sent again, the same client_id, on
        the next socket if this one closes first)."""
        began = time.perf_counter()
        for _ in range(10):
            self.acked[client_id] = asyncio.get_running_loop().create_future()
            try:
                assert self.socket is not None
                await self.socket.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
                return (await asyncio.wait_for(self.acked[client_id], 60) - began) * 1000
            except (ConnectionClosed, Dropped):
                await asyncio.sleep(0.5)
        raise RuntimeError("a visitor's message was never acknowledged")


async def _start(
    target: BenchTarget, service: str, prefix: str, port: int, secret: str, **more: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": target.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": target.bootstrap_servers,
        "OMNICASE_TOPIC_PREFIX": prefix,
        "OMNICASE_INTERNAL_SECRET": secret,
        f"{service.replace('-', '_').upper()}_PORT": str(port),
        **more,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "omnicase.cli",
        "serve",
        service,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _posted(client: httpx.AsyncClient, url: str, body: Mapping[str, object], headers: dict[str, str]) -> str:
    """The id of what ``url`` made of ``body``, asked until its service is up (409: made before)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = await client.post(url, json=body, headers=headers)
            if answer.status_code in (201, 409):
                return str(answer.json().get("id"))
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the bench's {url} never took {body}")
        await asyncio.sleep(0.5)


async def _channel(client: httpx.AsyncClient, secret: str, desk_port: int) -> str:
    # The widget's brand, made in the bench's case-core first: intake-web checks the brands channels name.
    desk = service_identity_headers(secret, "bench", frozenset({"cases:read", "cases:write"}))
    await _posted(client, f"http://{HOST}:{desk_port}/api/v1/brands", {"name": "Bench", "slug": "bench"}, desk)
    headers = service_identity_headers(secret, "bench", frozenset({"channels:read", "channels:write"}))
    body = {
        "name": "Bench chat",
        "config": {"kind": "widget", "brand": "bench", "per_ip_per_minute": 100_000},
    }
    return await _posted(client, "/api/v1/channels", body, headers)


async def _visit(client: httpx.AsyncClient, channel_id: str) -> Visitor:
    started = await client.post(f"/public/messaging/{channel_id}/conversations")
    token, conversation_id = started.json()["token"], started.json()["conversation_id"]
    return Visitor(conversation_id, token, f"widget:{channel_id}:{conversation_id}")


async def _listen(port: int, channel_id: str, visitor: Visitor) -> None:
    await visitor.open(f"ws://{HOST}:{port}/public/messaging/{channel_id}/socket?token={visitor.token}")


async def _reply(producer: EventProducer, prefix: str, visitor: Visitor, text: str) -> float:
    request = OutboundMessageRequested(
        outbound_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        channel="messaging",
        to=[Party(handle="visitor")],
        text=text,
        conversation_id=visitor.thread_key,
    )
    envelope = request.envelope(source="bench", subject=str(request.case_id))
    await producer.publish(physical(Topic.OUTBOUND_MESSAGES, prefix), envelope, key=str(request.case_id))
    return envelope.time.timestamp()


async def _watch_cases(bootstrap: str, topic: str, created: dict[int, float]) -> None:
    """Until cancelled: each visitor's case.created (by the number in its first message) and its envelope time."""
    reader = await open_tail(bootstrap, "bench-widget-cases")
    try:
        partitions = await partitions_of(reader, [topic], retry_seconds=0.2)
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        while True:
            for records in (await reader.getmany(timeout_ms=200)).values():
                for record in records:
                    envelope = Envelope.from_bytes(record.value)
                    if envelope.type != CaseCreated.event_type:
                        continue
                    found = _VISITOR_NUMBER.search(CaseCreated.parse(envelope).description)
                    if found is not None:
                        created.setdefault(int(found[1]), envelope.time.timestamp())
    finally:
        await reader.stop()


async def _all_arrived(sent: dict[str, tuple[Visitor, float]], within: float) -> None:
    """Until every reply reached its visitor, or ``within`` seconds passed."""
    deadline = time.monotonic() + within
    for _ in iter(int, 1):
        if time.monotonic() > deadline or all(text in visitor.arrived for text, (visitor, _) in sent.items()):
            return
        await asyncio.sleep(0.2)


async def measure(target: BenchTarget) -> list[Measurement]:
    count = target.size("BENCH_WIDGET_VISITORS", 2000)
    replies = target.size("BENCH_WIDGET_REPLIES", 300)
    rate = target.size("BENCH_WIDGET_RATE", 10)
    prefix = f"widget{uuid.uuid4().hex[:8]}."
    await ensure_suite_topics(target.bootstrap_servers, prefix=prefix, partitions=4)
    port, desk_port, secret = free_port(), free_port(), secrets.token_urlsafe(32)
    # The run gives this bench intake-web's schema only; case-core's is migrated beside it.
    await asyncio.to_thread(upgrade, get_service("case-core"), target.database_url)
    # case-core answers the brands and, on the same topics, makes the visitors' cases.
    desk = await _start(target, "case-core", prefix, desk_port, secret)
    case_core_url = f"http://{HOST}:{desk_port}"
    service = await _start(target, "intake-web", prefix, port, secret, INTAKE_WEB_CASE_CORE_URL=case_core_url)
    producer = EventProducer(target.bootstrap_servers, client_id="bench-widget")
    visitors: list[Visitor] = []
    tasks: list[asyncio.Task[None]] = []
    sent: dict[str, tuple[Visitor, float]] = {}
    created: dict[int, float] = {}  # visitor number -> case.created's time
    first_sent: dict[int, float] = {}  # visitor number -> when its first message's frame went
    try:
        cases_topic = physical(Topic.CASE_EVENTS, prefix)
        tasks.append(asyncio.create_task(_watch_cases(target.bootstrap_servers, cases_topic, created)))
        await producer.start()
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30, limits=limits) as client:
            channel_id = await _channel(client, secret, desk_port)
            process = psutil.Process(service.pid)
            for start in range(0, count, 100):
                batch = range(start, min(start + 100, count))
                visitors += await asyncio.gather(*(_visit(client, channel_id) for _ in batch))
        # Warm-up: the first socket, a message and a reply end to end (the consumer has joined its group).
        await _listen(port, channel_id, visitors[0])
        tasks.append(asyncio.create_task(visitors[0].read()))
        await visitors[0].write("warming up", "warm-up")
        deadline = time.monotonic() + 90
        while "warm-up" not in visitors[0].arrived and time.monotonic() < deadline:
            await _reply(producer, prefix, visitors[0], "warm-up")
            await asyncio.sleep(3)
        before = process.memory_info().rss
        for start in range(1, count, 100):
            await asyncio.gather(*(_listen(port, channel_id, v) for v in visitors[start : start + 100]))
        tasks += [asyncio.create_task(visitor.read()) for visitor in visitors[1:]]
        await asyncio.sleep(1.0)
        per_socket_kb = (process.memory_info().rss - before) / max(count - 1, 1) / 1024
        in_flight = asyncio.Semaphore(16)

        async def first_message(number: int, visitor: Visitor) -> float:
            async with in_flight:
                if number:  # the warm-up's message opened visitor 0's case
                    first_sent[number] = time.time()
                return await visitor.write(FIRST_MESSAGE.format(number=number), "first")

        accept_started = time.perf_counter()
        accepted = await asyncio.gather(*(first_message(n, v) for n, v in enumerate(visitors)))
        accept_seconds = time.perf_counter() - accept_started
        # The replies go once the burst of first messages has become cases (a minute at most): a
        # reply's latency is a live chat's, not that of a queue 2,000 messages long.
        deadline = time.monotonic() + 60
        for _ in iter(int, 1):
            if len(created.keys() & first_sent.keys()) == len(first_sent) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        meter, service_before = CpuMeter(), process.cpu_times()
        started = time.perf_counter()
        for number in range(replies):
            await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
            visitor = visitors[(number * 7919) % count]
            text = f"reply {number}"
            sent[text] = (visitor, await _reply(producer, prefix, visitor, text))
        await _all_arrived(sent, within=20)
        seconds = time.perf_counter() - started
        cpu = meter.usage()
        after = process.cpu_times()
        service_cpu = 100 * (after.user + after.system - service_before.user - service_before.system) / seconds
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(v.socket.close() for v in visitors if v.socket is not None), return_exceptions=True)
        await producer.stop()
        for process in (service, desk):
            # One that died (its error is the run's) has nothing to end.
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            await process.wait()
    drops = sum(visitor.drops for visitor in visitors)
    latencies = [(v.arrived[text] - at) * 1000 for text, (v, at) in sent.items() if text in v.arrived]
    missed = len(sent) - len(latencies)
    to_case = [(created[n] - at) * 1000 for n, at in first_sent.items() if n in created]
    no_case = len(first_sent) - len(to_case)
    cases_span = (max(created[n] for n in first_sent if n in created) - min(first_sent.values())) if to_case else None
    note = f"{count} sockets open, {rate} replies/s; intake-web {per_socket_kb:.1f} KB per open socket, "
    note += f"{service_cpu:.0f}% of one core"
    return [
        Measurement(
            "widget_socket_message_accepted",
            f"widget: visitor message over the socket accepted ({count} sockets open, 16 in flight)",
            len(accepted),
            accept_seconds,
            list(accepted),
            "message frame sent -> ack frame (message and intake event committed)",
        ),
        Measurement(
            "widget_reply_to_visitor_socket",
            f"widget: agent reply -> visitor's socket ({count} open, their first messages' cases made)",
            len(latencies),
            seconds,
            latencies,
            f"reply published on outbound.messages -> message frame at the visitor's socket ({note})",
            cpu=cpu,
            errors=({"missed": missed} if missed else {}) | ({"sockets reopened": drops} if drops else {}),
            compare_to_ceiling=False,
        ),
        Measurement(
            "widget_visitor_to_case_created",
            f"widget: visitor's first message -> case created ({count} sockets open, 16 in flight)",
            len(to_case),
            cases_span,
            to_case,
            "message frame sent -> case-core's case.created (its envelope time, stamped in the case's transaction)",
            errors={"no case": no_case} if no_case else {},
            compare_to_ceiling=False,
        ),
    ]


async def bench(target: BenchTarget) -> list[Measurement]:
    """The chat widget's rows in ``omnicase bench`` (entry point ``omnicase.benches``)."""
    return await measure(target)
