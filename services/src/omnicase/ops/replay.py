"""Publish the suite's outboxes again after a broker lost data (``omnicase outbox replay``).

A broker that loses its log (the embedded Tansu restarted, a production Kafka cluster
rebuilt from scratch) loses every event that some consumer had not read yet. Each
service still holds what it published in its outbox for the relay's retention (an
hour), so marking those rows unpublished makes every service's relay send them
again; consumers' inboxes drop the ones they had already applied.

:func:`parse_since` reads the operator's ``--since`` (``90s``, ``15m``, ``1h30m``,
``2d`` or an RFC 3339 time with its offset); :func:`replay_suite` replays the outbox
of every installed service that has one, or of the ones named.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database, create_engine, service_metadata
from omnicase.kit.outbox import DEFAULT_RETENTION, REPLAY_LOCK, outbox_lock_class, outbox_table
from omnicase.kit.service import ServiceSpec

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


@dataclass(frozen=True)
class ReplayResult:
    """What :func:`replay_published_since` did to one outbox."""

    rows: int  # rows marked for publication again (or that would be, in a dry run)
    oldest_kept: datetime | None  # publication time of the oldest published row still kept


async def replay_published_since(
    session: AsyncSession, table: Table, since: datetime, *, dry_run: bool = False
) -> ReplayResult:
    """Mark every row published at or after ``since`` unpublished, so the relay sends it again.

    Call it in a transaction of its own; the rows go out once it commits. It first
    waits for relay batches in flight (they hold the replay lock shared), so a row
    the relay is still marking published is replayed too. Rows published before
    ``oldest_kept`` were already deleted by the relay's retention and cannot be
    replayed. For per-key order on a new, empty broker, replay before the relays can
    reach it (services stopped, or topics not created yet): the relay sends a
    shard's unpublished rows in id order, so replayed rows then precede newer ones.
    """
    schema = table.schema or "public"
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": outbox_lock_class(schema), "k": REPLAY_LOCK}
    )
    oldest_kept = await session.scalar(select(func.min(table.c.published_at)))
    replayed = table.c.published_at >= since
    if dry_run:
        rows = int(await session.scalar(select(func.count()).where(replayed)) or 0)
    else:
        result = await session.execute(update(table).where(replayed).values(published_at=None))
        rows = int(getattr(result, "rowcount", 0) or 0)
    return ReplayResult(rows=rows, oldest_kept=oldest_kept)


class ReplayError(ValueError):
    """The replay was asked for something it cannot do; nothing was changed."""


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """The moment ``--since`` names: a duration back from ``now`` or an RFC 3339 time."""
    now = now or utcnow()
    value = value.strip()
    match = _DURATION.fullmatch(value)
    if value and match is not None:
        days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if span <= timedelta(0):
            raise ReplayError(f"--since {value!r}: the duration must be longer than zero")
        return now - span
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ReplayError(
            f"--since {value!r} is neither a duration (90s, 15m, 1h, 1h30m, 2d) "
            "nor an RFC 3339 time (2026-11-23T14:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise ReplayError(f"--since {value!r}: give the time's UTC offset (…Z or …+01:00)")
    if moment > now:
        raise ReplayError(f"--since {value!r} is in the future")
    return moment


def select_services(installed: Sequence[ServiceSpec], names: Sequence[str]) -> list[ServiceSpec]:
    """The named services (every installed one when none is named), refusing unknown names."""
    if not names:
        return list(installed)
    by_name = {spec.name: spec for spec in installed}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name))
        raise ReplayError(f"unknown service {', '.join(map(repr, unknown))}; installed: {known}")
    return [by_name[name] for name in dict.fromkeys(names)]


@dataclass(frozen=True)
class ServiceReplay:
    service: str
    result: ReplayResult


async def services_with_table(database: Database, specs: Sequence[ServiceSpec], table: str) -> list[ServiceSpec]:
    """Those of ``specs`` whose schema holds the kit table ``table`` (``outbox`` or ``inbox``)."""
    found: list[ServiceSpec] = []
    async with database.unit_of_work() as session:
        for spec in specs:
            exists = await session.scalar(
                text("SELECT to_regclass(:name) IS NOT NULL"), {"name": f'"{spec.schema}".{table}'}
            )
            if exists:
                found.append(spec)
    return found


async def replay_suite(
    database_url: str,
    specs: Sequence[ServiceSpec],
    since: datetime,
    *,
    require_outbox: bool = False,
    dry_run: bool = False,
) -> list[ServiceReplay]:
    """Replay the outbox of each of ``specs`` that has one, each in its own transaction.

    With ``require_outbox`` (services the operator named), a service without an outbox
    is an error raised before any outbox is touched.
    """
    engine = create_engine(database_url, pool_size=1)
    database = Database(engine)
    try:
        with_outbox = await services_with_table(database, specs, "outbox")
        missing = [spec.name for spec in specs if spec not in with_outbox]
        if require_outbox and missing:
            raise ReplayError(f"{', '.join(missing)} has no outbox (it publishes no events); nothing was replayed")
        replays: list[ServiceReplay] = []
        for spec in with_outbox:
            table = outbox_table(service_metadata(spec.schema))
            async with database.unit_of_work() as session:
                result = await replay_published_since(session, table, since, dry_run=dry_run)
            replays.append(ServiceReplay(spec.name, result))
        return replays
    finally:
        await engine.dispose()


def describe(replays: Sequence[ServiceReplay], since: datetime, *, dry_run: bool = False) -> list[str]:
    """Lines for the operator: what each outbox replayed, and what was already too old to keep."""
    verb = "would publish again" if dry_run else "publishing again"
    lines = [
        f"{replay.service}: {verb} {replay.result.rows} events published since {since.isoformat()}"
        for replay in replays
    ]
    if since < utcnow() - DEFAULT_RETENTION:
        lines.append(
            f"note: outboxes keep published events for {DEFAULT_RETENTION}; "
            "older ones were already deleted and cannot be replayed"
        )
    return lines
