"""Articles through the API: translations, publication as versions, archiving, events on the broker;
bad input is refused naming the field and changes nothing; agents read and do not write."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from omnicase.devtools.testing.apps import GatewayIdentity
from omnicase.devtools.testing.probes import read_topic
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio

BODY = "To reset your password, open **Settings**, then *Security*.\n\n<script>alert(1)</script>\n\n1. Click Reset"


def article_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"locale": "en", "title": "Reset your password", "body": BODY, "status": "draft"}
    body.update(fields)
    return body


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    answer: dict[str, Any] = response.json()
    return answer


async def test_an_article_is_written_translated_published_and_archived(
    client: httpx.AsyncClient, brand: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    section = (await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Sign-in"})).json()
    created = await client.post("/api/v1/kb/articles", json=article_body(section_id=section["id"], labels=["a", "a"]))
    assert created.status_code == 201, created.text
    article = created.json()
    assert (article["brand"], article["section_id"], article["labels"]) == (brand, section["id"], ["a"])
    (english,) = article["translations"]
    assert (english["locale"], english["status"], english["version"]) == ("en", "draft", 0)
    assert "<strong>Settings</strong>" in english["body_html"]
    assert "<script>" not in english["body_html"]
    assert "<ol>" in english["body_html"]

    url = f"/api/v1/kb/articles/{article['id']}"
    published = await client.put(
        f"{url}/translations/en", json={"title": "Reset your password", "body": BODY, "status": "published"}
    )
    assert published.status_code == 200, published.text
    assert published.json()["translations"][0]["version"] == 1
    again = await client.put(
        f"{url}/translations/en", json={"title": "Reset your password", "body": BODY, "status": "published"}
    )
    assert again.json()["translations"][0]["version"] == 1  # nothing changed: no version, no event
    edited = await client.put(
        f"{url}/translations/en", json={"title": "Reset a forgotten password", "body": BODY, "status": "published"}
    )
    assert edited.json()["translations"][0]["version"] == 2

    korean = await client.put(
        f"{url}/translations/KO",
        json={"title": "비밀번호 재설정", "body": "설정에서 비밀번호를 바꾸세요.", "status": "published"},
    )
    assert korean.status_code == 200, korean.text
    assert [t["locale"] for t in korean.json()["translations"]] == ["en", "ko"]

    versions = (await client.get(f"{url}/versions")).json()
    assert [(v["locale"], v["version"], v["title"]) for v in versions["items"]] == [
        ("ko", 1, "비밀번호 재설정"),
        ("en", 2, "Reset a forgotten password"),
        ("en", 1, "Reset your password"),
    ]
    assert {v["author_id"] for v in versions["items"]} == {"test-admin"}
    english_only = (await client.get(f"{url}/versions", params={"locale": "en", "limit": 1})).json()
    assert [v["version"] for v in english_only["items"]] == [2]
    older = await client.get(f"{url}/versions", params={"locale": "en", "cursor": english_only["next_cursor"]})
    assert [v["version"] for v in older.json()["items"]] == [1]

    drafted = await client.put(
        f"{url}/translations/en", json={"title": "Reset a forgotten password", "body": BODY, "status": "draft"}
    )
    assert drafted.json()["translations"][0]["status"] == "draft"
    republished = await client.put(
        f"{url}/translations/en", json={"title": "Reset a forgotten password", "body": BODY, "status": "published"}
    )
    assert republished.json()["translations"][0]["version"] == 3

    archived = await client.post(f"{url}/archive")
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived_at"] is not None
    assert {t["status"] for t in archived.json()["translations"]} == {"archived"}
    problem(await client.post(f"{url}/archive"), 409)
    late = await client.put(f"{url}/translations/en", json={"title": "x", "body": "y", "status": "draft"})
    assert problem(late, 409)["type"].endswith("/article-archived")

    records = await read_topic(kafka_bootstrap, physical(Topic.KNOWLEDGE_EVENTS, topic_prefix), expect=6)
    told = [json.loads(record.value) for record in records]
    assert [(e["type"], e["data"].get("locale"), e["data"].get("version")) for e in told] == [
        ("article.published", "en", 1),
        ("article.published", "en", 2),
        ("article.published", "ko", 1),
        ("article.unpublished", "en", None),
        ("article.published", "en", 3),
        ("article.archived", None, None),
    ]
    assert {record.key for record in records} == {article["id"].encode()}


async def test_articles_are_listed_with_their_filters(client: httpx.AsyncClient, brand: str) -> None:
    first = (await client.post("/api/v1/kb/articles", json=article_body(brand=brand, labels=["billing"]))).json()
    second = (
        await client.post("/api/v1/kb/articles", json=article_body(brand=brand, locale="zh-cn", status="published"))
    ).json()
    listed = (await client.get("/api/v1/kb/articles", params={"brand": brand})).json()
    assert [a["id"] for a in listed["items"]] == [first["id"], second["id"]]
    assert second["translations"][0]["locale"] == "zh-CN"
    published = (await client.get("/api/v1/kb/articles", params={"brand": brand, "status": "published"})).json()
    assert [a["id"] for a in published["items"]] == [second["id"]]
    labelled = (await client.get("/api/v1/kb/articles", params={"brand": brand, "label": "billing"})).json()
    assert [a["id"] for a in labelled["items"]] == [first["id"]]
    chinese = (await client.get("/api/v1/kb/articles", params={"brand": brand, "locale": "zh-CN"})).json()
    assert [a["id"] for a in chinese["items"]] == [second["id"]]
    page = (await client.get("/api/v1/kb/articles", params={"brand": brand, "limit": 1})).json()
    rest = (await client.get("/api/v1/kb/articles", params={"brand": brand, "cursor": page["next_cursor"]})).json()
    assert [a["id"] for a in page["items"] + rest["items"]] == [first["id"], second["id"]]


async def test_bad_articles_are_refused_and_change_nothing(
    client: httpx.AsyncClient, brand: str, new_brand: Callable[[], Awaitable[str]]
) -> None:
    missing = problem(await client.post("/api/v1/kb/articles", json={"brand": brand, "locale": "en"}), 422)
    assert {e["field"] for e in missing["errors"]} >= {"body.title", "body.body", "body.status"}
    bad_locale = problem(
        await client.post("/api/v1/kb/articles", json=article_body(brand=brand, locale="english!")), 422
    )
    assert [e["field"] for e in bad_locale["errors"]] == ["body.locale"]
    archived = problem(await client.post("/api/v1/kb/articles", json=article_body(brand=brand, status="archived")), 422)
    assert [e["field"] for e in archived["errors"]] == ["body.status"]

    nowhere = await client.post("/api/v1/kb/articles", json=article_body(brand=brand, section_id=str(uuid.uuid4())))
    answer = problem(nowhere, 404)
    assert answer["type"].endswith("/unknown-reference")
    assert [e["field"] for e in answer["errors"]] == ["body.section_id"]

    other = (await client.post("/api/v1/kb/sections", json={"brand": await new_brand(), "name": "Elsewhere"})).json()
    clash = problem(
        await client.post("/api/v1/kb/articles", json=article_body(brand=brand, section_id=other["id"])), 409
    )
    assert [e["field"] for e in clash["errors"]] == ["body.brand"]
    assert (await client.get("/api/v1/kb/articles", params={"brand": brand})).json()["items"] == []

    unknown = f"/api/v1/kb/articles/{uuid.uuid4()}"
    assert problem(await client.get(unknown), 404)["type"].endswith("/article-not-found")
    put = await client.put(f"{unknown}/translations/en", json={"title": "t", "body": "b", "status": "draft"})
    assert problem(put, 404)["type"].endswith("/article-not-found")
    problem(await client.get(f"{unknown}/versions"), 404)
    problem(await client.get("/api/v1/kb/articles/not-an-id"), 404)

    article = (await client.post("/api/v1/kb/articles", json=article_body(brand=brand))).json()
    url = f"/api/v1/kb/articles/{article['id']}/translations"
    problem(await client.put(f"{url}/en", json={"title": " ", "body": "b", "status": "published"}), 422)
    problem(await client.put(f"{url}/not_a_locale", json={"title": "t", "body": "b", "status": "draft"}), 404)
    assert (await client.get(f"/api/v1/kb/articles/{article['id']}")).json() == article


async def test_agents_read_articles_but_do_not_write_them(
    client: httpx.AsyncClient, agent: GatewayIdentity, brand: str
) -> None:
    article = (await client.post("/api/v1/kb/articles", json=article_body(brand=brand))).json()
    assert (await client.get(f"/api/v1/kb/articles/{article['id']}", auth=agent)).status_code == 200
    refused = await client.post("/api/v1/kb/articles", json=article_body(brand=brand), auth=agent)
    assert problem(refused, 403)["detail"] == "This needs the knowledge:write scope."
    url = f"/api/v1/kb/articles/{article['id']}"
    problem(
        await client.put(f"{url}/translations/en", json={"title": "t", "body": "b", "status": "published"}, auth=agent),
        403,
    )
    problem(await client.post(f"{url}/archive", auth=agent), 403)
    assert (await client.get(url)).json() == article


async def test_an_article_moves_between_its_brands_sections_and_keeps_its_place_when_one_goes(
    client: httpx.AsyncClient, brand: str, new_brand: Callable[[], Awaitable[str]]
) -> None:
    billing = (await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Billing"})).json()
    payments = (await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Payments"})).json()
    elsewhere = (await client.post("/api/v1/kb/sections", json={"brand": await new_brand(), "name": "Other"})).json()
    article = (await client.post("/api/v1/kb/articles", json=article_body(section_id=billing["id"]))).json()
    url = f"/api/v1/kb/articles/{article['id']}"

    moved = await client.patch(url, json={"section_id": payments["id"], "labels": ["cards", " cards "]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["section_id"], moved.json()["labels"], moved.json()["brand"]) == (
        payments["id"],
        ["cards"],
        brand,
    )
    clash = problem(await client.patch(url, json={"section_id": elsewhere["id"]}), 409)
    assert [e["field"] for e in clash["errors"]] == ["body.section_id"]
    problem(await client.patch(url, json={"section_id": str(uuid.uuid4())}), 404)
    problem(await client.patch(url, json={"labels": None}), 422)
    assert (await client.get(url)).json()["section_id"] == payments["id"]

    assert (await client.delete(f"/api/v1/kb/sections/{payments['id']}")).status_code == 204
    kept = (await client.get(url)).json()
    assert (kept["section_id"], kept["translations"][0]["title"]) == (None, "Reset your password")
    assert (await client.patch(url, json={"section_id": billing["id"]})).json()["section_id"] == billing["id"]
