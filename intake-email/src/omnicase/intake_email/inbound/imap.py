"""IMAP polling of existing mailboxes (IMAPS or STARTTLS), resumable and exact.

Per account, each poll:

1. leases the account's cursor row (one poller per account across replicas);
2. selects the folder and reads ``UIDVALIDITY``; if it changed since the cursor was
   written the server renumbered the folder, so the cursor restarts at 0 (mail seen
   before is recognised by Message-ID and not stored twice);
3. fetches each message with a UID above the cursor, in UID order, and stores it in
   the same transaction that advances the cursor past it: a crash loses nothing and
   fetches nothing twice;
4. only then marks it on the server (moves it to ``processed_folder``, or flags it
   ``\\Seen``). A crash between 3 and 4 leaves it unmarked but never re-fetched.

A message that cannot be taken in (no sender address) is left in the folder, logged
with the reason, and passed by the cursor. ``imaplib`` is blocking, so every IMAP call
runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from omnicase.intake_email.inbound.repository import ImapCursorRepository
from omnicase.intake_email.inbound.service import Inbound, IntakeService, NoSenderAddress, count_received
from omnicase.intake_email.mailboxes.repository import MailboxRepository
from omnicase.intake_email.parsing.mime import parse_without_blocking
from omnicase.intake_email.settings import ImapAccount, IntakeEmailSettings
from omnicase.kit.app import Runtime
from omnicase.kit.clock import get_clock, utcnow
from omnicase.kit.inputs import email_key

if TYPE_CHECKING:
    from omnicase.intake_email.state import IntakeEmailRuntime

logger = logging.getLogger(__name__)

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_RETURN_PATH = re.compile(rb"^Return-Path:[ \t]*(<[^>\r\n]*>|[^\r\n]*)", re.IGNORECASE | re.MULTILINE)


class ImapError(Exception):
    pass


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(result: tuple[str, Sequence[Any]], what: str) -> Sequence[Any]:
    status, data = result
    if status != "OK":
        raise ImapError(f"{what} failed: {data!r}")
    return data


class ImapSession:
    """One logged-in, folder-selected connection (blocking calls; run them in a thread)."""

    def __init__(self, account: ImapAccount, timeout: float) -> None:
        self.account = account
        context = ssl.create_default_context(cafile=account.ca_file) if account.security != "none" else None
        client: imaplib.IMAP4
        if account.security == "ssl":
            client = imaplib.IMAP4_SSL(account.host, account.port, ssl_context=context, timeout=timeout)
        else:
            client = imaplib.IMAP4(account.host, account.port, timeout=timeout)
            if account.security == "starttls":
                client.starttls(ssl_context=context)
        self.client = client
        try:
            _check(client.login(account.username, account.password.get_secret_value()), "LOGIN")
            _check(client.select(_quote(account.folder)), f"SELECT {account.folder}")
        except Exception:
            self.close()
            raise
        found = client.response("UIDVALIDITY")[1]
        if not found or found[0] is None:
            raise ImapError("the server reported no UIDVALIDITY")
        self.uidvalidity = int(found[0])
        self.capabilities = {str(item).upper() for item in client.capabilities}

    def uids_after(self, last_uid: int) -> list[int]:
        data = _check(self.client.uid("SEARCH", f"UID {last_uid + 1}:*"), "UID SEARCH")
        raw = data[0] if data and isinstance(data[0], bytes) else b""
        # "n:*" always matches the highest UID, even one at or below n.
        return sorted(uid for uid in (int(token) for token in raw.split()) if uid > last_uid)

    def fetch(self, uid: int) -> bytes | None:
        data = _check(self.client.uid("FETCH", str(uid), "(BODY.PEEK[])"), "UID FETCH")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None  # expunged meanwhile

    def mark_processed(self, uid: int) -> None:
        target = self.account.processed_folder
        if target is None:
            _check(self.client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)"), "UID STORE")
            return
        if "MOVE" in self.capabilities:
            _check(self.client.uid("MOVE", str(uid), _quote(target)), "UID MOVE")
            return
        _check(self.client.uid("COPY", str(uid), _quote(target)), "UID COPY")
        _check(self.client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)"), "UID STORE")
        if "UIDPLUS" in self.capabilities:
            _check(self.client.uid("EXPUNGE", str(uid)), "UID EXPUNGE")
        else:
            _check(self.client.expunge(), "EXPUNGE")

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:
            logger.debug("IMAP logout failed", exc_info=True)


def envelope_sender_of(raw: bytes) -> str | None:
    """The envelope sender the final server recorded; "" for the null sender."""
    match = _RETURN_PATH.search(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0])
    if match is None:
        return None
    value = match.group(1).decode("ascii", "replace").strip()
    if value in ("<>", ""):
        return ""
    return email_key(parseaddr(value)[1]) or None


class ImapPoller:
    def __init__(self, runtime: Runtime[IntakeEmailSettings, Any]) -> None:
        self.runtime = runtime
        self.settings = runtime.settings

    async def poll(self, account: ImapAccount) -> int:
        """One poll of one account; returns how many messages were taken in."""
        database = self.runtime.database
        lease = timedelta(seconds=self.settings.imap_timeout_seconds * 3)
        async with database.unit_of_work() as db:
            cursor = await ImapCursorRepository(db).lease(account.key, utcnow(), utcnow() + lease)
        if cursor is None:
            return 0
        error: str | None = None
        taken = 0
        session: ImapSession | None = None
        try:
            session = await asyncio.to_thread(ImapSession, account, self.settings.imap_timeout_seconds)
            last_uid = int(cursor.last_uid)
            if cursor.uidvalidity is not None and int(cursor.uidvalidity) != session.uidvalidity:
                logger.warning("IMAP UIDVALIDITY changed; rescanning the folder", extra={"account": account.key})
                last_uid = 0
            for uid in await asyncio.to_thread(session.uids_after, last_uid):
                raw = await asyncio.to_thread(session.fetch, uid)
                if raw is None:  # expunged since the search
                    await self._advance(account, session.uidvalidity, uid)
                elif await self._take_in(account, raw, uid, session.uidvalidity):
                    await asyncio.to_thread(session.mark_processed, uid)
                    taken += 1
                last_uid = uid
            if cursor.uidvalidity is None or int(cursor.uidvalidity) != session.uidvalidity:
                await self._advance(account, session.uidvalidity, last_uid)
        except Exception as failure:
            error = repr(failure)
            logger.warning("IMAP poll failed", extra={"account": account.key, "error": error})
        finally:
            if session is not None:
                await asyncio.to_thread(session.close)
            # Even when shutdown cancels the poll: a lease left behind would stall the account.
            await asyncio.shield(self._release(account, error))
        return taken

    async def _release(self, account: ImapAccount, error: str | None) -> None:
        async with self.runtime.database.unit_of_work() as db:
            await ImapCursorRepository(db).release(account.key, utcnow(), error)

    async def _advance(self, account: ImapAccount, uidvalidity: int, uid: int) -> None:
        async with self.runtime.database.unit_of_work() as db:
            await ImapCursorRepository(db).advance(account.key, uidvalidity, uid)

    async def _take_in(self, account: ImapAccount, raw: bytes, uid: int, uidvalidity: int) -> bool:
        """Store the message and move the cursor past it, in one transaction; False when rejected."""
        parsed = await parse_without_blocking(raw)
        inbound = Inbound(
            raw=raw,
            route="imap",
            envelope_from=envelope_sender_of(raw),
            envelope_to=[email_key(account.mailbox)],
            peer=account.host,
        )
        try:
            async with self.runtime.database.unit_of_work() as db:
                mailbox = await MailboxRepository(db).by_address(account.mailbox)
                if mailbox is None:
                    raise ImapError(f"no mailbox {account.mailbox} is configured for IMAP account {account.key}")
                service = IntakeService(
                    db,
                    outbox=self.runtime.outbox,
                    blobs=self.runtime.blobs,
                    settings=self.settings,
                    source=self.runtime.spec.name,
                )
                results = await service.receive(inbound, parsed, [mailbox])
                await ImapCursorRepository(db).advance(account.key, uidvalidity, uid)
            count_received("imap", results)
        except NoSenderAddress as error:
            logger.warning("IMAP message rejected", extra={"account": account.key, "uid": uid, "reason": str(error)})
            await self._advance(account, uidvalidity, uid)
            return False
        return True

    async def poll_all(self) -> int:
        results = await asyncio.gather(*(self.poll(account) for account in self.settings.imap_accounts))
        return sum(results)


async def start_imap_poller(runtime: IntakeEmailRuntime) -> Callable[[], Awaitable[None]] | None:
    """Background starter: the state's poller, every configured account in turn."""
    settings, poller = runtime.settings, runtime.state.imap
    if not settings.imap_accounts:
        return None

    stopping = asyncio.Event()

    async def loop() -> None:
        clock = get_clock()
        while not stopping.is_set():
            try:
                await poller.poll_all()
            except Exception:
                logger.exception("IMAP polling round failed")
            sleep = asyncio.ensure_future(clock.sleep(settings.imap_poll_interval_seconds))
            stop_wait = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({sleep, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            sleep.cancel()
            stop_wait.cancel()

    task = asyncio.create_task(loop(), name="intake-email-imap")

    async def stop() -> None:
        # Let a poll in progress finish (its cursor and lease stay consistent), then stop.
        stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=settings.imap_timeout_seconds)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return stop
