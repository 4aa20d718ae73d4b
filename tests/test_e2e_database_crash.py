"""PostgreSQL crashing under ``omnicase up`` in the middle of a flood over SMTP and the web form.

Customers' mail servers and browsers keep sending while the postmaster is SIGKILLed:
they are refused the same way (SMTP 451 4.3.0, HTTP 503 with ``Retry-After``) until the
supervisor has started PostgreSQL again on its data directory, and send again as they
would. Every message a client saw accepted becomes exactly one case, and the suite is
ready again within 30 s of the crash without anyone touching it, the same service
processes reconnecting on their own.
"""

from __future__ import annotations

import smtplib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx
import pytest

from omnicase.devtools.testing.frontend import RETRYABLE, Gateway, submit, wait_for
from omnicase.devtools.testing.stack import SUITE_SERVICES, SuiteStack

pytestmark = pytest.mark.slow

PER_CHANNEL = 36
CLIENTS_PER_CHANNEL = 3


@pytest.fixture(scope="module")
def admin(stack: SuiteStack, admin_login: tuple[str, str]) -> Iterator[Gateway]:
    with Gateway(stack.url()) as gateway:
        yield gateway.login(*admin_login)


@dataclass
class Flood:
    """What the clients saw: accepted messages by subject, and every refusal on the way."""

    accepted: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, subject: str) -> None:
        with self.lock:
            self.accepted.append(subject)

    def refuse(self, what: str) -> None:
        with self.lock:
            self.refusals.append(what)


def _mail(sender: str, to: str, subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="customer.example")
    mail.set_content(f"{subject}: my order never arrived.")
    return mail


def _mail_server(port: int, mails: list[EmailMessage], flood: Flood) -> None:
    """A customer's mail server: a 4xx or a lost connection is sent again, the same message, until a 250."""
    for mail in mails:
        deadline = time.monotonic() + 120
        while True:
            try:
                submit(port, mail)
                flood.accept(str(mail["Subject"]))
                break
            except smtplib.SMTPResponseException as error:
                reply = error.smtp_error
                flood.refuse(
                    f"smtp {error.smtp_code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
                )
            except smtplib.SMTPRecipientsRefused as error:
                for code, reply in error.recipients.values():
                    flood.refuse(f"smtp {code} {reply.decode(errors='replace')}")
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                flood.refuse(f"smtp connection {error!r}")
            assert time.monotonic() < deadline, f"{mail['Subject']} never accepted"
            time.sleep(0.3)


def _browser(base_url: str, form_id: str, posts: list[dict[str, str]], flood: Flood) -> None:
    """An integration posting the form for visitors: a 502/503/504 is sent again with the same submission id."""
    with httpx.Client(base_url=base_url, timeout=30, headers={"Accept": "application/json"}) as http:
        for body in posts:
            deadline = time.monotonic() + 120
            while True:
                try:
                    answer = http.post(f"/public/forms/{form_id}/submissions", data=body)
                except httpx.TransportError as error:
                    flood.refuse(f"http connection {error!r}")
                else:
                    if answer.status_code == 202:
                        flood.accept(body["subject"])
                        break
                    assert answer.status_code in RETRYABLE, f"{answer.status_code} {answer.text}"
                    flood.refuse(
                        f"http {answer.status_code} retry-after={answer.headers.get('retry-after')} "
                        f"{answer.headers.get('content-type')}"
                    )
                assert time.monotonic() < deadline, f"{body['subject']} never accepted"
                time.sleep(0.3)


def _run(target: Any, *args: Any, flood: Flood) -> threading.Thread:
    def guarded() -> None:
        try:
            target(*args, flood)
        except BaseException as error:  # reported by the test, not lost in a thread
            with flood.lock:
                flood.failures.append(repr(error))

    thread = threading.Thread(target=guarded, daemon=True)
    thread.start()
    return thread


def test_a_postgresql_crash_mid_flood_loses_nothing_doubles_nothing_and_the_suite_recovers_alone(
    stack: SuiteStack, admin: Gateway
) -> None:
    run = uuid.uuid4().hex[:6]
    mail_tag, web_tag = f"db-mail-{run}", f"db-web-{run}"
    mailbox = f"crash-{run}@acme.example"
    admin.post("/api/v1/mailboxes", {"address": mailbox, "defaults": {"tags": [mail_tag]}, "auto_response": False})
    form = admin.post(
        "/api/v1/forms",
        {
            "name": f"Crash {run}",
            "fields": [
                {"key": "email", "required": True, "labels": {"en": "Email"}},
                {"key": "subject", "required": True, "labels": {"en": "Subject"}},
                {"key": "description", "required": True, "labels": {"en": "Message"}},
            ],
            "defaults": {"tags": [web_tag]},
            "spam": {"min_fill_seconds": 0},
            "rate_limits": {"per_ip_per_minute": 10_000, "per_form_per_minute": 10_000},
            "thank_you_url": "https://customer.example/thanks",
        },
    )
    mails = [_mail(f"m{i}.{run}@customer.example", mailbox, f"Mail {run} #{i}") for i in range(PER_CHANNEL)]
    posts = [
        {
            "email": f"w{i}.{run}@customer.example",
            "subject": f"Web {run} #{i}",
            "description": "My order never arrived.",
            "_sid": f"{run}-{i}",
        }
        for i in range(PER_CHANNEL)
    ]
    before = {name: stack.service_process(name).pid for name in SUITE_SERVICES}

    flood = Flood()
    clients = [
        *(
            _run(_mail_server, stack.port("intake-email", "smtp"), mails[i::CLIENTS_PER_CHANNEL], flood=flood)
            for i in range(CLIENTS_PER_CHANNEL)
        ),
        *(
            _run(_browser, stack.url(), form["id"], posts[i::CLIENTS_PER_CHANNEL], flood=flood)
            for i in range(CLIENTS_PER_CHANNEL)
        ),
    ]
    wait_for(lambda: len(flood.accepted) >= 2 * PER_CHANNEL // 3, within=120, message="the flood never got going")
    stack.postmaster().kill()
    killed_at = time.monotonic()

    stack.wait_for_line("!!! PostgreSQL exited with code -9", timeout=15)
    stack.wait_ready(timeout=max(0.0, killed_at + 30 - time.monotonic()))
    for client in clients:
        client.join(180)
    assert flood.failures == []
    assert sorted(flood.accepted) == sorted([str(mail["Subject"]) for mail in mails] + [p["subject"] for p in posts])
    stack.wait_for_line("PostgreSQL recovered: every service is ready again", timeout=60)
    assert {name: stack.service_process(name).pid for name in SUITE_SERVICES} == before, "no service was restarted"

    # Refused the same way on every channel while it was down (or a connection the crash cut);
    # never a permanent SMTP refusal, never a 500.
    for refusal in flood.refusals:
        assert refusal.startswith(("smtp 451 4.3.0", "http 503 retry-after=5 application/problem+json")) or (
            "connection" in refusal
        ), refusal

    for tag, prefix in ((mail_tag, "Mail"), (web_tag, "Web")):
        expected = {f"{prefix} {run} #{i}" for i in range(PER_CHANNEL)}

        def cases(tag: str = tag) -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = admin.get("/api/v1/cases", params={"tag": tag, "limit": 100})["items"]
            return items if len(items) >= PER_CHANNEL else None

        def report(tag: str = tag) -> str:
            return f"{tag}: {len(admin.get('/api/v1/cases', params={'tag': tag, 'limit': 100})['items'])} cases"

        found = wait_for(cases, within=90, message=report)
        subjects = Counter(case["subject"] for case in found)
        assert set(subjects) == expected, f"{prefix}: every accepted message became a case"
        assert max(subjects.values()) == 1, f"duplicated: {[s for s, n in subjects.items() if n > 1]}"
    print(f"refusals seen by clients: {Counter(r.split(' (')[0][:60] for r in flood.refusals)}")  # noqa: T201
