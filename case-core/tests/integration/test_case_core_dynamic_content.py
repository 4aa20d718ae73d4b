"""Dynamic content: the API (good and bad input), and {{dc.<name>}} in auto-responses and macros, in the
recipient's locale, else the brand's default, else the item's own text."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from omnicase.case_core.testing import Deliver, Email, Published, auto_responses, cases_of
from omnicase.kit.events import CaseDefaults

pytestmark = pytest.mark.asyncio

WANTED = {"auto_response": True}
CHINESE = "我的订单还没有到，能帮我查一下在哪里吗？"  # noqa: RUF001 (Chinese punctuation)
GREETING = {"name": "greeting", "text": "Hello", "variants": {"ko": "안녕하세요", "zh": "您好", "de": "Hallo"}}


async def _item(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/dynamic-content", json=body)
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


async def test_an_item_is_kept_changed_and_deleted(api: httpx.AsyncClient) -> None:
    item = await _item(api, **GREETING)
    assert response_location(item) == f"/api/v1/dynamic-content/{item['id']}"
    assert (await api.get(f"/api/v1/dynamic-content/{item['id']}")).json() == item
    assert item in (await api.get("/api/v1/dynamic-content")).json()["items"]
    changed = await api.patch(f"/api/v1/dynamic-content/{item['id']}", json={"variants": {"ja": "こんにちは"}})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["text"], changed.json()["variants"]) == (
        "greeting",
        "Hello",
        {"ja": "こんにちは"},
    )
    assert (await api.delete(f"/api/v1/dynamic-content/{item['id']}")).status_code == 204
    gone = await api.get(f"/api/v1/dynamic-content/{item['id']}")
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("dynamic-content-not-found")


def response_location(item: dict[str, Any]) -> str:
    return f"/api/v1/dynamic-content/{item['id']}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GREETING, "name": "Greeting-1"}, "body.name"),
        ({**GREETING, "text": ""}, "body.text"),
        ({**GREETING, "variants": {"Korean": "안녕하세요"}}, "body.variants.Korean.[key]"),
        ({**GREETING, "variants": {"ko": ""}}, "body.variants.ko"),
        ({**GREETING, "default": "x"}, "body.default"),
    ],
)
async def test_a_bad_item_is_refused_naming_the_field_and_nothing_is_kept(
    api: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await api.post("/api/v1/dynamic-content", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    fields = {error["field"] for error in response.json()["errors"]}
    assert field in fields, fields
    assert (await api.get("/api/v1/dynamic-content")).json()["items"] == []


async def test_a_taken_name_a_null_text_and_an_agents_write_are_refused(
    api: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    item = await _item(api, **GREETING)
    taken = await api.post("/api/v1/dynamic-content", json=GREETING)
    assert taken.status_code == 409
    assert taken.json()["type"].endswith("dynamic-content-name-taken")
    nulled = await api.patch(f"/api/v1/dynamic-content/{item['id']}", json={"text": None})
    assert nulled.status_code == 422
    renamed = await api.patch(f"/api/v1/dynamic-content/{item['id']}", json={"name": "other"})
    assert renamed.status_code == 422
    assert (await api.post("/api/v1/dynamic-content", json={**GREETING, "name": "x"}, headers=agent)).status_code == 403
    assert (await api.get(f"/api/v1/dynamic-content/{item['id']}", headers=agent)).json() == item


async def test_an_auto_response_greets_in_the_customers_language_then_the_brands_then_the_items_own(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    await _item(api, **GREETING)
    slug = f"brand-{uuid.uuid4().hex[:10]}"
    brand = await api.post(
        "/api/v1/brands", json={"name": "Acme", "slug": slug, "default_locale": "de", "supported_locales": ["zh"]}
    )
    assert brand.status_code == 201, brand.text
    saved = await api.put("/api/v1/triggers/auto-response", json={"text": "{{dc.greeting}} {{dc.nobody}}#"})
    assert saved.status_code == 200, saved.text

    await deliver(email(address, "订单", CHINESE, metadata=WANTED, defaults=CaseDefaults(brand=slug)))
    [chinese] = await cases_of(api, address)
    [answer] = auto_responses(await published(chinese["id"]))
    assert answer["text"].startswith("您好 #"), "the customer's language; an item nobody defined is empty"

    short = f"short-{address}"
    await deliver(email(short, "Hi", "ok", metadata=WANTED, defaults=CaseDefaults(brand=slug)))
    [german] = await cases_of(api, short)
    assert auto_responses(await published(german["id"]))[0]["text"].startswith("Hallo #"), "the brand's default"

    plain = f"plain-{address}"
    await deliver(email(plain, "Hi", "ok", metadata=WANTED))
    [english] = await cases_of(api, plain)
    assert auto_responses(await published(english["id"]))[0]["text"].startswith("Hello #"), "the item's own"


async def test_a_macro_reply_uses_the_requesters_locale(api: httpx.AsyncClient) -> None:
    await _item(api, **GREETING)
    address = f"{uuid.uuid4().hex[:8]}@customer.example"
    contact = await api.post("/api/v1/contacts", json={"emails": [address], "locale": "ko-kr"})
    assert contact.status_code == 201, contact.text
    case = await api.post("/api/v1/cases", json={"subject": "배송", "requester_id": contact.json()["id"]})
    assert case.status_code == 201, case.text
    macro = await api.post(
        "/api/v1/macros",
        json={"name": "Greet", "actions": [{"type": "add_reply", "text": "{{dc.greeting}} {{requester.email}}"}]},
    )
    assert macro.status_code == 201, macro.text
    preview = await api.post(f"/api/v1/macros/{macro.json()['id']}/preview", json={"case_id": case.json()["id"]})
    assert preview.status_code == 200, preview.text
    assert preview.json()["messages"][0]["text"] == f"안녕하세요 {address}"

    bad = await api.post(
        "/api/v1/macros", json={"name": "Bad", "actions": [{"type": "add_reply", "text": "{{dc.greeting.more}}"}]}
    )
    assert bad.status_code == 422
