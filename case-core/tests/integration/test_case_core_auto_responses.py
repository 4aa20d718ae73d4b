# ruff: noqa: RUF001 (Chinese is written with Chinese punctuation: full-width commas)
"""Auto-responses from the shared templates: one per new email or web-form case the intake lets us answer,
none for thread replies, redeliveries or mail the intake refused; the admin's text per brand and
locale with escaped values; the built-in default on a fresh install."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from omnicase.case_core.testing import Deliver, Email, Published, auto_responses, cases_of
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseDefaults, Channel, MessageReceived, Party
from omnicase.kit.ids import uuid7

pytestmark = pytest.mark.asyncio

WANTED = {"auto_response": True}


async def test_a_new_email_case_gets_one_threaded_auto_response_from_the_built_in_template(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    message = email(address, name="Ada Lovelace", metadata=WANTED, references=["older@mail.example"])
    await deliver(message)
    [case] = await cases_of(api, address)
    [answer] = auto_responses(await published(case["id"]))
    assert answer["to"][0]["email"] == address
    assert answer["subject"] == f"Re: Printer on fire [#{case['number']}]"
    assert answer["in_reply_to"] == message.message_id
    assert answer["references"] == ["older@mail.example", message.message_id]
    assert f"opened case #{case['number']}" in answer["text"]
    assert "[ref:oc-" in answer["text"], "the customer's answer to it threads by the hidden reference"
    assert answer["headers"]["X-Omnicase-Ref"].startswith("[ref:oc-")
    # An acknowledgement is no agent's reply: the case waits for its first reply as before.
    current = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    assert current["first_public_reply_at"] is None
    assert current["status"] == "new"
    assert len((await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]) == 1

    # The same mail again (a redelivery) and a reply in the thread: no second auto-response.
    await deliver(message)
    await deliver(email(address, subject="Re: Printer on fire", in_reply_to=[message.message_id], metadata=WANTED))
    assert len(await cases_of(api, address)) == 1
    assert len(auto_responses(await published(case["id"]))) == 1


@pytest.mark.parametrize(
    ("subject", "text", "words"),
    [
        ("订单还没有收到", "你好，我上周买的咖啡机到现在还没有收到，请帮我查一下物流信息。", "我们已收到您的请求"),
        ("환불 요청", "지난주에 주문한 상품이 파손되어 도착했습니다. 환불을 요청합니다.", "문의를 접수하여"),
    ],
    ids=["zh", "ko"],
)
async def test_the_built_in_auto_response_answers_in_the_cases_language(
    api: httpx.AsyncClient,
    deliver: Deliver,
    published: Published,
    email: Email,
    address: str,
    subject: str,
    text: str,
    words: str,
) -> None:
    await deliver(email(address, subject=subject, text=text, metadata=WANTED))
    [case] = await cases_of(api, address)
    [answer] = auto_responses(await published(case["id"]))
    assert words in answer["text"]
    assert f"#{case['number']}" in answer["text"]
    assert subject in answer["text"]
    assert "Thank you for writing" not in answer["text"]


async def test_mail_the_intake_does_not_let_us_answer_gets_no_auto_response(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email
) -> None:
    senders = [f"{uuid.uuid4().hex[:10]}@customer.example" for _ in range(3)]
    await deliver(email(senders[0], metadata={"auto_response": False}))
    await deliver(email(senders[1]))  # an intake that says nothing (web forms today)
    await deliver(email(senders[2], metadata=WANTED, auto_generated=True))  # an out-of-office about a case
    for sender in senders:
        cases = await cases_of(api, sender)
        for case in cases:
            assert auto_responses(await published(case["id"])) == []


async def test_the_admins_template_picks_the_brand_and_locale_variant_and_escapes_values(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    template = {
        "text": "Thanks {{requester.first_name}}, case {{case.number}}.",
        "variants": [
            {"brand": "acme", "text": "Acme thanks {{requester.first_name}} <3 for {{case.subject}}."},
            {"brand": "globex", "locale": "de", "text": "Globex dankt."},
        ],
    }
    saved = await api.put("/api/v1/triggers/auto-response", json=template)
    assert saved.status_code == 200, saved.text
    assert saved.json()["built_in"] is False
    assert saved.json()["updated_by"].startswith("user:")
    await deliver(
        email(
            address,
            subject="<script>alert(1)</script>",
            name="<b>Ada</b> Lovelace",
            metadata=WANTED,
            defaults=CaseDefaults(brand="acme"),
        )
    )
    [case] = await cases_of(api, address)
    [answer] = auto_responses(await published(case["id"]))
    assert answer["text"].startswith("Acme thanks <b>Ada</b> <3 for <script>alert(1)</script>.")
    assert "&lt;b&gt;Ada&lt;/b&gt; &lt;3 for &lt;script&gt;alert(1)&lt;/script&gt;." in answer["html"]
    assert "<script>" not in answer["html"]

    other = f"{uuid.uuid4().hex[:10]}@customer.example"
    await deliver(email(other, name="Grace Hopper", metadata=WANTED))
    [plain] = await cases_of(api, other)
    [default_answer] = auto_responses(await published(plain["id"]))
    assert default_answer["text"].startswith(f"Thanks Grace, case {plain['number']}.")


async def test_the_auto_response_template_is_validated_kept_for_admins_and_can_go_back_to_the_built_in(
    api: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    built_in = (await api.get("/api/v1/triggers/auto-response")).json()
    assert built_in["built_in"] is True
    assert "{{case.number}}" in built_in["text"]
    bad = await api.put(
        "/api/v1/triggers/auto-response",
        json={"text": "Hi {{requester.password}}", "variants": [{"locale": "de", "text": ""}]},
    )
    assert bad.status_code == 422
    assert {error["field"] for error in bad.json()["errors"]} == {"body.text", "body.variants.0.text"}
    assert (await api.get("/api/v1/triggers/auto-response")).json() == built_in
    forbidden = await api.put("/api/v1/triggers/auto-response", json={"text": "Hi"}, headers=agent)
    assert forbidden.status_code == 403
    assert (await api.get("/api/v1/triggers/auto-response", headers=agent)).status_code == 200
    assert (await api.put("/api/v1/triggers/auto-response", json={"text": "Hi"})).status_code == 200
    reset = await api.delete("/api/v1/triggers/auto-response")
    assert reset.status_code == 200
    assert reset.json() == built_in


def form_submission(address: str, name: str, metadata: dict[str, Any]) -> MessageReceived:
    submission = uuid7()
    return MessageReceived(
        intake_id=submission,
        channel=Channel.WEB,
        received_at=utcnow(),
        thread_key=f"web:{submission}",
        sender=Party(email=address, name=name),
        subject="Charged twice",
        text="Order 1234 was charged twice.",
        metadata=metadata,
    )


async def test_a_web_form_case_is_acknowledged_by_email_with_the_forms_text_or_the_shared_template(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, address: str
) -> None:
    own = {"subject": "Request {{case.number}} received", "text": "Hello {{requester.first_name}}, we are on it."}
    await deliver(form_submission(address, "<b>Jo</b> Doe", {**WANTED, "auto_response_template": own}))
    [case] = await cases_of(api, address)
    [answer] = auto_responses(await published(case["id"]))
    assert answer["channel"] == "email"
    assert answer["to"][0]["email"] == address
    assert answer["subject"] == f"Request {case['number']} received [#{case['number']}]", "replies find the case"
    assert answer["text"].startswith("Hello <b>Jo</b>, we are on it.")
    assert "&lt;b&gt;Jo&lt;/b&gt;" in answer["html"]
    assert "[ref:oc-" in answer["text"]
    assert answer["in_reply_to"] is None

    # A form without texts of its own gets the shared template; one that does not acknowledge, nothing.
    other = f"other-{uuid.uuid4().hex[:8]}@customer.example"
    await deliver(form_submission(other, "Max", WANTED))
    [shared] = await cases_of(api, other)
    [plain] = auto_responses(await published(shared["id"]))
    assert f"opened case #{shared['number']}" in plain["text"]
    quiet = f"quiet-{uuid.uuid4().hex[:8]}@customer.example"
    await deliver(form_submission(quiet, "Quinn", {}))
    [silent] = await cases_of(api, quiet)
    assert auto_responses(await published(silent["id"])) == []
