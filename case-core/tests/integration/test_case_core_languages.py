"""A new case's language and its contact's locale: stated by the channel, detected, or the fallbacks."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import pytest_asyncio

from omnicase.case_core.intake.consumer import IntakeConsumer
from omnicase.case_core.testing import Deliver, Email, cases_of, inbound_email
from omnicase.case_core.wiring import Services
from omnicase.devtools.testing.database import database_work
from omnicase.kit.bus.batch import Received
from omnicase.kit.db import Database
from omnicase.kit.events import CaseDefaults

pytestmark = pytest.mark.asyncio

GERMAN = "Meine Bestellung ist immer noch nicht angekommen, können Sie bitte nachsehen?"
CHINESE = "我的订单还没有到，能帮我查一下在哪里吗？"  # noqa: RUF001 (Chinese punctuation)


@pytest_asyncio.fixture
async def brand(api: httpx.AsyncClient) -> dict[str, Any]:
    """A brand of this test alone answering in Korean first, German and Chinese too."""
    slug = f"brand-{uuid.uuid4().hex[:10]}"
    body = {"name": "Acme", "slug": slug, "default_locale": "ko", "supported_locales": ["de", "zh", "en"]}
    response = await api.post("/api/v1/brands", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _contact(api: httpx.AsyncClient, address: str) -> dict[str, Any]:
    [contact] = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"]
    return dict(contact)


async def test_a_chinese_message_makes_a_chinese_case_and_a_chinese_speaking_contact(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, brand: dict[str, Any]
) -> None:
    await deliver(email(address, "订单", CHINESE, defaults=CaseDefaults(brand=brand["slug"])))
    [case] = await cases_of(api, address)
    assert case["language"] == "zh"
    assert (await _contact(api, address))["locale"] == "zh"


async def test_a_german_message_is_detected_among_the_brands_languages(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, brand: dict[str, Any]
) -> None:
    await deliver(email(address, "Bestellung", GERMAN, defaults=CaseDefaults(brand=brand["slug"])))
    [case] = await cases_of(api, address)
    assert case["language"] == "de"
    assert (await _contact(api, address))["locale"] == "de"


async def test_a_short_message_takes_the_contacts_locale_then_the_brands_default_and_sets_no_locale(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, brand: dict[str, Any]
) -> None:
    defaults = CaseDefaults(brand=brand["slug"])
    await deliver(email(address, "Hi", "ok", defaults=defaults))
    [first] = await cases_of(api, address)
    assert first["language"] == "ko", "the brand's default"
    contact = await _contact(api, address)
    assert contact["locale"] is None, "a fallback is no evidence of the contact's language"

    changed = await api.patch(f"/api/v1/contacts/{contact['id']}", json={"locale": "fr"})
    assert changed.status_code == 200, changed.text
    await deliver(email(address, "Re", "ok", defaults=defaults))
    newest = (await cases_of(api, address))[0]
    assert newest["language"] == "fr", "the contact's locale before the brand's default"

    # A clear message of another language is the case's, and leaves the contact's locale as it was.
    await deliver(email(address, "Bestellung", GERMAN, defaults=defaults))
    assert (await cases_of(api, address))[0]["language"] == "de"
    assert (await _contact(api, address))["locale"] == "fr"


async def test_a_reply_in_another_language_joins_the_case_and_keeps_its_language(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, brand: dict[str, Any]
) -> None:
    defaults = CaseDefaults(brand=brand["slug"])
    first_id = f"{uuid.uuid4().hex}@customer.example"
    await deliver(email(address, "订单", CHINESE, message_id=first_id, defaults=defaults))
    # The customer's colleague answers in German: the thread stays the Chinese case it was.
    await deliver(email(address, "Re: 订单", GERMAN, in_reply_to=[first_id], references=[first_id], defaults=defaults))
    [case] = await cases_of(api, address)
    assert case["language"] == "zh"
    messages = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
    assert [message["text"] for message in messages] == [CHINESE, GERMAN]
    assert (await _contact(api, address))["locale"] == "zh"


async def test_the_channels_stated_language_is_taken_without_detection(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, brand: dict[str, Any]
) -> None:
    await deliver(email(address, "Bestellung", GERMAN, defaults=CaseDefaults(brand=brand["slug"], language="zh-CN")))
    [case] = await cases_of(api, address)
    assert case["language"] == "zh-cn"
    assert (await _contact(api, address))["locale"] == "zh-cn"


async def test_without_a_brand_a_korean_message_is_told_by_its_script(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str
) -> None:
    await deliver(email(address, "배송", "주문한 상품이 아직 도착하지 않았어요. 확인해 주실 수 있나요?"))
    [case] = await cases_of(api, address)
    assert case["language"] == "ko"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"locale": "Deutsch"}, "body.locale"), ({"locale": "DE"}, "body.locale"), ({"locale": 7}, "body.locale")],
)
async def test_a_bad_contact_locale_is_refused_naming_the_field(
    api: httpx.AsyncClient, address: str, body: dict[str, Any], field: str
) -> None:
    created = await api.post("/api/v1/contacts", json={"emails": [address], "locale": "de"})
    assert created.status_code == 201, created.text
    assert created.json()["locale"] == "de"
    response = await api.patch(f"/api/v1/contacts/{created.json()['id']}", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}
    assert (await api.get(f"/api/v1/contacts/{created.json()['id']}")).json()["locale"] == "de"


async def test_the_new_locales_of_a_batchs_contacts_cost_one_statement(
    db: Database, services: Services, brand: dict[str, Any]
) -> None:
    intake: IntakeConsumer = services.intake
    defaults = CaseDefaults(brand=brand["slug"])
    batch = []
    for _ in range(5):
        message = inbound_email(f"{uuid.uuid4().hex[:12]}@customers.example", "订单", CHINESE, defaults=defaults)
        batch.append(Received(message.envelope(source="intake-email", subject=str(message.intake_id)), message))
    async with db.unit_of_work() as session:
        await intake.languages.detector(session)  # built before: its models load once per brand change
    with database_work(db.engine, whole_statements=True) as work:
        async with db.unit_of_work() as session:
            await intake.handle(session, batch)
    updates = [statement for statement in work.statements if statement.startswith("UPDATE case_core.contacts")]
    assert len(updates) == 1, work.statements
