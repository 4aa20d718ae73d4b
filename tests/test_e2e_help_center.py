"""The public help center and the article suggestions that answer a customer, through the whole
suite as ``make run`` starts it, in a real browser (Debian's Chromium, no JavaScript).

The help center: a customer searches a brand's help center, finds the article, opens its Korean
translation from the English one's alternate; every page passes an axe-core scan with no serious
violation.


A mailbox sends suggested articles in its auto-response; a customer writes in Korean over real
SMTP; the acknowledgement reaching the customer's inbox (the relay's stand-in) links the Korean
article that answers the question; the customer opens it in a real browser (Debian's Chromium,
no JavaScript), clicks "Yes, this answered my question", and the case is solved by knowledge's
command with the reason "answered by article X"; the article counts the deflection.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from omnicase.devtools.testing.frontend import Gateway, MailSink, ReceivedMail, deliver, newest_case_of, wait_for
from omnicase.devtools.testing.stack import SuiteStack

pytestmark = pytest.mark.slow

SUPPORT = "support@deflection.example"


@pytest.fixture(scope="module")
def stack_env(mail_sink: MailSink) -> dict[str, str]:
    return {"INTAKE_EMAIL_RELAY_HOST": "127.0.0.1", "INTAKE_EMAIL_RELAY_PORT": str(mail_sink.port)}


@pytest.fixture(scope="module")
def admin(stack: SuiteStack, admin_login: tuple[str, str]) -> Iterator[Gateway]:
    with Gateway(stack.url()) as gateway:
        yield gateway.login(*admin_login)


def _korean_mail(sender: str) -> EmailMessage:
    mail = EmailMessage()
    local, _, domain = sender.partition("@")
    mail["From"] = Address("김민지", local, domain)
    mail["To"] = SUPPORT
    mail["Subject"] = "비밀번호를 잊어버렸어요"
    mail["Message-ID"] = make_msgid(domain="customer.example")
    mail.set_content("안녕하세요. 로그인이 안 돼요. 비밀번호를 어떻게 재설정하나요?")
    return mail


def _acknowledgement(sink: MailSink, address: str) -> ReceivedMail | None:
    return next((mail for mail in sink.received(to=address) if "/public/help/" in mail.text()), None)


def test_a_korean_email_is_answered_by_a_suggested_korean_article_and_yes_solves_the_case(
    stack: SuiteStack, admin: Gateway, mail_sink: MailSink, chromium: str
) -> None:
    brand = admin.brand(f"help-{uuid.uuid4().hex[:8]}")["slug"]
    admin.post(
        "/api/v1/mailboxes",
        {"address": SUPPORT, "display_name": "도움말", "brand": brand, "auto_response": True, "suggest_articles": True},
    )
    section = admin.post("/api/v1/kb/sections", {"brand": brand, "name": "계정"})
    article = admin.post(
        "/api/v1/kb/articles",
        {
            "brand": brand,
            "section_id": section["id"],
            "locale": "ko",
            "title": "비밀번호 재설정",
            "body": "비밀번호를 잊어버렸다면 **설정 → 보안**에서 *비밀번호 재설정*을 선택하세요.",
            "status": "published",
        },
    )
    admin.post(
        "/api/v1/kb/articles",
        {
            "brand": brand,
            "locale": "ko",
            "title": "환불 요청",
            "body": "환불은 5일 안에 처리됩니다.",
            "status": "published",
        },
    )

    customer = f"minji.{uuid.uuid4().hex[:8]}@customer.example"
    deliver(stack.port("intake-email", "smtp"), _korean_mail(customer))
    case = wait_for(lambda: newest_case_of(admin, customer), within=60, message="the mail never became a case")
    answer = wait_for(
        lambda: _acknowledgement(mail_sink, customer), within=60, message="no acknowledgement with articles"
    )
    assert f"[#{case['number']}]" in answer.header("Subject")
    links = dict(re.findall(r"^- (.+?): (http\S+)\r?$", answer.text(), re.MULTILINE))
    assert list(links) == ["비밀번호 재설정"], "the Korean article that answers it, and only that"
    link = links["비밀번호 재설정"]
    assert link.startswith(f"{stack.url()}/public/help/{brand}/ko/articles/{article['id']}?s=")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(java_script_enabled=False)  # the help center needs none
            page.goto(link)
            assert page.get_by_role("main").is_visible()
            assert page.get_by_role("heading", level=1).inner_text() == "비밀번호 재설정"
            assert page.locator("html").get_attribute("lang") == "ko"
            assert page.get_by_role("group", name="이 문서로 궁금한 점이 해결되었나요?").is_visible()
            page.get_by_role("button", name="네, 해결되었습니다").click()
            page.wait_for_load_state()
            assert "문의가 해결됨으로 처리되었습니다" in page.get_by_role("status").inner_text()

            # The link answers once: opened again, it no longer asks.
            page.goto(link)
            assert page.get_by_role("button", name="네, 해결되었습니다").count() == 0
        finally:
            browser.close()

    def solved() -> dict[str, Any] | None:
        current = admin.get(f"/api/v1/cases/{case['id']}")
        return current if current["status"] == "solved" else None

    wait_for(solved, within=60, message="the case was never solved")
    history = admin.get(f"/api/v1/cases/{case['id']}/history")["items"]
    status_changes = [(entry["actor"], entry["via"], entry["new"]) for entry in history if entry["field"] == "status"]
    assert (f"answered by article {article['id']}", "command", "solved") in status_changes
    counted = admin.get(f"/api/v1/kb/articles/{article['id']}/deflection")
    assert (counted["suggested"], counted["opened"], counted["solved"]) == (1, 1, 1)


def test_a_customer_searches_the_help_center_reads_a_translation_and_every_page_is_accessible(
    stack: SuiteStack, admin: Gateway, chromium: str, axe: Callable[[Page], list[dict[str, Any]]]
) -> None:
    # The brand's look: every page wears its logo (named by the brand) and its colour.
    look = {"name": "Acme Shop", "logo_url": f"{stack.url()}/acme-logo.png", "colors": {"primary": "#c8102e"}}
    brand = admin.brand(f"center-{uuid.uuid4().hex[:8]}", **look)["slug"]
    section = admin.post("/api/v1/kb/sections", {"brand": brand, "name": "Orders", "description": "Track and change."})
    article = admin.post(
        "/api/v1/kb/articles",
        {
            "brand": brand,
            "section_id": section["id"],
            "locale": "en",
            "title": "Change your shipping address",
            "body": "Until the order ships, open **Orders**, choose the order and edit the address.",
            "status": "published",
        },
    )
    admin.call(
        "PUT",
        f"/api/v1/kb/articles/{article['id']}/translations/ko",
        json={
            "title": "배송지 변경",
            "body": "주문이 발송되기 전까지 **주문** 메뉴에서 배송 주소를 바꿀 수 있습니다.",
            "status": "published",
        },
    )
    home = f"{stack.url()}/public/help/{brand}/en"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(java_script_enabled=False)
            page.goto(home)
            assert page.get_by_role("heading", level=1).inner_text() == "Help center"
            assert page.get_by_role("banner").get_by_role("img", name="Acme Shop").count() == 1
            assert page.get_by_role("link", name="Orders").is_visible()
            page.get_by_label("Search the help center").fill("shipping adress")  # a typo, as customers write
            page.get_by_role("button", name="Search").click()
            page.wait_for_load_state()
            assert page.get_by_role("heading", level=1).inner_text() == "Search results"
            page.get_by_role("link", name="Change your shipping address").click()
            page.wait_for_load_state()
            assert page.get_by_role("heading", level=1).inner_text() == "Change your shipping address"
            korean = page.locator('link[rel="alternate"][hreflang="ko"]').get_attribute("href")
            assert korean == f"{stack.url()}/public/help/{brand}/ko/articles/{article['id']}"
            page.goto(korean)
            assert page.get_by_role("heading", level=1).inner_text() == "배송지 변경"
            assert page.locator("html").get_attribute("lang") == "ko"
            assert page.get_by_role("main").locator("strong").inner_text() == "주문"

            # The scan injects axe-core, so it runs where scripts may.
            scanner = browser.new_page()
            # A page the brand has not (a 404) wears its look too, in the language asked for.
            missing = f"{stack.url()}/public/help/{brand}/ko/articles/{uuid.uuid4()}"
            pages = [
                home,
                f"{home}/sections/{section['id']}",
                f"{home}/search?q=address",
                f"{home}/articles/{article['id']}",
                korean,
                missing,
            ]
            for address in pages:
                scanner.goto(address)
                assert axe(scanner) == [], address
                assert scanner.get_by_role("banner").get_by_role("img", name="Acme Shop").count() == 1, address
                border = scanner.evaluate("getComputedStyle(document.querySelector('header')).borderTopColor")
                assert border == "rgb(200, 16, 46)", address
            assert scanner.get_by_role("heading", level=1).inner_text() == "페이지를 찾을 수 없습니다"
            assert scanner.locator("html").get_attribute("lang") == "ko"
        finally:
            browser.close()

    sitemap = admin.http.get(f"/public/help/{brand}/sitemap.xml")
    assert sitemap.status_code == 200
    assert f'hreflang="ko" href="{korean}"' in sitemap.text
