"""Search by words and meaning (``KNOWLEDGE_EMBEDDING_MODEL``, the real multilingual-e5-small in
process, pgvector in the real PostgreSQL): a question sharing no word with its answer finds it,
a question about nothing the knowledge base holds finds nothing, an edited article is found by
its new meaning, and articles written before the model was configured are embedded by the
backfill."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from omnicase.devtools.testing.apps import running
from omnicase.knowledge.app import create_app
from omnicase.knowledge.settings import KnowledgeSettings

pytestmark = pytest.mark.asyncio

MODEL = "multilingual-e5-small"
WRITER_SCOPES = frozenset({"knowledge:read", "knowledge:write"})
DELIVERY = ("Delivery times", "Orders arrive within three to five working days after you place them.")
ARTICLES = {
    "delivery": ("en", *DELIVERY),
    "password": ("en", "Reset your password", "Open Settings, then Security, and choose Reset password."),
    "refund": ("en", "Request a refund", "Refunds are paid to your card within 5 business days of the return."),
    "ko_password": (
        "ko",
        "비밀번호 재설정",
        "비밀번호를 잊어버렸다면 설정의 보안 메뉴에서 비밀번호 재설정을 선택하세요.",
    ),
}
# Shares no word with the delivery article, even stemmed ("show", "stuff", "soon").
UNWORDED = "how soon will my stuff show up"


@asynccontextmanager
async def semantic(settings: KnowledgeSettings) -> AsyncIterator[httpx.AsyncClient]:
    """knowledge with the model configured, on the same database as the ``client`` fixture's."""
    configured = settings.model_copy(update={"embedding_model": MODEL})
    async with running(create_app(configured), scopes=WRITER_SCOPES) as client:
        client.timeout = httpx.Timeout(30)
        yield client


async def seed(client: httpx.AsyncClient, brand: str) -> dict[str, str]:
    ids = {}
    for key, (locale, title, body) in ARTICLES.items():
        payload = {"brand": brand, "locale": locale, "title": title, "body": body, "status": "published"}
        created = await client.post("/api/v1/kb/articles", json=payload)
        assert created.status_code == 201, created.text
        ids[key] = created.json()["id"]
    return ids


async def found(client: httpx.AsyncClient, brand: str, q: str) -> list[str]:
    response = await client.get("/api/v1/kb/search", params={"brand": brand, "q": q})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return [item["article_id"] for item in items]


async def test_a_question_without_the_articles_words_finds_it_by_meaning(
    client: httpx.AsyncClient, settings: KnowledgeSettings, brand: str
) -> None:
    async with semantic(settings) as both:
        ids = await seed(both, brand)
        assert ids["delivery"] not in await found(client, brand, UNWORDED)  # words alone: not found
        assert (await found(both, brand, UNWORDED))[0] == ids["delivery"]
        # Another language, other words for the same thing (암호: a password; nothing else in common).
        assert (await found(both, brand, "로그인 암호가 기억 안 나요"))[0] == ids["ko_password"]
        # Words still count: a question in the articles' own words keeps its answer first.
        assert (await found(both, brand, "reset password"))[0] == ids["password"]
        # A question about nothing the knowledge base holds finds nothing, by words or meaning.
        assert await found(both, brand, "I love cats") == []


async def test_an_edited_article_is_found_by_its_new_meaning(
    client: httpx.AsyncClient, settings: KnowledgeSettings, brand: str
) -> None:
    async with semantic(settings) as both:
        ids = await seed(both, brand)
        festive = "make the box look festive"  # no word of the edited text either
        assert ids["delivery"] not in await found(both, brand, festive)
        wrapping = {
            "title": "Gift wrapping",
            "body": "Add a ribbon and a handwritten card at checkout.",
            "status": "published",
        }
        edited = await both.put(f"/api/v1/kb/articles/{ids['delivery']}/translations/en", json=wrapping)
        assert edited.status_code == 200, edited.text
        assert (await found(both, brand, festive))[0] == ids["delivery"]


async def test_articles_written_before_the_model_are_embedded_by_the_backfill(
    client: httpx.AsyncClient, settings: KnowledgeSettings, brand: str
) -> None:
    ids = await seed(client, brand)  # no model: no vectors
    async with semantic(settings) as both:
        for _ in range(60):
            hits = await found(both, brand, UNWORDED)
            if hits and hits[0] == ids["delivery"]:
                break
            await asyncio.sleep(0.5)
        else:
            raise AssertionError(f"the backfill never embedded the delivery article: {hits}")
