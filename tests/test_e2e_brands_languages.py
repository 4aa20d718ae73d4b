# ruff: noqa: RUF001 (Chinese is written with Chinese punctuation: full-width commas and exclamation marks)
"""Brands and languages through the whole suite (issue 22's "done when"), as ``make run`` starts it.

One desk serves two brands: Alpha (English and Korean, Seoul) and Beta (Chinese first,
Shanghai). A customer writes to Beta's mailbox in Chinese, another fills Alpha's web form
in Korean. Each case carries its brand and its language, the acknowledgement reaches the
customer's inbox (the test's relay, ``MailSink``) in that language, from dynamic content,
under the brand's signature, routing gives the case to the agent who speaks the language
although an English speaker waits in the same queue with as much room, and Beta's case is
timed by Beta's business hours in Shanghai.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, sync_playwright

from omnicase.devtools.testing.frontend import (
    Gateway,
    MailSink,
    ReceivedMail,
    assigned_to,
    deliver,
    newest_case_of,
    online_agent,
    sla_tracked,
    wait_for,
)
from omnicase.devtools.testing.stack import SuiteStack

pytestmark = pytest.mark.slow

BETA_MAILBOX = "kefu@beta.example"
BETA_SIGNATURE = "贝塔客服团队 · Beta 客户服务"
ALPHA_SIGNATURE = "Alpha 고객지원팀"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Beta works one hour a day, so where a business-hours due time lands says whose hours counted.
BETA_OPENS, BETA_CLOSES = 9, 10
BETA_FIRST_REPLY_MINUTES = 30
FORM_SUBMIT_KO = "보내기"
ACK = {
    "en": "We have received your message.",
    "zh": "我们已收到您的来信，客服人员会尽快回复您。",
    "ko": "문의를 접수했습니다. 곧 상담원이 답변드리겠습니다.",
}


@pytest.fixture(scope="module")
def stack_env(mail_sink: MailSink) -> dict[str, str]:
    return {
        "INTAKE_EMAIL_RELAY_HOST": "127.0.0.1",
        "INTAKE_EMAIL_RELAY_PORT": str(mail_sink.port),
        "INTAKE_EMAIL_AUTO_RESPONSE_INTERVAL_SECONDS": "0",
    }


@dataclass(frozen=True)
class Suite:
    stack: SuiteStack
    sink: MailSink
    admin: Gateway
    alpha: dict[str, Any]
    beta: dict[str, Any]
    beta_policy: str
    support_group: str
    agents: dict[str, str]  # language -> the user id of the agent who speaks it
    alpha_form: dict[str, Any]


@pytest.fixture(scope="module")
def suite(stack: SuiteStack, admin_login: tuple[str, str], mail_sink: MailSink, customer_site: str) -> Iterator[Suite]:
    with ExitStack() as clients:
        admin = clients.enter_context(Gateway(stack.url())).login(*admin_login)
        yield _configure(clients, stack, admin, mail_sink, customer_site)


def _configure(clients: ExitStack, stack: SuiteStack, admin: Gateway, sink: MailSink, customer_site: str) -> Suite:
    alpha = admin.post(
        "/api/v1/brands",
        {
            "name": "Alpha",
            "slug": "alpha",
            "default_locale": "en",
            "supported_locales": ["en", "ko"],
            "email_signature": ALPHA_SIGNATURE,
            "time_zone": "Asia/Seoul",
            # Its help center and hosted forms wear its logo and colour.
            "logo_url": f"{stack.url()}/alpha-logo.png",
            "colors": {"primary": "#0b5fff"},
        },
    )
    beta_hours = admin.post(
        "/api/v1/business-hours",
        {
            "name": "Beta Shanghai office",
            "time_zone": "Asia/Shanghai",
            "intervals": [
                {"day": day, "start": f"{BETA_OPENS:02}:00", "end": f"{BETA_CLOSES:02}:00"}
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
            ],
        },
    )
    beta = admin.post(
        "/api/v1/brands",
        {
            "name": "Beta",
            "slug": "beta",
            "default_locale": "zh",
            "supported_locales": ["zh", "en"],
            "email_signature": BETA_SIGNATURE,
            "time_zone": "Asia/Shanghai",
            "business_hours_id": beta_hours["id"],
        },
    )
    beta_policy = admin.post(
        "/api/v1/sla/policies",
        {
            "name": "Beta in Shanghai hours",
            "conditions": {"brand_id": [beta["id"]]},
            "schedule_id": beta_hours["id"],
            "targets": {
                "normal": {"first_reply": {"minutes": BETA_FIRST_REPLY_MINUTES, "business_hours": True}},
            },
        },
    )
    beta = admin.call("PATCH", f"/api/v1/brands/{beta['id']}", json={"sla_policy_id": beta_policy["id"]})

    admin.post(
        "/api/v1/dynamic-content",
        {"name": "acknowledgement", "text": ACK["en"], "variants": {"zh": ACK["zh"], "ko": ACK["ko"]}},
    )
    admin.call("PUT", "/api/v1/triggers/auto-response", json={"text": "{{dc.acknowledgement}} (#{{case.number}})"})

    support = admin.post("/api/v1/groups", {"name": "Support", "routing_model": "best_available"})
    admin.post(
        "/api/v1/routing/rules",
        {
            "name": "Every case to a speaker of its language",
            "target_group_id": support["id"],
            "conditions": {"channels": ["email", "web"]},
            "require_language": True,
        },
    )
    # Eve speaks English only, waits in the same queue with as much room, and never gets these cases.
    agents = {}
    for name, language in (("Eve", "en"), ("Li", "zh"), ("Min", "ko")):
        agents[language], _ = online_agent(clients, admin, name, [], [support["id"]], languages=[language])

    admin.post(
        "/api/v1/mailboxes",
        {"address": BETA_MAILBOX, "display_name": "Beta 客服", "brand": "beta", "auto_response": True},
    )
    alpha_form = admin.post(
        "/api/v1/forms",
        {
            "name": "Alpha contact",
            "title": {"en": "Contact Alpha", "ko": "Alpha 문의하기"},
            "default_locale": "en",
            "fields": [
                {"key": "name", "required": True, "labels": {"en": "Your name", "ko": "이름"}},
                {"key": "email", "required": True, "labels": {"en": "Email", "ko": "이메일"}},
                {"key": "subject", "required": True, "labels": {"en": "Subject", "ko": "제목"}},
                {"key": "description", "required": True, "labels": {"en": "How can we help?", "ko": "문의 내용"}},
            ],
            "defaults": {"brand": "alpha"},
            "spam": {"min_fill_seconds": 1},
            "thank_you_url": f"{customer_site}/thanks",
        },
    )
    return Suite(
        stack=stack,
        sink=sink,
        admin=admin,
        alpha=alpha,
        beta=beta,
        beta_policy=beta_policy["id"],
        support_group=support["id"],
        agents=agents,
        alpha_form=alpha_form,
    )


def _routing_report(suite: Suite, case_id: str) -> str:
    return (
        f"not given to the agent speaking its language: {suite.admin.get(f'/api/v1/routing/cases/{case_id}/decisions')}"
    )


def _acknowledgement(suite: Suite, customer: str) -> ReceivedMail:
    [mail] = wait_for(lambda: suite.sink.received(to=customer), within=60, message=f"{customer} was never answered")
    return mail


def _beta_due(created: datetime) -> datetime:
    """When Beta's first reply falls due: 30 minutes of its 09:00-10:00 day in Shanghai, counted from ``created``."""
    local = created.astimezone(SHANGHAI)
    opens = local.replace(hour=BETA_OPENS, minute=0, second=0, microsecond=0)
    closes = local.replace(hour=BETA_CLOSES, minute=0, second=0, microsecond=0)
    target = timedelta(minutes=BETA_FIRST_REPLY_MINUTES)
    if local < opens:
        return opens + target
    if local < closes:
        worked_today = closes - local
        return local + target if worked_today >= target else opens + timedelta(days=1) + (target - worked_today)
    return opens + timedelta(days=1) + target


def test_a_chinese_email_to_beta_is_answered_in_chinese_and_timed_by_beta_hours(suite: Suite) -> None:
    customer = f"wang.{uuid.uuid4().hex[:6]}@customer.example"
    mail = EmailMessage()
    mail["From"] = Address("王芳", *customer.split("@"))
    mail["To"] = BETA_MAILBOX
    mail["Subject"] = "订单还没有收到"
    mail["Message-ID"] = make_msgid(domain="customer.example")
    mail.set_content("你好，我上周在你们的网店买了一台咖啡机，到现在还没有收到，请帮我查一下物流信息。谢谢！")
    deliver(suite.stack.port("intake-email", "smtp"), mail)

    case = wait_for(lambda: newest_case_of(suite.admin, customer), within=60, message="the mail never became a case")
    assert (case["brand"], case["brand_id"], case["language"]) == ("beta", suite.beta["id"], "zh")
    [contact] = suite.admin.get("/api/v1/contacts", params={"q": customer})["items"]
    assert contact["locale"] == "zh", "the detected language becomes the new contact's locale"

    acknowledgement = _acknowledgement(suite, customer)
    text = acknowledgement.text()
    assert ACK["zh"] in text
    assert ACK["en"] not in text
    assert BETA_SIGNATURE in text
    assert ALPHA_SIGNATURE not in text
    assert f"[#{case['number']}]" in acknowledgement.header("Subject")

    wait_for(
        lambda: assigned_to(suite.admin, case["id"], suite.agents["zh"]),
        within=60,
        message=lambda: _routing_report(suite, case["id"]),
    )

    sla_path = f"/api/v1/sla/cases/{case['id']}"
    sla = wait_for(
        lambda: sla_tracked(suite.admin, case["id"], suite.beta_policy),
        within=60,
        message=lambda: f"never timed by Beta's policy: {suite.admin.http.get(sla_path).text}",
    )
    [first_reply] = [milestone for milestone in sla["milestones"] if milestone["kind"] == "first_reply"]
    assert first_reply["business_hours"] is True
    due = datetime.fromisoformat(first_reply["due_at"])
    assert due == _beta_due(datetime.fromisoformat(first_reply["started_at"]))


def test_a_korean_form_on_alpha_gets_the_korean_equivalents(
    suite: Suite, chromium: str, customer_site: str, axe: Callable[[Page], list[dict[str, Any]]]
) -> None:
    customer = f"kim.{uuid.uuid4().hex[:6]}@customer.example"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            # A browser set to Korean is shown the form in Korean, its own words (the button) included.
            page = browser.new_context(locale="ko-KR").new_page()
            page.goto(f"{suite.stack.url()}/public/forms/{suite.alpha_form['id']}")
            assert page.get_attribute("html", "lang") == "ko"
            assert page.title() == "Alpha 문의하기"
            # Alpha's look: its logo (named Alpha) above the form, its colour as the header's rule.
            assert page.get_by_role("banner").get_by_role("img", name="Alpha").count() == 1
            border = page.evaluate("getComputedStyle(document.querySelector('header')).borderTopColor")
            assert border == "rgb(11, 95, 255)"
            scanner = browser.new_context(locale="ko-KR", bypass_csp=True).new_page()
            scanner.goto(f"{suite.stack.url()}/public/forms/{suite.alpha_form['id']}")
            assert axe(scanner) == [], "the Korean form in Alpha's look"
            page.get_by_label("이름").fill("김민수")
            page.get_by_label("이메일").fill(customer)
            page.get_by_label("제목").fill("환불 요청")
            page.get_by_label("문의 내용").fill("지난주에 주문한 상품이 파손되어 도착했습니다. 환불을 요청합니다.")
            page.wait_for_timeout(1200)  # the form's minimum fill time
            page.get_by_role("button", name=FORM_SUBMIT_KO).click()
            page.wait_for_url(f"{customer_site}/thanks")
        finally:
            browser.close()

    case = wait_for(lambda: newest_case_of(suite.admin, customer), within=60, message="the form never became a case")
    assert (case["brand"], case["brand_id"], case["language"], case["channel"]) == (
        "alpha",
        suite.alpha["id"],
        "ko",
        "web",
    )

    acknowledgement = _acknowledgement(suite, customer)
    text = acknowledgement.text()
    assert ACK["ko"] in text
    assert ACK["en"] not in text
    assert ALPHA_SIGNATURE in text
    assert BETA_SIGNATURE not in text

    wait_for(
        lambda: assigned_to(suite.admin, case["id"], suite.agents["ko"]),
        within=60,
        message=lambda: _routing_report(suite, case["id"]),
    )
