"""Routing decision benchmark: ``python -m omnicase.routing.bench [--cases N]``.

Starts its own PostgreSQL in a temporary directory, migrates routing's schema, seeds
1,000 agents (each in 5 of 100 queues, 4 of 20 skills, capacity 10, 70 % online) and
100 assignment rules (brand and keyword conditions, one required skill each), then
measures, for new cases whose matching rule sits anywhere in the list:

1. **decision**: the decision itself, in memory: evaluate the rules, then check and rank
   every member of the target queue (:func:`match_rules` + :func:`select_agents`);
2. **routed case**: what the consumer's handler does with a batch of one
   ``case.created`` (rules from the cache, the queue's agents locked and loaded,
   capacity taken, offer, commands and decision log written), one transaction per case
   on one connection, rolled back so every case meets the same agents;
3. **routed batch**: the same with batches of ``BATCH`` cases (set-based writes),
   time per case of the batch.

Prints p50/p99 latency (ms) and decisions per second. Speed is measured here, never
asserted in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert

from omnicase.devtools.bench.measure import Measurement
from omnicase.devtools.bench.services import BenchTarget
from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.devstack.processes import free_port
from omnicase.kit.bus.batch import Received
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database, create_engine
from omnicase.kit.events import CaseCreated, Channel, EventData, Priority
from omnicase.ops.migrations import upgrade
from omnicase.routing.engine import CaseFacts, RoutingModel, WorkItem, match_rules, select_agents
from omnicase.routing.models import agent_skills, agents, group_members, groups, rule_skills, rules, skills
from omnicase.routing.service import SPEC
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.testing import snapshot
from omnicase.routing.work.consumers import case_events_handler
from omnicase.routing.work.repository import WorkRepository

AGENTS, QUEUES, RULES, SKILLS = 1000, 100, 100, 20
BATCH = 100


async def seed(database: Database, rng: random.Random) -> None:
    now = utcnow()
    skill_ids = [uuid.uuid4() for _ in range(SKILLS)]
    queue_ids = [uuid.uuid4() for _ in range(QUEUES)]
    async with database.unit_of_work() as session:
        await session.execute(
            insert(skills),
            [{"id": s, "name": f"skill-{i}", "created_at": now, "updated_at": now} for i, s in enumerate(skill_ids)],
        )
        await session.execute(
            insert(groups),
            [
                {"id": q, "name": f"queue-{i}", "routing_model": "best_available", "created_at": now, "updated_at": now}
                for i, q in enumerate(queue_ids)
            ],
        )
        agent_rows, skill_rows, member_rows = [], [], []
        for _ in range(AGENTS):
            agent_id = uuid.uuid4()
            agent_rows.append(
                {
                    "user_id": agent_id,
                    "name": "Agent",
                    "languages": ["en"],
                    "capacity": 10,
                    "used_capacity": rng.randint(0, 9),
                    "presence": "online" if rng.random() < 0.7 else "offline",
                    "presence_changed_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            skill_rows += [
                {"agent_id": agent_id, "skill_id": s, "level": rng.randint(1, 10)} for s in rng.sample(skill_ids, 4)
            ]
            member_rows += [{"group_id": q, "agent_id": agent_id} for q in rng.sample(queue_ids, 5)]
        await session.execute(insert(agents), agent_rows)
        await session.execute(insert(agent_skills), skill_rows)
        await session.execute(insert(group_members), member_rows)
        rule_rows = [
            {
                "id": uuid.uuid4(),
                "name": f"rule-{i}",
                "position": i + 1,
                "conditions": {"brands": [f"brand-{i}"], "keywords": [f"topic{i}", "urgent help"]},
                "target_group_id": queue_ids[i % QUEUES],
                "created_at": now,
                "updated_at": now,
            }
            for i in range(RULES)
        ]
        await session.execute(insert(rules), rule_rows)
        await session.execute(
            insert(rule_skills),
            [{"rule_id": row["id"], "skill_id": rng.choice(skill_ids), "min_level": 3} for row in rule_rows],
        )


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    rate = len(samples) / sum(samples)
    return f"{name:<14} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   {rate:9.0f} decisions/s   ({len(samples)} cases)"


async def measure(url: str, cases: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds per decision, per routed case (a batch of one) and per case of a batch of
    ``BATCH`` routed together, for ``cases`` new cases."""
    rng = random.Random(7)
    database = Database(create_engine(url, pool_size=2, application_name="routing-bench"))
    try:
        await seed(database, rng)
        settings = RoutingSettings(database_url=url)
        # The matching rule is anywhere in the list: on average half the rules are evaluated first.
        picks = [rng.randrange(RULES) for _ in range(cases)]
        new_cases = [snapshot(subject=f"need topic{i} sorted", brand=f"brand-{i}") for i in picks]
        # 1. the decision in memory
        async with database.unit_of_work() as session:
            repo = WorkRepository(session)
            rule_specs = await repo.enabled_rules()
            members = {spec.target_group_id: await repo.candidates(spec.target_group_id) for spec in rule_specs}
        decision: list[float] = []
        for case in new_cases:
            facts = CaseFacts(channel=Channel.EMAIL, priority=Priority.NORMAL, brand=case.brand, subject=case.subject)
            started = time.perf_counter()
            match = match_rules(rule_specs, facts)
            if match.rule is not None:
                select_agents(
                    WorkItem(cost=1, required_skills=match.rule.required_skills),
                    members[match.rule.target_group_id],
                    RoutingModel.BEST_AVAILABLE,
                )
            decision.append(time.perf_counter() - started)
        # 2. the whole routed case as the consumer's handler does it, rolled back each time;
        # 3. the same in batches (seconds per case of the batch).
        handler = case_events_handler(settings)
        events: list[Received[EventData]] = []
        for case in new_cases:
            data = CaseCreated(case=case)
            events.append(Received(data.envelope(source="case-core", subject=str(case.case_id)), data))
        routed: list[float] = []
        batched: list[float] = []
        for size, samples in ((1, routed), (BATCH, batched)):
            for start in range(0, len(events), size):
                batch = events[start : start + size]
                async with database.engine.connect() as connection:
                    transaction = await connection.begin()
                    session = database.sessions(bind=connection)
                    started = time.perf_counter()
                    await handler(session, batch)
                    await session.flush()
                    samples.extend([(time.perf_counter() - started) / len(batch)] * len(batch))
                    await session.close()
                    await transaction.rollback()
        return decision, routed, batched
    finally:
        await database.dispose()


async def bench(target: BenchTarget) -> list[Measurement]:
    """Routing's rows in ``omnicase bench`` (entry point ``omnicase.benches``)."""
    decision, routed, batched = await measure(target.database_url, target.size("BENCH_ROUTING_CASES", 2000))
    return [
        Measurement(
            "routing_decision",
            f"routing: decision ({AGENTS} agents, {RULES} rules)",
            len(decision),
            sum(decision),
            [seconds * 1000 for seconds in decision],
            "rules evaluated and the queue's agents ranked, in memory, one at a time",
        ),
        Measurement(
            "routing_routed_case",
            "routing: routed case (1 connection)",
            len(routed),
            sum(routed),
            [seconds * 1000 for seconds in routed],
            "case.created applied: rules and candidates loaded, capacity reserved, offer, commands and log written",
        ),
        Measurement(
            "routing_routed_batch",
            f"routing: routed case in batches of {BATCH} (1 connection)",
            len(batched),
            sum(batched),
            [seconds * 1000 for seconds in batched],
            "the same, a consumer batch at a time (set-based writes); time per case of the batch",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="routing-bench-") as tmp:
        root = Path(tmp)
        postgres = EmbeddedPostgres(root / "data", port=free_port(), log_file=root / "postgres.log", durable=True)
        postgres.start()
        try:
            postgres.ensure_database("routing_bench")
            url = postgres.url("routing_bench")
            upgrade(SPEC, url)
            decision, routed, batched = asyncio.run(measure(url, args.cases))
        finally:
            postgres.stop()
    print(f"routing: {AGENTS} agents, {QUEUES} queues, {RULES} rules, {SKILLS} skills")  # noqa: T201
    print(summary("decision", decision))  # noqa: T201
    print(summary("routed case", routed))  # noqa: T201
    print(summary(f"batch of {BATCH}", batched))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
