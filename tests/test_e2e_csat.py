"""Customer satisfaction through the whole suite, as ``make run`` starts it.

A customer's mail becomes a case; an agent answers and solves it; the survey reaches the
customer's inbox (the relay's stand-in), threaded into the conversation; the customer
clicks Bad in a real browser (Debian's Chromium), picks a reason and writes a comment on
the server-rendered page; the case shows the rating and the admin's trigger on a Bad
rating fired. The rating page and the reports dashboard (signed in as the admin, showing this
traffic's numbers) pass an axe-core scan with no serious or critical violation.

Reporting killed (SIGKILL) while cases are being made counts every case once after its restart:
its consumer commits offsets only after the read model's transaction, and the inbox drops what it
reads again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from omnicase.devtools.testing.frontend import (
    Gateway,
    MailSink,
    ReceivedMail,
    deliver,
    newest_case_of,
    restarted,
    wait_for,
)
from omnicase.devtools.testing.stack import SuiteStack

pytestmark = pytest.mark.slow

SUPPORT = "support@csat.example"
REASONS = ["It took too long", "My problem is not solved"]


@pytest.fixture(scope="module")
def stack_env(mail_sink: MailSink) -> dict[str, str]:
    return {
        "INTAKE_EMAIL_RELAY_HOST": "127.0.0.1",
        "INTAKE_EMAIL_RELAY_PORT": str(mail_sink.port),
        # Due surveys are looked for every second rather than every ten.
        "CASE_CORE_CSAT_SWEEP_SECONDS": "1",
    }


@pytest.fixture(scope="module")
def admin(stack: SuiteStack, admin_login: tuple[str, str]) -> Iterator[Gateway]:
    with Gateway(stack.url()) as gateway:
        yield gateway.login(*admin_login)


def _customer_mail(sender: str, subject: str) -> EmailMessage:
    mail = EmailMessage()
    local, _, domain = sender.partition("@")
    mail["From"] = Address("Jane Doe", local, domain)
    mail["To"] = SUPPORT
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="customer.example")
    mail.set_content("The invoice PDF is empty.")
    return mail


def _survey(sink: MailSink, address: str) -> ReceivedMail | None:
    return next((mail for mail in sink.received(to=address) if "/public/csat/" in mail.text()), None)


def test_a_solved_email_case_is_rated_bad_in_a_browser_and_the_trigger_on_bad_ratings_fires(
    stack: SuiteStack,
    admin: Gateway,
    admin_login: tuple[str, str],
    mail_sink: MailSink,
    chromium: str,
    axe: Callable[[Page], list[dict[str, Any]]],
) -> None:
    admin.brand("csat")
    admin.post("/api/v1/mailboxes", {"address": SUPPORT, "display_name": "CSAT desk", "brand": "csat"})
    admin.call("PUT", "/api/v1/csat/settings", json={"enabled": True, "delay_seconds": 0, "reasons": REASONS})
    trigger = admin.post(
        "/api/v1/triggers",
        {
            "name": "Follow up on unhappy customers",
            "conditions": {"all": [{"field": "satisfaction", "operator": "changed_to", "value": "bad"}]},
            "actions": [{"type": "add_tags", "tags": ["unhappy"]}],
        },
    )

    customer = f"jane.{uuid.uuid4().hex[:8]}@customer.example"
    first = _customer_mail(customer, "Empty invoice")
    deliver(stack.port("intake-email", "smtp"), first)
    case = wait_for(lambda: newest_case_of(admin, customer), within=60, message="the mail never became a case")
    admin.post(f"/api/v1/cases/{case['id']}/messages", {"text": "Here is the invoice again.", "public": True})
    current = admin.get(f"/api/v1/cases/{case['id']}")
    admin.call(
        "PATCH",
        f"/api/v1/cases/{case['id']}",
        json={"status": "solved"},
        headers={"If-Match": f'"{current["version"]}"'},
    )

    survey = wait_for(lambda: _survey(mail_sink, customer), within=90, message="the survey never reached the sink")
    assert survey.header("Subject") == f"How did we do? [#{case['number']}]"
    assert first["Message-ID"] in survey.header("References"), "threaded into the customer's conversation"
    links = dict(re.findall(r"^(Good|Bad)[^:]*: (http\S+)\r?$", survey.text(), re.MULTILINE))
    assert links["Bad"].startswith(f"{stack.url()}/public/csat/")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(java_script_enabled=False)  # the page needs none
            page.goto(links["Bad"])
            assert page.get_by_role("main").is_visible()
            assert page.get_by_role("status").inner_text().startswith("Thank you. Your rating is saved: Bad")
            assert page.get_by_role("radio", name="Bad, I'm unsatisfied").is_checked()
            page.get_by_label("If you rated it bad, what was the main reason?").select_option("It took too long")
            page.get_by_label("Comment (optional)").fill("Three mails before anyone answered.")
            page.get_by_role("button", name="Save my answer").click()
            page.wait_for_load_state()
            assert "Your rating is saved" in page.get_by_role("status").inner_text()
            assert page.get_by_label("Comment (optional)").input_value() == "Three mails before anyone answered."
            rated_page = page.content()

            gone = page.goto(f"{stack.url()}/public/csat/not-a-token")
            assert gone is not None
            assert gone.status == 404
            assert page.get_by_role("heading", level=1).inner_text() == "This link does not work"

            # The scan injects axe-core, a script the pages' policy does not allow: a page of its own
            # bypasses the policy. The rating page is scanned as the customer got it (opening its
            # link again would rate again), on the service's origin so its stylesheet loads.
            scanner = browser.new_page(bypass_csp=True)
            scanner.goto(f"{stack.url()}/public/csat/not-a-token")
            assert axe(scanner) == [], "the page of a link that does not work"
            scanner.set_content(rated_page)
            assert axe(scanner) == [], "the rating page"

            # The reports dashboard, signed in as the admin, counts this traffic.
            scanner.goto(f"{stack.url()}/reports?interval=day&tz=UTC")
            email, password = admin_login
            scanner.get_by_label("Email").fill(email)
            scanner.get_by_label("Password").fill(password)
            scanner.get_by_role("button", name="Sign in").click()
            scanner.wait_for_selector("body[data-loaded=true]", timeout=30000)
            created = scanner.locator('#numbers li[data-metric="created"] strong').inner_text()
            assert int(created) >= 1, "the case of this test is counted"
            assert scanner.locator("#charts img").count() == 10
            assert axe(scanner) == [], "the reports dashboard"
        finally:
            browser.close()

    rated = admin.get(f"/api/v1/cases/{case['id']}")
    assert rated["satisfaction"]["rating"] == "bad"
    assert rated["satisfaction"]["reason"] == "It took too long"
    assert rated["satisfaction"]["comment"] == "Three mails before anyone answered."
    assert "unhappy" in rated["tags"]
    runs = admin.get("/api/v1/triggers/runs", params={"case_id": case["id"]})["items"]
    assert any(fired["trigger_id"] == trigger["id"] for run in runs for fired in run["fired"])
    history = admin.get(f"/api/v1/cases/{case['id']}/history")["items"]
    assert [entry["new"]["rating"] for entry in history if entry["field"] == "satisfaction"] == ["bad", "bad"]


def test_killing_reporting_mid_stream_counts_every_case_once(stack: SuiteStack, admin: Gateway) -> None:
    brand = f"kill-{uuid.uuid4().hex[:8]}"
    count = 24

    def make(index: int) -> None:
        admin.post(
            "/api/v1/cases",
            {
                "subject": f"Stream {index}",
                "requester": {"email": f"c{index}.{brand}@customer.example"},
                "brand": brand,
            },
        )

    first, second = count // 3, 2 * count // 3
    for index in range(first):
        make(index)
    killed = stack.service_process("reporting").pid
    stack.kill_service("reporting")
    # Made while reporting is down or restarting: their events wait on the topic.
    for index in range(first, second):
        make(index)
    wait_for(lambda: restarted(stack, "reporting", killed), within=60, message="reporting was not restarted")
    for index in range(second, count):
        make(index)
    stack.wait_ready("reporting", timeout=120)
    stack.wait_for_line("reporting exited with code -9; restarting")

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    params = {
        "metrics": "created",
        "brand": brand,
        "interval": "day",
        "tz": "UTC",
        "since": (today - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "until": (today + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }

    def created() -> float:
        series = admin.get("/api/v1/reports/metrics", params=params)["series"]
        return sum(value or 0 for s in series for value in s["values"])

    wait_for(lambda: created() >= count, within=120, message=lambda: f"reporting counted {created()} of {count} cases")
    assert created() == count, "no case counted twice"
