"""Agent console traffic through the gateway at a fixed rate, while the intake load runs.

Open loop: request ``i`` is scheduled at ``start + i / rate`` and sent then, whether or not
earlier ones have been answered, and its latency counts from that scheduled moment. A
server that slows down therefore shows up as latency (and as requests piling up), never
as a client that quietly sends less, which is the coordinated-omission trap of closed-loop
load. The mix repeats :data:`MIX`: the agent's own case list, a case read, and a change
of a case with ``If-Match`` (its ETag from the previous answer), on a pool of cases the
bench created for it, never two changes of one case in flight at once.

Latency percentiles are over answered 2xx requests; every other outcome (status code,
or the transport error's name) is counted per operation. When answers are so slow that
every case of the pool has a change in flight, the next change goes out anyway with the
ETag it has; its 412 is counted apart (:data:`BUSY_CONFLICT`): a sign to raise
``BENCH_SUITE_API_CASES``, not a fault of the suite.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

MIX = ("list", "get", "update", "get", "list")
BUSY_CONFLICT = "412 (case already being changed by the bench)"
LABELS = {
    "list": "GET /cases (agent's own, 25)",
    "get": "GET /cases/{id}",
    "update": "PATCH /cases/{id} If-Match",
}


@dataclass
class OperationStats:
    sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class ApiResult:
    rate: float
    seconds: float
    operations: dict[str, OperationStats]
    late_starts: int  # requests the scheduler issued more than 10 ms after their scheduled time
    queued: int  # requests that found every connection busy and waited for one (counted in their latency)

    def as_json(self) -> dict[str, Any]:
        return {
            "rate_per_s": self.rate,
            "seconds": round(self.seconds, 2),
            "mix": list(MIX),
            "issued_late_by_the_bench_over_10ms": self.late_starts,
            "waited_for_a_connection": self.queued,
            "errors": {name: dict(stats.errors) for name, stats in self.operations.items()},
        }


@dataclass
class _CaseSlot:
    case_id: str
    etag: str
    priority: str = "normal"
    changing: int = 0  # our changes of this case in flight


async def api_load(
    http: httpx.AsyncClient,
    *,
    agent_id: str,
    cases: dict[str, str],
    rate: float,
    min_seconds: float,
    stop: asyncio.Event,
    max_connections: int,
) -> ApiResult:
    """Run until ``stop`` is set and at least ``min_seconds`` have passed; ``cases`` maps case id → ETag."""
    loop = asyncio.get_running_loop()
    stats = {name: OperationStats() for name in LABELS}
    slots = [_CaseSlot(case_id, etag) for case_id, etag in cases.items()]
    ids = [slot.case_id for slot in slots]
    reads = itertools.cycle(ids)
    writes = itertools.cycle(slots)
    in_flight: set[asyncio.Task[None]] = set()
    late = queued = 0
    # Requests beyond the connections wait here, still timed from their schedule: httpcore's own queue
    # costs CPU per queued request on every hand-out, which would make a backlog slow the bench itself.
    gate = asyncio.Semaphore(max_connections)

    async def timed(name: str, due: float, send: Any, *, busy: bool = False) -> httpx.Response | None:
        nonlocal queued
        stats[name].sent += 1
        if gate.locked():
            queued += 1
        try:
            async with gate:
                answer: httpx.Response = await send()
        except httpx.HTTPError as error:
            stats[name].errors[type(error).__name__] += 1
            return None
        if answer.is_success:
            stats[name].latencies_ms.append((loop.time() - due) * 1000)
        elif answer.status_code == 412 and busy:
            # Our own earlier change of that case was still in flight: the pool was too small for the latency.
            stats[name].errors[BUSY_CONFLICT] += 1
        else:
            stats[name].errors[str(answer.status_code)] += 1
        return answer

    async def list_cases(due: float) -> None:
        await timed("list", due, lambda: http.get("/api/v1/cases", params={"assignee_id": agent_id, "limit": 25}))

    async def get_case(due: float) -> None:
        case_id = next(reads)
        await timed("get", due, lambda: http.get(f"/api/v1/cases/{case_id}"))

    def free_slot() -> _CaseSlot:
        # The next case with no change of ours in flight; if every one is busy, the next anyway (a 412 then counts).
        for _ in range(len(slots)):
            slot = next(writes)
            if not slot.changing:
                return slot
        return next(writes)

    async def update_case(due: float) -> None:
        slot = free_slot()
        busy = slot.changing > 0
        slot.changing += 1
        target = "high" if slot.priority == "normal" else "normal"
        try:
            answer = await timed(
                "update",
                due,
                lambda: http.patch(
                    f"/api/v1/cases/{slot.case_id}", json={"priority": target}, headers={"If-Match": slot.etag}
                ),
                busy=busy,
            )
        finally:
            slot.changing -= 1
        if answer is not None and answer.headers.get("ETag"):
            slot.etag = answer.headers["ETag"]
            if answer.is_success:
                slot.priority = target
            elif answer.status_code == 412:
                slot.priority = answer.json().get("current", {}).get("priority", slot.priority)

    operations = {"list": list_cases, "get": get_case, "update": update_case}
    start = loop.time()
    index = 0
    while True:
        due = start + index / rate
        if due - start >= min_seconds and stop.is_set():
            break
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.01:
            late += 1
        task = asyncio.create_task(operations[MIX[index % len(MIX)]](due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        index += 1
    seconds = index / rate
    if in_flight:
        await asyncio.gather(*in_flight)
    return ApiResult(rate, seconds, stats, late, queued)


def new_case_body(run: str, number: int, agent_id: str) -> dict[str, Any]:
    """A case the API load reads and changes: on the API channel (no routing rule, no SLA policy touches it)."""
    return {
        "subject": f"Bench {run} api case {number}",
        "description": "A case the bench's agent keeps changing.",
        "requester": {"email": f"bench-{run}-api-{number}@customer.example", "name": f"API customer {number}"},
        "channel": "api",
        "assignee_id": agent_id,
    }
