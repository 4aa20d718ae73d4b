"""Configuration cached in each process, invalidated on change in any process.

A service's configuration (routing rules and queues, SLA policies and schedules, triggers,
form definitions, mailboxes …) changes rarely and is read on every event or request, so
it is loaded once and kept in the process. What tells a process that its copy is stale
is one row per schema, ``<schema>.config_version``, whose ``version`` moves with every
write to the tables the configuration is read from:

- **Nothing can forget to bump it.** The service's migration installs statement
  triggers on those tables (:func:`omnicase.ops.migrations.install_config_version`); any INSERT, UPDATE, DELETE
  or TRUNCATE, through the API or by hand, moves the version in the same transaction.
- **Never a reused number.** Versions come from a sequence, so a change rolled back
  cannot leave a version that a later, committed change will use again.
- **Never stale.** :meth:`VersionedCache.current` reads the version (one primary-key
  read) *before* loading, so a cached copy is at worst newer than its label (a change
  committed between the two reads), which only costs one extra reload.
- **One read per transaction, where asked.** A cache built with
  ``once_per_transaction=True`` remembers the version it read for the rest of the
  session's transaction (a consumer's batch, a request), so a hot path asking for the
  configuration once per event pays one primary-key read per batch, and every event of
  the batch sees the same configuration. Such a cache does not see configuration its own
  transaction writes after the first read; use it only where configuration is written by
  other transactions (its API's own requests).

The watched tables should hold only configuration: a hot-path write to one of them would
reload the cache on every batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import BigInteger, Column, MetaData, SmallInteger, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


def config_version_table(metadata: MetaData) -> Table:
    return Table(
        "config_version",
        metadata,
        Column("id", SmallInteger, primary_key=True),
        Column("version", BigInteger, nullable=False),
    )


async def read_config_version(session: AsyncSession, table: Table, *, once_per_transaction: bool = False) -> int:
    """The configuration's version; ``once_per_transaction``: the first read of this transaction, remembered."""
    key = ("config_version", table.fullname)
    if once_per_transaction:
        remembered = session.info.get(key)
        transaction = session.sync_session.get_transaction()
        if remembered is not None and transaction is not None and remembered[0] is transaction:
            return int(remembered[1])
    version = int(await session.scalar(select(table.c.version).where(table.c.id == 1)) or 0)
    if once_per_transaction:
        session.info[key] = (session.sync_session.get_transaction(), version)
    return version


@dataclass
class _Loaded(Generic[T]):
    version: int
    value: T


class VersionedCache(Generic[T]):
    """A value loaded from the database once per configuration version; one per process."""

    def __init__(
        self, table: Table, load: Callable[[AsyncSession, int], Awaitable[T]], *, once_per_transaction: bool = False
    ) -> None:
        self.table = table
        self._load = load
        self.once_per_transaction = once_per_transaction
        self._loaded: _Loaded[T] | None = None
        self.loads = 0

    async def current(self, session: AsyncSession) -> T:
        """The value as of now: one primary-key read, and a reload only when the version moved."""
        version = await read_config_version(session, self.table, once_per_transaction=self.once_per_transaction)
        if self._loaded is None or self._loaded.version != version:
            self._loaded = _Loaded(version, await self._load(session, version))
            self.loads += 1
        return self._loaded.value
