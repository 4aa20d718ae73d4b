"""Intake load of the suite bench: mail over concurrent SMTP sessions, form posts over concurrent HTTP clients.

Each message carries a token of its run and its own key (``Bench <run> e17`` in the
subject), which case-core copies into the case's subject, so the observer can follow it
into ``case.events``. Every message has its own sender (an address sends a handful of
mails an hour; intake-email suspends runaway senders) and each form post its own
submission id, so a retry is the same submission.

Senders behave as real ones do: a temporary refusal (SMTP 4xx, HTTP 429/502/503/504, a
dropped connection) is retried with backoff, up to :data:`MAX_ATTEMPTS`, and counted; a
permanent one is recorded as a failure. Acceptance is the wall-clock moment the 250 or the
2xx reached the client; its latency is that attempt's transaction alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
import httpx

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 0.5
TEMPORARY_HTTP = {429, 502, 503, 504}
SUBJECT_TOKEN = re.compile(r"\bBench (?P<run>[0-9a-f]{8}) (?P<key>[ew]\d+)\b")


def subject_for(run: str, key: str) -> str:
    return f"Bench {run} {key}: my order has not arrived"


@dataclass(frozen=True)
class Accepted:
    key: str
    sent_at: float  # wall clock, first attempt
    accepted_at: float  # wall clock, the 250 / 2xx received
    latency_ms: float  # the accepted attempt alone
    attempts: int


@dataclass
class IntakeResult:
    channel: str
    sent: int  # how many to send; after a round with ``min_seconds``, how many were sent
    accepted: list[Accepted] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)  # temporary answers that were retried
    failed: dict[str, str] = field(default_factory=dict)  # key -> last answer, never accepted

    def first_sent(self) -> float | None:
        return min((a.sent_at for a in self.accepted), default=None)

    def last_accepted(self) -> float | None:
        return max((a.accepted_at for a in self.accepted), default=None)

    def as_json(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "accepted": len(self.accepted),
            "retried_refusals": dict(self.refusals),
            "failed": len(self.failed),
            "failures": dict(list(self.failed.items())[:20]),
        }


class _Temporary(Exception):
    """Answer worth sending again (the sender's retry queue in real life)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Permanent(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _deliver(
    result: IntakeResult, key: str, attempt: Callable[[], Awaitable[None]], on_retry: Callable[[], Awaitable[None]]
) -> None:
    sent_at = time.time()
    for number in range(1, MAX_ATTEMPTS + 1):
        started = time.perf_counter()
        try:
            await attempt()
        except _Temporary as answer:
            result.refusals[answer.reason] += 1
            if number == MAX_ATTEMPTS:
                result.failed[key] = answer.reason
                return
            await on_retry()
            await asyncio.sleep(BACKOFF_SECONDS * 2 ** (number - 1))
            continue
        except _Permanent as answer:
            result.failed[key] = answer.reason
            return
        result.accepted.append(
            Accepted(key, sent_at, time.time(), (time.perf_counter() - started) * 1000, attempts=number)
        )
        return


# -- email -------------------------------------------------------------------------------


def email_message(run: str, index: int, mailbox: str) -> tuple[str, bytes]:
    """(envelope sender, message bytes) of bench mail number ``index``."""
    sender = f"bench-{run}-{index}@customer.example"
    message = EmailMessage()
    message["From"] = f"Customer {index} <{sender}>"
    message["To"] = mailbox
    message["Subject"] = subject_for(run, f"e{index}")
    message["Message-ID"] = f"<bench-{run}-{index}@customer.example>"
    message["Date"] = formatdate(localtime=False)
    message.set_content(
        f"Hello,\n\nI ordered a coffee grinder (order {100000 + index}) two weeks ago and it has not "
        "arrived. Could you tell me where it is?\n\nThanks,\nA customer\n"
    )
    return sender, message.as_bytes()


async def send_emails(
    result: IntakeResult,
    *,
    host: str,
    port: int,
    mailbox: str,
    run: str,
    sessions: int,
    first: int = 0,
    rate: float | None = None,
    min_seconds: float = 0.0,
    smtp_timeout: float = 30,
) -> None:
    """``result.sent`` mails (numbered from ``first``) over ``sessions`` SMTP sessions, one after another in each.

    As fast as the listener accepts them, or paced: mail ``i`` not before ``i / rate`` seconds from the start.
    With ``min_seconds``, sending goes on until that much time has passed too (``result.sent`` then says how many).
    """
    indices = _Indices(result, first, min_seconds)
    pace = _Pace(first, rate)

    async def session() -> None:
        client = aiosmtplib.SMTP(hostname=host, port=port, timeout=smtp_timeout, start_tls=False)

        async def reconnect() -> None:
            with contextlib.suppress(Exception):
                client.close()
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.connect()

        await reconnect()
        try:
            for index in indices:
                await pace.wait(index)
                sender, raw = email_message(run, index, mailbox)

                async def attempt(sender: str = sender, raw: bytes = raw) -> None:
                    if not client.is_connected:
                        await reconnect()
                        if not client.is_connected:
                            raise _Temporary("connect failed")
                    try:
                        await client.sendmail(sender, [mailbox], raw)
                    except aiosmtplib.SMTPResponseException as error:
                        reason = f"{error.code} {error.message}"[:200]
                        if 400 <= error.code < 500:
                            raise _Temporary(str(error.code)) from error
                        raise _Permanent(reason) from error
                    except aiosmtplib.SMTPRecipientsRefused as error:
                        codes = {refused.code for refused in error.recipients}
                        if all(400 <= code < 500 for code in codes):
                            raise _Temporary(str(min(codes))) from error
                        raise _Permanent(f"recipient refused {sorted(codes)}") from error
                    except (aiosmtplib.SMTPException, OSError) as error:
                        raise _Temporary(type(error).__name__) from error

                await _deliver(result, f"e{index}", attempt, reconnect)
        finally:
            with contextlib.suppress(Exception):
                await client.quit()

    await asyncio.gather(*(session() for _ in range(sessions)))


# -- web forms -----------------------------------------------------------------------------


async def post_forms(
    result: IntakeResult,
    *,
    base_url: str,
    form_id: str,
    run: str,
    clients: int,
    first: int = 0,
    rate: float | None = None,
    min_seconds: float = 0.0,
) -> None:
    """``result.sent`` submissions (numbered from ``first``) over ``clients`` HTTP clients, each its own connection.

    As fast as they are accepted, or paced as :func:`send_emails` paces mail; ``min_seconds`` as there.
    """
    indices = _Indices(result, first, min_seconds)
    pace = _Pace(first, rate)
    path = f"/public/forms/{form_id}/submissions"

    async def client() -> None:
        async with httpx.AsyncClient(
            base_url=base_url,
            timeout=30,
            headers={"Accept": "application/json"},
            limits=httpx.Limits(max_connections=1),
        ) as http:
            for index in indices:
                await pace.wait(index)
                body = {
                    "name": f"Customer {index}",
                    # Not mail number ``index``'s sender: every message its own (a customer writing
                    # on both channels at once made case-core's batches wait for each other).
                    "email": f"bench-{run}-w{index}@customer.example",
                    "subject": subject_for(run, f"w{index}"),
                    "description": f"Order {100000 + index} has not arrived; where is it?",
                    # The same id on every retry: intake-web stores the submission once.
                    "_sid": f"bench-{run}-{index}",
                }

                async def attempt(body: dict[str, str] = body) -> None:
                    try:
                        answer = await http.post(path, data=body)
                    except httpx.TransportError as error:
                        raise _Temporary(type(error).__name__) from error
                    if answer.status_code in TEMPORARY_HTTP:
                        raise _Temporary(str(answer.status_code))
                    if not answer.is_success:
                        raise _Permanent(f"{answer.status_code} {answer.text[:200]}")

                await _deliver(result, f"w{index}", attempt, _nothing)

    await asyncio.gather(*(client() for _ in range(clients)))


async def _nothing() -> None:
    return None


class _Indices(Iterator[int]):
    """Message numbers from ``first``: at least ``result.sent`` of them, and for at least ``min_seconds``.

    ``result.sent`` follows what was handed out, so a timed round's count is the real one.
    """

    def __init__(self, result: IntakeResult, first: int, min_seconds: float) -> None:
        self.result = result
        self.next = first
        self.last = first + result.sent
        self.deadline = time.monotonic() + min_seconds if min_seconds > 0 else None

    def __next__(self) -> int:
        if self.next >= self.last and (self.deadline is None or time.monotonic() >= self.deadline):
            raise StopIteration
        index = self.next
        self.next += 1
        if self.next > self.last:
            self.result.sent += 1
        return index


class _Pace:
    """Message ``index`` goes out no earlier than ``(index - first) / rate`` s after the first; no rate: at once."""

    def __init__(self, first: int, rate: float | None) -> None:
        self.first = first
        self.rate = rate
        self.start: float | None = None

    async def wait(self, index: int) -> None:
        if not self.rate:
            return
        loop = asyncio.get_running_loop()
        if self.start is None:
            self.start = loop.time()
        delay = self.start + (index - self.first) / self.rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
