"""The whole suite under load, in the same ``omnicase bench`` run as the ceilings.

``omnicase up`` runs in a child process (:class:`~omnicase.devtools.testing.stack.SuiteStack`)
on the run's durable PostgreSQL (a fresh database) and its Tansu broker, every service a
process of its own, as ``make run`` starts them. The bench then configures it through the
gateway as an admin (:mod:`omnicase.devtools.bench.suite.setup`) and, at once:

- **intake** (:mod:`omnicase.devtools.bench.suite.intake`), sustained: at least
  ``BENCH_SUITE_EMAILS`` mails over ``BENCH_SUITE_SMTP_SESSIONS`` concurrent SMTP sessions
  to intake-email's listener, and at least ``BENCH_SUITE_FORMS`` form submissions over
  ``BENCH_SUITE_HTTP_CLIENTS`` concurrent clients to the public form endpoint through the
  gateway, each channel sending for at least ``BENCH_SUITE_SECONDS`` (whichever is longer),
  so the rows measure steady state rather than a burst;
- **the agent console** (:mod:`omnicase.devtools.bench.suite.api`): ``BENCH_SUITE_API_RATE``
  requests per second, open loop, of case list / get / change (``If-Match``) through the
  gateway as an agent, for as long as the intake is in flight and at least
  ``BENCH_SUITE_API_SECONDS``.

Both follow a warm-up of ``BENCH_SUITE_WARMUP`` messages per channel all the way to their
SLA clocks (consumer groups joined, connections and statements ready), not counted.
:mod:`omnicase.devtools.bench.suite.observe` follows every accepted message into its case,
its assignment and its SLA milestones (it says which moment each stage stands for). The
run fails, naming what is missing, if a message is never accepted, if an accepted one is
not created, assigned and timed within ``BENCH_STALL_TIMEOUT`` of the last progress, or
if one became two cases.

The row "suite end to end, both channels" is every message of both channels over the time
from the first send to the last SLA clock set, with the latency from acceptance to SLA
milestones set; the CPU rows give each part's CPU milliseconds per message over that round
(:mod:`omnicase.devtools.bench.suite.cpu`: every process of each service, PostgreSQL, the
broker, and the bench's own load and observer).

Per channel, the rows give the accepted rate (SMTP 250 / HTTP 2xx) with the latency of
the accepting transaction, then for each stage the latency from acceptance and the rate
at which the stage kept up (messages over the time from the first send to the last of
them reaching that stage). The senders are closed loop, so when the pipeline is slower
than the intake those latencies include the backlog; a second, paced round per channel
(at :data:`PACED_SHARE` of the rate the whole pipeline kept up with, for about
:data:`PACED_SECONDS`) gives the same stages below saturation, and the paced hop rows say
which hop between the services that round's time went to
(:mod:`omnicase.devtools.bench.suite.hops`).

The gateway's rate limits are raised for the run (:data:`RAISED_RATE_LIMIT` per window,
per IP and per token), so the bench's one address and one agent measure the suite rather
than its 429s; the limiter still runs on every request.

``BENCH_SUITE=0`` skips this part; ``BENCH_SUITE_AGENTS`` sets the online agents (raised
if their capacity could not hold every case) and ``BENCH_SUITE_API_CASES`` the cases the
console load changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from omnicase.devtools.bench.config import BenchError, env_number
from omnicase.devtools.bench.measure import CpuMeter, CpuUsage, Measurement, await_with_progress
from omnicase.devtools.bench.suite.api import LABELS, MIX, ApiResult, api_load
from omnicase.devtools.bench.suite.cpu import CpuSnapshot
from omnicase.devtools.bench.suite.drain import until_drained
from omnicase.devtools.bench.suite.hops import paced_hops
from omnicase.devtools.bench.suite.intake import IntakeResult, post_forms, send_emails
from omnicase.devtools.bench.suite.observe import PipelineObserver
from omnicase.devtools.bench.suite.setup import AGENT_CAPACITY, SetupError, SuiteSetup, agents_needed, configure_suite
from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.testing.stack import SUITE_SERVICES, StackError, SuiteStack

RAISED_RATE_LIMIT = 10_000_000
# Messages per second per channel the agents' capacity is sized for in a timed round (above the goal).
RATE_CEILING = 400
# After the full-speed intake, a round per channel at this share of the rate the pipeline kept up with.
PACED_SHARE = 0.5
PACED_SECONDS = 10.0
PACED_MIN = 3
# The paced round waits for the work behind the full-speed one to be done (every outbox
# published, every consumer caught up: :mod:`~omnicase.devtools.bench.suite.drain`), for at most
# ``BENCH_SUITE_SETTLE_TIMEOUT`` seconds; a round that begins at the timeout says so.
# Connections of the agent console load: a console fleet's worth, far above what the default rate needs.
CONSOLE_CONNECTIONS = 64
ADMIN_EMAIL = "bench-admin@bench.example"


@dataclass(frozen=True)
class SuiteBenchConfig:
    # Steady state: at least this many per channel and at least ``seconds`` of sending, whichever is longer.
    emails: int = 10_000
    smtp_sessions: int = 8
    forms: int = 10_000
    http_clients: int = 8
    seconds: float = 60.0
    api_rate: float = 5.0
    api_seconds: float = 10.0
    api_cases: int = 50
    agents: int = 5
    warmup: int = 10
    ready_timeout: float = 180.0
    settle_timeout: float = 300.0

    @classmethod
    def from_env(cls) -> SuiteBenchConfig | None:
        """None when ``BENCH_SUITE=0``; a :class:`BenchError` names a bad size."""
        if os.environ.get("BENCH_SUITE", "1").strip() == "0":
            return None
        return cls(
            emails=int(env_number("BENCH_SUITE_EMAILS", cls.emails)),
            smtp_sessions=int(env_number("BENCH_SUITE_SMTP_SESSIONS", cls.smtp_sessions)),
            forms=int(env_number("BENCH_SUITE_FORMS", cls.forms)),
            http_clients=int(env_number("BENCH_SUITE_HTTP_CLIENTS", cls.http_clients)),
            seconds=env_number("BENCH_SUITE_SECONDS", cls.seconds, integer=False, zero=True),
            api_rate=env_number("BENCH_SUITE_API_RATE", cls.api_rate, integer=False),
            api_seconds=env_number("BENCH_SUITE_API_SECONDS", cls.api_seconds, integer=False),
            api_cases=int(env_number("BENCH_SUITE_API_CASES", cls.api_cases)),
            agents=int(env_number("BENCH_SUITE_AGENTS", cls.agents)),
            warmup=int(env_number("BENCH_SUITE_WARMUP", cls.warmup)),
            ready_timeout=env_number("BENCH_SUITE_READY_TIMEOUT", cls.ready_timeout, integer=False),
            settle_timeout=env_number("BENCH_SUITE_SETTLE_TIMEOUT", cls.settle_timeout, integer=False),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "emails": self.emails,
            "smtp_sessions": self.smtp_sessions,
            "forms": self.forms,
            "http_clients": self.http_clients,
            "min_seconds": self.seconds,
            "api_rate_per_s": self.api_rate,
            "api_min_seconds": self.api_seconds,
            "api_cases": self.api_cases,
            "agents_requested": self.agents,
            "warmup_per_channel": self.warmup,
            "settle_timeout_s": self.settle_timeout,
        }


@dataclass
class SuiteRun:
    measurements: list[Measurement]
    diagnostics: dict[str, Any]


async def suite_bench(
    config: SuiteBenchConfig,
    postgres: EmbeddedPostgres,
    bootstrap: str,
    *,
    stall_timeout: float,
    say: Callable[[str], None],
) -> SuiteRun:
    """Start the suite on the run's servers, load it, and return its rows; the suite is stopped either way."""
    run = uuid.uuid4().hex[:8]
    database = f"omnicase_bench_suite_{run}"
    await asyncio.to_thread(postgres.ensure_database, database)
    password = secrets.token_urlsafe(18)
    root = Path(tempfile.mkdtemp(prefix="omnicase-bench-suite-"))
    stack = SuiteStack(
        root,
        env={
            "DATABASE_URL": postgres.url(database),
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "OMNICASE_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
            "OMNICASE_BOOTSTRAP_ADMIN_PASSWORD": password,
            "OMNICASE_READY_TIMEOUT": str(config.ready_timeout),
            "GATEWAY_RATE_LIMIT_IP_REQUESTS": str(RAISED_RATE_LIMIT),
            "GATEWAY_RATE_LIMIT_TOKEN_REQUESTS": str(RAISED_RATE_LIMIT),
        },
    )
    started = time.perf_counter()
    failed = True
    stack.start()
    try:
        try:
            await asyncio.to_thread(stack.wait_ready, "gateway", config.ready_timeout)
        except StackError as error:
            # Its log tail is added below, once.
            raise BenchError(f"the suite did not start: {str(error).splitlines()[0]}") from None
        up_seconds = time.perf_counter() - started
        say(f"  suite up in {up_seconds:.1f}s ({root}); configuring it through the gateway …")
        # A timed round sends as many as the suite takes: room for RATE_CEILING per channel for its length.
        per_channel = max(config.emails, config.forms, math.ceil(RATE_CEILING * config.seconds))
        agents = agents_needed(config.agents, config.warmup * 2 + 2 * per_channel + config.api_cases)
        try:
            setup = await configure_suite(
                stack.url(),
                ADMIN_EMAIL,
                password,
                run=run,
                agents=agents,
                forms=config.forms,
                api_cases=config.api_cases,
            )
        except (SetupError, httpx.HTTPError) as error:
            raise BenchError(f"configuring the suite failed: {error}") from None
        say(f"  configured in {time.perf_counter() - started - up_seconds:.1f}s ({agents} agents online)")
        observer = PipelineObserver(run, bootstrap)
        await observer.start()
        try:
            postgres_pid = postgres.process.pid if postgres.process is not None else None
            dsn = f"postgresql://postgres@{postgres.host}:{postgres.port}/{database}"
            result = await _load(config, stack, setup, observer, run, stall_timeout, say, postgres_pid, dsn)
        finally:
            await observer.stop()
        result.diagnostics["summary"].append(
            f"suite: started in {up_seconds:.1f}s; {agents} agents online, capacity {AGENT_CAPACITY} each; gateway "
            f"rate limits raised for this run (RateLimit-Policy: {setup.rate_limit_policy})"
        )
        result.diagnostics |= {
            "config": {**config.as_json(), "agents_online": agents},
            "run": run,
            "suite_start_seconds": round(up_seconds, 1),
            "gateway_rate_limit_policy": setup.rate_limit_policy,
        }
        failed = False
        return result
    except BenchError as error:
        raise BenchError(f"{error}\n--- omnicase up (last lines; kept in {root}) ---\n{stack.log_tail(2500)}") from None
    finally:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(stack.stop, 60)
        stack.close()
        if not failed:
            shutil.rmtree(root, ignore_errors=True)


async def _load(
    config: SuiteBenchConfig,
    stack: SuiteStack,
    setup: SuiteSetup,
    observer: PipelineObserver,
    run: str,
    stall_timeout: float,
    say: Callable[[str], None],
    postgres_pid: int | None,
    postgres_dsn: str,
) -> SuiteRun:
    intake = _Intake(config, stack, setup, observer, run, stall_timeout)
    warm_started = time.perf_counter()
    await intake.round(IntakeResult("email", config.warmup), IntakeResult("web", config.warmup), first=0)
    say(
        f"  warm-up ({config.warmup} mails, {config.warmup} forms through to their SLA clocks) took "
        f"{time.perf_counter() - warm_started:.1f}s; now at least {config.emails} mails over "
        f"{config.smtp_sessions} SMTP sessions and {config.forms} forms over {config.http_clients} clients, "
        f"for at least {config.seconds:g}s, agent console at {config.api_rate:g} requests/s …"
    )
    emails, forms = IntakeResult("email", config.emails), IntakeResult("web", config.forms)
    settled = asyncio.Event()
    async with httpx.AsyncClient(
        base_url=stack.url(),
        timeout=30,
        headers={"Authorization": f"Bearer {setup.agent_token}"},
        limits=httpx.Limits(max_connections=CONSOLE_CONNECTIONS, max_keepalive_connections=CONSOLE_CONNECTIONS),
    ) as console:
        # The console's first answers (login session cached, connections opened) are no part of the load.
        await console.get("/api/v1/cases", params={"assignee_id": setup.agent_ids[0], "limit": 25})
        await console.get(f"/api/v1/cases/{next(iter(setup.api_cases))}")
        meter = CpuMeter()
        cpu_before = CpuSnapshot.take(postgres_pid)
        api = asyncio.create_task(
            api_load(
                console,
                agent_id=setup.agent_ids[0],
                cases=setup.api_cases,
                rate=config.api_rate,
                min_seconds=config.api_seconds,
                stop=settled,
                max_connections=CONSOLE_CONNECTIONS,
            )
        )
        try:
            await intake.round(emails, forms, first=config.warmup, min_seconds=config.seconds)
            cpu = meter.usage()
            carried = len(emails.accepted) + len(forms.accepted)
            cpu_after = CpuSnapshot.take(postgres_pid)
            cpu_per_message = cpu_after.ms_per_message(cpu_before, carried)
            # The same path well below saturation: latency without the backlog of the round above.
            paced_emails, email_rate = _paced(emails, observer)
            paced_forms, form_rate = _paced(forms, observer)
            say(
                f"  full speed: {_through_rate(emails, observer) or 0:.1f} mails/s and "
                f"{_through_rate(forms, observer) or 0:.1f} forms/s all the way to their SLA clocks; "
                f"waiting for the work behind them (acknowledgements, auto-replies, read models) to be done …"
            )
            # A paced round started now would measure the backlog behind the SLA clocks, not the
            # path below saturation.
            drained = await until_drained(
                postgres_dsn, {name: stack.url(name) for name in SUITE_SERVICES}, within=config.settle_timeout
            )
            # What the messages still cost once their SLA clocks were set (a consumer behind, the
            # relays, acknowledgements): it is part of each message's price too.
            behind = CpuSnapshot.take(postgres_pid).ms_per_message(cpu_after, carried)
            host = drained.host_cpu_pct
            idle = "" if host is None else f"; host CPU then {host:.0f}% (console load on)"
            settle = (
                f"paced round began {drained.seconds:.1f}s after the full-speed one, once every outbox was "
                f"published and every consumer caught up for 2s{idle}"
                if drained.backlog.empty
                else f"paced round began after {drained.seconds:.0f}s with work still queued "
                f"({drained.backlog.describe()})"
            )
            say(
                f"  {settle}; now {paced_emails.sent} mails at {email_rate:.1f}/s and {paced_forms.sent} forms at "
                f"{form_rate:.1f}/s …"
            )
            paced_meter = CpuMeter()
            first = config.warmup + max(emails.sent, forms.sent)
            paced_since, paced_before = datetime.now(UTC), CpuSnapshot.take(postgres_pid)
            await intake.round(paced_emails, paced_forms, first=first, email_rate=email_rate, form_rate=form_rate)
            paced_cpu = paced_meter.usage()
            paced_parts = CpuSnapshot.take(postgres_pid).ms_per_message(
                paced_before, len(paced_emails.accepted) + len(paced_forms.accepted)
            )
            hops = await paced_hops(postgres_dsn, paced_since, _case_ids(observer, paced_emails, paced_forms))
            settled.set()
            try:
                # What is left of its minimum duration, then the answers still in flight (30 s timeout each).
                api_result = await asyncio.wait_for(asyncio.shield(api), timeout=config.api_seconds + 60)
            except TimeoutError:
                raise BenchError("the suite API load did not finish after the intake settled") from None
        finally:
            if not api.done():
                api.cancel()
                with contextlib.suppress(BaseException):
                    await api
    measurements = [
        _end_to_end_row(emails, forms, observer, cpu),
        *_intake_rows(emails, observer, f"{config.smtp_sessions} SMTP sessions", "250", cpu),
        *_intake_rows(forms, observer, f"{config.http_clients} HTTP clients", "2xx", cpu),
        *_intake_rows(paced_emails, observer, f"paced at {email_rate:.1f}/s", "250", paced_cpu, paced=True),
        *_intake_rows(paced_forms, observer, f"paced at {form_rate:.1f}/s", "2xx", paced_cpu, paced=True),
        *hops,
        *_api_rows(api_result, meter.usage()),
    ]
    diagnostics: dict[str, Any] = {
        "email": emails.as_json() | _stages(emails, observer),
        "web": forms.as_json() | _stages(forms, observer),
        "email_paced": paced_emails.as_json() | _stages(paced_emails, observer) | {"rate_per_s": email_rate},
        "web_paced": paced_forms.as_json() | _stages(paced_forms, observer) | {"rate_per_s": form_rate},
        "api": api_result.as_json(),
        "warmup_per_channel": config.warmup,
        "duplicates": observer.duplicates,
        "cpu_ms_per_message": cpu_per_message,
        "cpu_ms_per_message_after": behind,
        "cpu_ms_per_message_paced": paced_parts,
        "summary": [
            *_summary(emails, forms, paced_emails, paced_forms, observer, api_result),
            f"suite paced: {settle}",
            "suite CPU ms per message at full speed (console load included): "
            + ", ".join(f"{part} {ms:g}" for part, ms in cpu_per_message.items())
            + f", total {sum(cpu_per_message.values()):.1f}",
            "suite CPU ms per message spent after the full-speed round, while the suite settled: "
            + ", ".join(f"{part} {ms:g}" for part, ms in behind.items() if ms >= 0.01)
            + f", total {sum(behind.values()):.1f}",
            "suite CPU ms per message in the paced round (console load included): "
            + ", ".join(f"{part} {ms:g}" for part, ms in paced_parts.items())
            + f", total {sum(paced_parts.values()):.1f}",
        ],
    }
    return SuiteRun(measurements, diagnostics)


class _Intake:
    """One round of intake load: send both channels at once, then wait until every accepted message is through."""

    def __init__(
        self,
        config: SuiteBenchConfig,
        stack: SuiteStack,
        setup: SuiteSetup,
        observer: PipelineObserver,
        run: str,
        stall_timeout: float,
    ) -> None:
        self.config = config
        self.stack = stack
        self.setup = setup
        self.observer = observer
        self.run = run
        self.stall_timeout = stall_timeout

    async def round(
        self,
        emails: IntakeResult,
        forms: IntakeResult,
        *,
        first: int,
        email_rate: float | None = None,
        form_rate: float | None = None,
        min_seconds: float = 0.0,
    ) -> None:
        config, observer = self.config, self.observer
        senders = asyncio.gather(
            send_emails(
                emails,
                host="127.0.0.1",
                port=self.stack.port("intake-email", "smtp"),
                mailbox=self.setup.mailbox,
                run=self.run,
                sessions=config.smtp_sessions,
                first=first,
                rate=email_rate,
                min_seconds=min_seconds,
            ),
            post_forms(
                forms,
                base_url=self.stack.url(),
                form_id=self.setup.form_id,
                run=self.run,
                clients=config.http_clients,
                first=first,
                rate=form_rate,
                min_seconds=min_seconds,
            ),
        )

        def answered() -> int:
            return len(emails.accepted) + len(emails.failed) + len(forms.accepted) + len(forms.failed)

        await await_with_progress(
            senders,
            what="suite intake senders",
            progress=answered,
            target=emails.sent + forms.sent,
            stall_timeout=self.stall_timeout,
        )
        _check_refused(emails, forms)
        accepted = {a.key for a in emails.accepted} | {a.key for a in forms.accepted}

        def reached() -> int:
            return sum(
                1 + (p.assigned_at is not None) + (p.sla_at is not None)
                for key, p in observer.by_key.items()
                if key in accepted
            )

        def observer_alive() -> None:
            if observer.failure is not None:
                raise BenchError(f"the bench's observer stopped: {observer.failure!r}")
            if observer.duplicates:
                raise BenchError(f"messages that became two cases: {observer.duplicates}")

        async def all_through() -> None:
            while True:
                observer.changed.clear()
                if reached() >= 3 * len(accepted) or observer.failure is not None:
                    return
                await observer.changed.wait()

        await await_with_progress(
            all_through(),
            what="suite pipeline (case created, assigned, SLA milestones set)",
            progress=reached,
            target=3 * len(accepted),
            stall_timeout=self.stall_timeout,
            check=observer_alive,
            detail=lambda: _missing(observer, accepted),
        )
        observer_alive()


def _case_ids(observer: PipelineObserver, *results: IntakeResult) -> list[uuid.UUID]:
    return [observer.by_key[a.key].case_id for result in results for a in result.accepted if a.key in observer.by_key]


def _stages(result: IntakeResult, observer: PipelineObserver) -> dict[str, int]:
    progress = [observer.by_key[a.key] for a in result.accepted if a.key in observer.by_key]
    return {
        "cases_created": len(progress),
        "cases_assigned": sum(p.assigned_at is not None for p in progress),
        "cases_with_sla_milestones": sum(p.sla_at is not None for p in progress),
    }


def _check_refused(*results: IntakeResult) -> None:
    failed = {f"{r.channel} {key}": reason for r in results for key, reason in r.failed.items()}
    if failed:
        sample = "; ".join(f"{key}: {reason}" for key, reason in list(failed.items())[:5])
        raise BenchError(f"{len(failed)} messages were never accepted by the suite ({sample})")


def _missing(observer: PipelineObserver, accepted: set[str]) -> str:
    progress = {key: p for key, p in observer.by_key.items() if key in accepted}
    never = sorted(accepted - progress.keys())
    unassigned = sorted(key for key, p in progress.items() if p.assigned_at is None)
    untimed = sorted(key for key, p in progress.items() if p.sla_at is None)
    return (
        f"of {len(accepted)} accepted: {len(never)} never became cases {never[:10]}, "
        f"{len(unassigned)} not assigned {unassigned[:10]}, {len(untimed)} without SLA milestones {untimed[:10]}"
    )


_STAGES = (
    ("created", "case created", "case.created envelope time (case-core's transaction)"),
    ("assigned", "case assigned", "case.updated setting assignee_id, envelope time (case-core's transaction)"),
    ("sla", "SLA milestones set", "sla.clocks_started envelope time (sla-engine's transaction)"),
)


def _intake_rows(
    result: IntakeResult,
    observer: PipelineObserver,
    how: str,
    ack: str,
    cpu: CpuUsage | None,
    *,
    paced: bool = False,
) -> list[Measurement]:
    """Accepted (full speed only) and each stage; a paced round's rows say its rate and are keyed ``…_paced_…``."""
    label = {"email": "email", "web": "web form"}[result.channel]
    key = f"suite_{result.channel}_paced" if paced else f"suite_{result.channel}"
    if paced:
        label = f"{label} {how},"
    first = result.first_sent()
    last = result.last_accepted()
    accept_what = "MAIL FROM sent to 250 after DATA" if result.channel == "email" else "POST sent to 202 received"
    rows = []
    if not paced:
        rows.append(
            Measurement(
                f"{key}_accepted",
                f"suite: {label} accepted ({how})",
                len(result.accepted),
                last - first if first is not None and last is not None else None,
                [a.latency_ms for a in result.accepted],
                f"{accept_what} (the accepted attempt)",
                cpu=cpu,
            )
        )
    for stage, title, moment in _STAGES:
        latencies: list[float] = []
        reached_last: float | None = None
        for accepted in result.accepted:
            progress = observer.by_key.get(accepted.key)
            at = None if progress is None else getattr(progress, f"{stage}_at")
            if at is None:
                continue
            latencies.append((at - accepted.accepted_at) * 1000)
            reached_last = at if reached_last is None else max(reached_last, at)
        rows.append(
            Measurement(
                f"{key}_{stage}",
                f"suite: {label} {ack} -> {title}",
                len(latencies),
                reached_last - first if reached_last is not None and first is not None else None,
                latencies,
                f"{ack} received by the sender to {moment}",
                cpu=cpu,
            )
        )
    return rows


def _end_to_end_row(
    emails: IntakeResult, forms: IntakeResult, observer: PipelineObserver, cpu: CpuUsage | None
) -> Measurement:
    """Both channels at once: every accepted message, from the first send to the last SLA clock set."""
    latencies: list[float] = []
    firsts: list[float] = []
    last: float | None = None
    for result in (emails, forms):
        if (first := result.first_sent()) is not None:
            firsts.append(first)
        for accepted in result.accepted:
            progress = observer.by_key.get(accepted.key)
            if progress is None or progress.sla_at is None:
                continue
            latencies.append((progress.sla_at - accepted.accepted_at) * 1000)
            last = progress.sla_at if last is None else max(last, progress.sla_at)
    return Measurement(
        "suite_end_to_end",
        "suite: end to end, both channels (accepted -> SLA milestones set)",
        len(latencies),
        last - min(firsts) if last is not None and firsts else None,
        latencies,
        "250 / 2xx received by the sender to the first poll of sla_engine.milestones showing due times",
        cpu=cpu,
    )


def _through_rate(result: IntakeResult, observer: PipelineObserver) -> float | None:
    """Messages per second from the first send to the last SLA clock set: what the whole pipeline kept up with."""
    first = result.first_sent()
    done = [observer.by_key[a.key].sla_at for a in result.accepted if a.key in observer.by_key]
    last = max((at for at in done if at is not None), default=None)
    if first is None or last is None or last <= first:
        return None
    return len(done) / (last - first)


def _paced(result: IntakeResult, observer: PipelineObserver) -> tuple[IntakeResult, float]:
    """A round at :data:`PACED_SHARE` of what the pipeline kept up with, for about :data:`PACED_SECONDS`."""
    rate = PACED_SHARE * (_through_rate(result, observer) or 1.0)
    count = max(PACED_MIN, min(max(PACED_MIN, result.sent // 2), round(rate * PACED_SECONDS)))
    return IntakeResult(result.channel, count), rate


def _api_rows(result: ApiResult, cpu: CpuUsage) -> list[Measurement]:
    rows = []
    for name, stats in result.operations.items():
        errors = sum(stats.errors.values())
        share = MIX.count(name) / len(MIX)
        rows.append(
            Measurement(
                f"suite_api_{name}",
                f"suite api: {LABELS[name]} @{result.rate * share:g}/s, {errors} errors",
                stats.sent,
                result.seconds,
                stats.latencies_ms,
                "scheduled send time (open loop) to 2xx answer received",
                cpu=cpu,
                errors=dict(stats.errors),
                # A read is no INSERT; only the change is compared with the ceiling.
                compare_to_ceiling=name == "update",
            )
        )
    return rows


def _summary(
    emails: IntakeResult,
    forms: IntakeResult,
    paced_emails: IntakeResult,
    paced_forms: IntakeResult,
    observer: PipelineObserver,
    api: ApiResult,
) -> list[str]:
    lines = []
    for result, what in ((emails, ""), (forms, ""), (paced_emails, " paced"), (paced_forms, " paced")):
        keys = {a.key for a in result.accepted}
        stages = _stages(result, observer)
        lines.append(
            f"suite {result.channel}{what}: {result.sent} sent, {len(result.accepted)} accepted"
            f" ({sum(result.refusals.values())} temporary refusals retried), {stages['cases_created']} cases, "
            f"{stages['cases_assigned']} assigned, {stages['cases_with_sla_milestones']} with SLA milestones, "
            f"{sum(1 for key in observer.duplicates if key in keys)} duplicated"
        )
    errors = {name: dict(stats.errors) for name, stats in api.operations.items() if stats.errors}
    lines.append(
        f"suite api: open loop at {api.rate:g}/s for {api.seconds:.1f}s (mix {':'.join(MIX)}), "
        f"errors {errors or 'none'}; {api.queued} waited for one of {CONSOLE_CONNECTIONS} connections, "
        f"{api.late_starts} issued >10 ms late by the bench itself (both counted in latency)"
    )
    return lines
