"""Mailboxes kept in the process, so SMTP ``RCPT`` and ``DATA`` do not read them per message.

Changes made through this process empty the cache when their transaction commits;
changes made through another replica are noticed by :meth:`MailboxCache.check`, run every
``mailbox_cache_check_seconds``: one tiny read of the table's generation (bumped by a
statement trigger on every insert, update or delete of ``mailboxes``, whoever makes it); a
new generation empties the cache. An address not in the cache is looked up (and kept).
A mailbox deleted through another replica may thus take mail for up to that long: its
``DATA`` then fails on the stored message's foreign key and is answered 451.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.mailboxes.repository import MailboxRepository
from omnicase.intake_email.mailboxes.schemas import Mailbox
from omnicase.kit.db import Database
from omnicase.kit.inputs import email_key
from omnicase.kit.periodic import periodic

if TYPE_CHECKING:
    from omnicase.intake_email.state import IntakeEmailRuntime

logger = logging.getLogger(__name__)


class MailboxCache:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._by_address: dict[str, Mailbox] | None = None
        self._generation_seen: int | None = None
        # Bumped on every invalidation: a load that started before one is not kept.
        self._generation = 0

    async def _mailboxes(self) -> dict[str, Mailbox]:
        if self._by_address is not None:
            return self._by_address
        generation = self._generation
        async with self.database.unit_of_work() as session:
            repository = MailboxRepository(session)
            # The table's generation before its rows: a change committed in between makes the
            # next check reload (rows newer than the generation), never keeps rows older than it.
            seen = await repository.generation()
            loaded = {mailbox.address: mailbox for mailbox in await repository.all()}
        if generation == self._generation:
            self._by_address = loaded
            # The next check has nothing new to empty the cache for (it emptied a fresh load).
            self._generation_seen = seen
        return loaded

    async def by_address(self, address: str) -> Mailbox | None:
        """The mailbox at ``address``; raises the database's error when it cannot be read."""
        return (await self.by_addresses([address])).get(email_key(address))

    async def by_addresses(self, addresses: Sequence[str]) -> dict[str, Mailbox]:
        """The mailboxes at these addresses; an address not in the cache is looked up (it may be new)."""
        known = await self._mailboxes()
        wanted = {email_key(address) for address in addresses}
        found = {address: known[address] for address in wanted if address in known}
        missing = sorted(wanted - found.keys())
        if missing:
            # A mailbox created through another replica since the last check must not get a 550.
            generation = self._generation
            async with self.database.unit_of_work() as session:
                new = await MailboxRepository(session).by_addresses(missing)
            if new and generation == self._generation and self._by_address is not None:
                self._by_address.update(new)
            found.update(new)
        return {address: found[address] for address in sorted(found)}

    def invalidate(self) -> None:
        self._generation += 1
        self._by_address = None

    def invalidate_on_commit(self, session: AsyncSession) -> None:
        """Empty the cache now and again once ``session`` commits (a load in between saw the old rows)."""
        self.invalidate()

        def committed(_session: Any) -> None:
            self.invalidate()

        event.listen(session.sync_session, "after_commit", committed, once=True)

    def forget(self) -> None:
        """After a failed check: read everything again, so nothing is taken on rows that may have changed."""
        self.invalidate()
        self._generation_seen = None

    async def check(self) -> None:
        """Empty the cache when any mailbox changed since the last check (in any process)."""
        async with self.database.unit_of_work() as session:
            generation = await MailboxRepository(session).generation()
        if generation != self._generation_seen:
            self.invalidate()
            self._generation_seen = generation


async def start_mailbox_cache(runtime: IntakeEmailRuntime) -> Callable[[], Awaitable[None]]:
    """Background starter (before the listeners): the cache's check loop."""
    settings, cache = runtime.settings, runtime.state.mailboxes

    # A check that fails forgets every mailbox, so none is served from a copy that may be stale.
    loop = periodic(
        "intake-email-mailbox-cache",
        settings.mailbox_cache_check_seconds,
        cache.check,
        on_error=lambda _: cache.forget(),
    )
    return loop.stop
