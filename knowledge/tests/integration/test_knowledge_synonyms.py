"""Synonym sets through the API: admins keep them per locale, searches in that language find an
article by any term of a set, a change applies at once; bad sets are refused and change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from omnicase.devtools.testing.apps import GatewayIdentity

pytestmark = pytest.mark.asyncio

# German: no other test writes or searches it, so these tests' sets change nobody else's searches.
GERMAN = {
    "refund": ("Rückerstattung beantragen", "Wir zahlen den Betrag binnen fünf Werktagen auf Ihre Karte."),
    "password": ("Passwort ändern", "Öffnen Sie die Einstellungen und wählen Sie ein neues Passwort."),
}


async def _seed(client: httpx.AsyncClient, brand: str) -> dict[str, str]:
    ids = {}
    for key, (title, body) in GERMAN.items():
        payload = {"brand": brand, "locale": "de", "title": title, "body": body, "status": "published"}
        created = await client.post("/api/v1/kb/articles", json=payload)
        assert created.status_code == 201, created.text
        ids[key] = created.json()["id"]
    return ids


async def _found(client: httpx.AsyncClient, brand: str, q: str, locale: str = "de") -> list[dict[str, Any]]:
    response = await client.get("/api/v1/kb/search", params={"brand": brand, "q": q, "locale": locale})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _sets(client: httpx.AsyncClient, locale: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/kb/synonyms", params={"locale": locale, "limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_synonym_set_finds_the_article_by_the_customers_words_until_deleted(
    client: httpx.AsyncClient, brand: str
) -> None:
    ids = await _seed(client, brand)
    assert await _found(client, brand, "Geld zurück") == []

    created = await client.post(
        "/api/v1/kb/synonyms", json={"locale": "de", "terms": ["Rückerstattung", "Geld zurück"]}
    )
    assert created.status_code == 201, created.text
    synonym_set = created.json()
    try:
        assert synonym_set["terms"] == ["Rückerstattung", "Geld zurück"]
        assert synonym_set["updated_by"]
        hits = await _found(client, brand, "wann bekomme ich mein Geld zurück")
        assert [hit["article_id"] for hit in hits] == [ids["refund"]]
        assert "<mark>" in hits[0]["snippet"] or hits[0]["title"] == GERMAN["refund"][0]
        # Stemmed like the articles: another form of the word is the same term.
        assert [hit["article_id"] for hit in await _found(client, brand, "Rückerstattungen")] == [ids["refund"]]

        replaced = await client.put(
            f"/api/v1/kb/synonyms/{synonym_set['id']}", json={"locale": "de", "terms": ["Passwort", "Kennwort"]}
        )
        assert replaced.status_code == 200, replaced.text
        assert await _found(client, brand, "Geld zurück") == []
        assert [hit["article_id"] for hit in await _found(client, brand, "Kennwort vergessen")] == [ids["password"]]
    finally:
        assert (await client.delete(f"/api/v1/kb/synonyms/{synonym_set['id']}")).status_code == 204
    assert await _found(client, brand, "Kennwort vergessen") == []
    gone = await client.get(f"/api/v1/kb/synonyms/{synonym_set['id']}")
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("/synonym-set-not-found")


async def test_a_new_knowledge_base_understands_everyday_support_words(client: httpx.AsyncClient, brand: str) -> None:
    """The seeded vocabulary: a customer's words for what the titles name otherwise."""
    assert any("refund" in synonym_set["terms"] for synonym_set in await _sets(client, "en"))
    articles = {
        "refund": ("Request a refund", "Refunds are paid to the card you used within 5 business days."),
        "invoice": ("Download an invoice", "Every invoice is under Billing, Invoices, as a PDF."),
    }
    ids = {}
    for key, (title, body) in articles.items():
        payload = {"brand": brand, "locale": "en", "title": title, "body": body, "status": "published"}
        ids[key] = (await client.post("/api/v1/kb/articles", json=payload)).json()["id"]
    money = await _found(client, brand, "when do I get my money back", locale="en")
    assert money[0]["article_id"] == ids["refund"]
    receipt = await _found(client, brand, "I need a receipt", locale="en")
    assert receipt[0]["article_id"] == ids["invoice"]


async def test_bad_synonym_sets_are_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    before = await _sets(client, "de")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"locale": "de", "terms": ["allein"]}, "body.terms"),
        ({"locale": "de", "terms": ["Rückerstattung", "!!!"]}, "body.terms.1"),
        ({"locale": "de", "terms": ["Passwort", "passwort"]}, "body.terms"),
        ({"locale": "not a locale", "terms": ["a", "b"]}, "body.locale"),
        ({"locale": "de", "terms": ["a", "  "]}, "body.terms.1"),
        ({"locale": "de", "terms": ["a", "b"], "brand": "x"}, "body.brand"),
    ]
    for body, field in cases:
        refused = await client.post("/api/v1/kb/synonyms", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert field in [error["field"] for error in refused.json()["errors"]], (body, refused.json())
    missing = await client.put(
        "/api/v1/kb/synonyms/00000000-0000-7000-8000-000000000000", json={"locale": "de", "terms": ["a", "b"]}
    )
    assert missing.status_code == 404
    assert await _sets(client, "de") == before


async def test_agents_read_synonyms_but_do_not_write_them(client: httpx.AsyncClient, agent: GatewayIdentity) -> None:
    refused = await client.post("/api/v1/kb/synonyms", json={"locale": "de", "terms": ["a", "b"]}, auth=agent)
    assert refused.status_code == 403
    assert "knowledge:write" in refused.json()["detail"]
    assert (await client.get("/api/v1/kb/synonyms", params={"locale": "en"}, auth=agent)).status_code == 200
