"""The outside world's view of a running suite, for the end-to-end tests.

What a frontend, an agent's console, a customer's mail client and the mail server the
suite relays through would see: :class:`Gateway` (a bearer token from the password grant
and the public REST API, waiting out 429s as a frontend would), :func:`wait_for` (gentle
polling, so the gateway's rate limit never trips), :class:`EventStream` (a console's live
stream, read in a thread), :func:`online_agent` (a person with the
agent role, their routing record, logged in and online), :func:`restarted` (a killed
service is back), :class:`MailSink` (a real SMTP server standing in for the relay, keeping
what it is sent) and :func:`deliver` (an MTA's submission: a refused connection or a 4xx
is tried again later, a 5xx raises :class:`MailRefused`, a 250 is final).

Synchronous on purpose: the end-to-end tests drive the suite from outside, one step after
another, like the people they stand for.
"""

from __future__ import annotations

import email.policy
import smtplib
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, TypeVar

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from omnicase.devtools.devstack.processes import free_port
from omnicase.devtools.testing.stack import StackError, SuiteStack

T = TypeVar("T")

AGENT_PASSWORD = "agent password 4 e2e"

# The gateway answers 502/503/504 while the service behind it is down; a client sends again.
RETRYABLE = frozenset({502, 503, 504})


class Gateway:
    """A frontend's view of Omnicase: a bearer token from the password grant and the REST API."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def login(self, email: str, password: str) -> Gateway:
        answer = self.http.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}
        )
        assert answer.status_code == 200, answer.text
        self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        return self

    def call(self, method: str, path: str, *, expect: int = 200, **options: Any) -> Any:
        answer = self.http.request(method, path, **options)
        # One test client does the work of many frontends; it waits as long as the gateway asks, as they
        # would, up to a little more than one rate-limit window.
        deadline = time.monotonic() + 75
        while answer.status_code == 429 and time.monotonic() < deadline:
            time.sleep(min(float(answer.headers.get("Retry-After", "1")), max(deadline - time.monotonic(), 0.1)))
            answer = self.http.request(method, path, **options)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def get(self, path: str, **options: Any) -> Any:
        return self.call("GET", path, **options)

    def post(self, path: str, body: dict[str, Any], *, expect: int = 201) -> Any:
        return self.call("POST", path, json=body, expect=expect)

    def brand(self, slug: str, **fields: Any) -> Any:
        """The brand ``slug``, made (named after its slug, with ``fields``) unless the suite has it:
        a help center's sections and articles name only real brands."""
        known = {brand["slug"]: brand for brand in self.get("/api/v1/brands")["items"]}
        return known.get(slug) or self.post("/api/v1/brands", {"name": slug, "slug": slug, **fields})

    def listen(self, **params: str) -> EventStream:
        """The live stream as this caller's console has it open, read in a thread of its own."""
        return EventStream(self.http, params)

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()


class EventStream:
    """``GET /api/v1/stream`` kept open while the test goes on: every event it carried, in order.

    ``with gateway.listen(types=...) as stream``; the stream is open (200) when the block starts.
    """

    def __init__(self, http: httpx.Client, params: dict[str, str]) -> None:
        from omnicase.gateway.stream.reader import EventParser, ReceivedEvent

        self._http = http
        self._params = params
        self._parser = EventParser()
        self.events: list[ReceivedEvent] = []
        self._opened = threading.Event()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, name="event-stream", daemon=True)
        self._response: httpx.Response | None = None

    def __enter__(self) -> EventStream:
        self._thread.start()
        if not self._opened.wait(30):
            raise AssertionError("the stream never opened")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing = True
        if self._response is not None:
            self._response.close()
        self._thread.join(10)

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        """The ``data`` of every event of this type received so far."""
        return [event.json()["data"] for event in list(self.events) if event.event == event_type]

    def _read(self) -> None:
        headers = {"Accept": "text/event-stream"}
        try:
            with self._http.stream("GET", "/api/v1/stream", params=self._params, headers=headers) as response:
                if response.status_code != 200:
                    response.read()
                    raise AssertionError(f"the stream answered {response.status_code}: {response.text}")
                self._response = response
                self._opened.set()
                for line in response.iter_lines():
                    if (event := self._parser.feed(line)) is not None:
                        self.events.append(event)
        except BaseException as error:  # reported to the test thread
            if not self._closing:
                self._error = error
        finally:
            self._opened.set()


def wait_for(probe: Callable[[], T | None], *, within: float, message: str | Callable[[], str]) -> T:
    """The probe's first truthy answer; polls gently so the gateway's rate limit never trips."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(0.5)


def newest_case_of(admin: Gateway, address: str) -> dict[str, Any] | None:
    """The newest case of the contact with this address, once there is one: a probe for :func:`wait_for`."""
    contacts = admin.get("/api/v1/contacts", params={"q": address})["items"]
    if not contacts:
        return None
    cases: list[dict[str, Any]] = admin.get(f"/api/v1/contacts/{contacts[0]['id']}/cases")["items"]
    return cases[0] if cases else None


def assigned_to(admin: Gateway, case_id: str, agent_id: str) -> dict[str, Any] | None:
    """The case once it is assigned to ``agent_id``: a probe for :func:`wait_for`."""
    case: dict[str, Any] = admin.get(f"/api/v1/cases/{case_id}")
    return case if case["assignee_id"] == agent_id else None


def sla_tracked(admin: Gateway, case_id: str, policy_id: str) -> dict[str, Any] | None:
    """The case's SLA record once ``policy_id`` applies to it: a probe for :func:`wait_for`."""
    answer = admin.http.get(f"/api/v1/sla/cases/{case_id}")
    sla: dict[str, Any] = answer.json()
    return sla if answer.status_code == 200 and sla["policy_id"] == policy_id else None


def wait_all_tracked(
    admin: Gateway, cases: list[dict[str, Any]], policy_id: str, *, within: float, victim: str
) -> None:
    """Until ``policy_id`` applies to every one of ``cases``; the timeout names those it does not."""
    untracked = {case["id"] for case in cases}

    def all_tracked() -> bool:
        untracked.difference_update({case_id for case_id in list(untracked) if sla_tracked(admin, case_id, policy_id)})
        return not untracked

    wait_for(
        all_tracked, within=within, message=lambda: f"after killing {victim}, no SLA clocks for {sorted(untracked)}"
    )


def stream_report(admin: Gateway, tag: str, count: int, victim: str, policy_id: str) -> str:
    """Where a stream of ``count`` cases tagged ``tag`` stands after killing ``victim``, for a timeout's message."""
    items = admin.get("/api/v1/cases", params={"tag": tag, "limit": 100})["items"]
    assigned = sum(1 for item in items if item["assignee_id"])
    tracked = sum(1 for item in items if sla_tracked(admin, item["id"], policy_id))
    return f"after killing {victim}: {len(items)}/{count} cases, {assigned} assigned, {tracked} with SLA milestones"


def online_agent(
    clients: ExitStack,
    admin: Gateway,
    name: str,
    skills: list[dict[str, Any]],
    groups: list[str],
    *,
    domain: str = "acme.example",
    languages: Sequence[str] = (),
) -> tuple[str, Gateway]:
    """A person with the agent role and their routing agent record (speaking ``languages``), logged in and online.

    Returns their user id and their own logged-in client, closed with ``clients``.
    """
    email = f"{name.lower()}@{domain}"
    user = admin.post("/api/v1/users", {"email": email, "name": name, "role": "agent", "password": AGENT_PASSWORD})
    admin.post(
        "/api/v1/agents",
        {
            "user_id": user["id"],
            "name": name,
            "capacity": 1000,
            "skills": skills,
            "group_ids": groups,
            "languages": list(languages),
        },
    )
    agent = clients.enter_context(Gateway(str(admin.http.base_url))).login(email, AGENT_PASSWORD)
    agent.call("PUT", f"/api/v1/agents/{user['id']}/presence", json={"status": "online"})
    return str(user["id"]), agent


def restarted(stack: SuiteStack, service: str, killed_pid: int) -> bool:
    """Whether the supervisor has started ``service`` again since ``killed_pid`` died."""
    try:
        pid: int = stack.service_process(service).pid
    except StackError:
        return False  # between the crash and the supervisor's restart
    return pid != killed_pid


# -- mail -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the relay took it: envelope and parsed content."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    def header(self, name: str) -> str:
        value = self.message[name]
        return "" if value is None else str(value)

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        return "" if body is None else str(body.get_content())


class MailSink:
    """A real SMTP server on a free port standing in for the suite's outbound relay.

    Everything it is sent is kept, in arrival order; the server runs on its own thread
    (aiosmtpd's controller), so synchronous tests read :meth:`received` while it works.
    :meth:`refuse` makes it answer mail for one address with a reply of the test's choosing
    (``451 4.3.0 …`` for an outage the sender must wait out), as a real relay in trouble would.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[ReceivedMail] = []
        self._refusals: dict[str, str] = {}
        self._refused: list[str] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, server_hostname="sink.test")

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        parsed = BytesParser(_class=EmailMessage, policy=email.policy.default).parsebytes(
            bytes(envelope.original_content or b"")
        )
        assert isinstance(parsed, EmailMessage)
        mail = ReceivedMail(str(envelope.mail_from), tuple(address.lower() for address in envelope.rcpt_tos), parsed)
        with self._lock:
            refusal = next((self._refusals[to] for to in mail.rcpt_tos if to in self._refusals), None)
            if refusal is not None:
                self._refused.extend(mail.rcpt_tos)
                return refusal
            self._received.append(mail)
        return "250 2.0.0 OK"

    def refuse(self, address: str, reply: str | None) -> None:
        """Answer every message to ``address`` with ``reply`` from now on; ``None`` takes mail again."""
        with self._lock:
            if reply is None:
                self._refusals.pop(address.lower(), None)
            else:
                self._refusals[address.lower()] = reply

    def refused(self) -> list[str]:
        """The recipients of every attempt :meth:`refuse` turned away, in order."""
        with self._lock:
            return list(self._refused)

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def received(self, to: str | None = None) -> list[ReceivedMail]:
        """What arrived so far, oldest first; only what was addressed to ``to`` when given."""
        with self._lock:
            mails = list(self._received)
        return mails if to is None else [mail for mail in mails if to.lower() in mail.rcpt_tos]


class MailRefused(AssertionError):
    """The suite gave a permanent (5xx) answer to a submission."""

    def __init__(self, code: int, reply: str) -> None:
        super().__init__(f"{code} {reply}")
        self.code = code
        self.reply = reply


def submit(port: int, message: EmailMessage, *, host: str = "127.0.0.1") -> None:
    """One SMTP transaction, envelope from the message's headers; raises what smtplib raises."""
    with smtplib.SMTP(host, port, timeout=30) as client:
        client.send_message(message)


def _temporary(error: Exception) -> bool:
    """Whether an MTA would keep the message and try again later."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    # Refused or dropped connections (the service is down or restarting).
    return isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError)


def _permanent(error: Exception) -> MailRefused:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, refusal = next(iter(error.recipients.values()))
        return MailRefused(code, refusal.decode(errors="replace"))
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        return MailRefused(error.smtp_code, reply.decode(errors="replace") if isinstance(reply, bytes) else reply)
    return MailRefused(0, repr(error))


def deliver(port: int, message: EmailMessage, *, within: float = 90, pause: float = 0.5) -> int:
    """Submit as a mail server would: a 250 is final, a 4xx or a connection problem is retried.

    The retry sends the very same message (same Message-ID), so the suite must store it once
    however often it arrives. Returns the number of attempts; raises :class:`MailRefused` on 5xx.
    """
    deadline = time.monotonic() + within
    attempts = 0
    while True:
        attempts += 1
        try:
            submit(port, message)
            return attempts
        except (smtplib.SMTPException, OSError) as error:
            if not _temporary(error):
                raise _permanent(error) from error
            if time.monotonic() > deadline:
                raise AssertionError(f"{message['Message-ID']} never accepted: {error!r}") from error
        time.sleep(pause)
