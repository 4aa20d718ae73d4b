"""An article attached to a reply on a case: the reply gets the published translation's title and
help-center address, the article lists the case (``attached``); a draft, an unknown article or a
reader without knowledge:write is refused and nothing is linked."""

from __future__ import annotations

import uuid

import httpx
import pytest

from omnicase.devtools.testing.apps import GatewayIdentity

pytestmark = pytest.mark.asyncio


async def article(client: httpx.AsyncClient, brand: str, locale: str, title: str, status: str = "published") -> str:
    payload = {"brand": brand, "locale": locale, "title": title, "body": f"{title}.", "status": status}
    created = await client.post("/api/v1/kb/articles", json=payload)
    assert created.status_code == 201, created.text
    article_id: str = created.json()["id"]
    return article_id


async def test_a_reply_carries_the_published_translation_and_the_article_lists_the_case(
    client: httpx.AsyncClient, brand: str
) -> None:
    article_id = await article(client, brand, "ko", "비밀번호 재설정")
    english = {"title": "Reset your password", "body": "Open Settings.", "status": "published"}
    assert (await client.put(f"/api/v1/kb/articles/{article_id}/translations/en", json=english)).status_code == 200
    case_id = str(uuid.uuid4())

    attached = await client.post(f"/api/v1/kb/articles/{article_id}/cases", json={"case_id": case_id})
    assert attached.status_code == 201, attached.text
    reply = attached.json()
    assert (reply["locale"], reply["title"]) == ("en", "Reset your password")  # English first when not asked
    assert reply["url"].endswith(f"/public/help/{brand}/en/articles/{article_id}")
    korean = await client.post(f"/api/v1/kb/articles/{article_id}/cases", json={"case_id": case_id, "locale": "ko"})
    assert (korean.json()["locale"], korean.json()["title"]) == ("ko", "비밀번호 재설정")
    # The customer's link opens the page it names.
    page = await client.get(httpx.URL(reply["url"]).path)
    assert page.status_code == 200
    assert "Reset your password" in page.text

    cases = (await client.get(f"/api/v1/kb/articles/{article_id}/cases")).json()["items"]
    assert [(c["case_id"], c["relation"]) for c in cases] == [(case_id, "attached")]  # attached once


async def test_a_draft_an_unknown_article_or_a_reader_is_refused_and_nothing_is_linked(
    client: httpx.AsyncClient, agent: GatewayIdentity, brand: str
) -> None:
    draft = await article(client, brand, "en", "Not ready yet", status="draft")
    published = await article(client, brand, "en", "Ready")
    case_id = str(uuid.uuid4())

    refused = await client.post(f"/api/v1/kb/articles/{draft}/cases", json={"case_id": case_id})
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("article-not-published")
    other_locale = await client.post(
        f"/api/v1/kb/articles/{published}/cases", json={"case_id": case_id, "locale": "ko"}
    )
    assert other_locale.status_code == 409
    assert [e["field"] for e in other_locale.json()["errors"]] == ["body.locale"]
    missing = await client.post(f"/api/v1/kb/articles/{uuid.uuid4()}/cases", json={"case_id": case_id})
    assert missing.status_code == 404
    for bad in ({}, {"case_id": "nope"}, {"case_id": case_id, "locale": "english!"}, {"case_id": case_id, "x": 1}):
        assert (await client.post(f"/api/v1/kb/articles/{published}/cases", json=bad)).status_code == 422, bad
    reader = await client.post(f"/api/v1/kb/articles/{published}/cases", json={"case_id": case_id}, auth=agent)
    assert reader.status_code == 403

    for article_id in (draft, published):
        assert (await client.get(f"/api/v1/kb/articles/{article_id}/cases")).json()["items"] == []
