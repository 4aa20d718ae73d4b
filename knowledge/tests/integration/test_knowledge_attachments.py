"""An article's files through the API: staff upload (multipart), list, download and remove them;
the help center serves them while the article is published; bad uploads change nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.knowledge.app import create_app
from omnicase.knowledge.settings import KnowledgeSettings

pytestmark = pytest.mark.asyncio

WRITER = frozenset({"knowledge:read", "knowledge:write"})
PNG = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 4
PDF = b"%PDF-1.4\n" + uuid.uuid4().bytes * 8


@pytest_asyncio.fixture
async def small(service_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    """knowledge taking files of at most 1 kB."""
    settings: KnowledgeSettings = service_settings(KnowledgeSettings, max_attachment_bytes=1024)
    async with running(create_app(settings), scopes=WRITER) as client:
        yield client


async def _article(client: httpx.AsyncClient, brand: str, status: str = "published") -> str:
    payload = {
        "brand": brand,
        "locale": "en",
        "title": "Set up the router",
        "body": "See the diagram.",
        "status": status,
    }
    created = await client.post("/api/v1/kb/articles", json=payload)
    assert created.status_code == 201, created.text
    article_id: str = created.json()["id"]
    return article_id


def _path(url: str) -> str:
    return urlsplit(url).path


async def _listed(client: httpx.AsyncClient, article_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/kb/articles/{article_id}/attachments")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_files_are_uploaded_listed_downloaded_and_served_while_published(
    client: httpx.AsyncClient, brand: str
) -> None:
    article_id = await _article(client, brand)
    files = [("attachments", ("router.png", PNG, "image/png")), ("attachments", ("manual.pdf", PDF, "application/pdf"))]
    uploaded = await client.post(f"/api/v1/kb/articles/{article_id}/attachments", files=files)
    assert uploaded.status_code == 201, uploaded.text
    items = uploaded.json()["items"]
    assert sorted((item["filename"], item["content_type"], item["size"]) for item in items) == [
        ("manual.pdf", "application/pdf", len(PDF)),
        ("router.png", "image/png", len(PNG)),
    ]
    assert {item["filename"] for item in await _listed(client, article_id)} == {"router.png", "manual.pdf"}
    png = next(item for item in items if item["filename"] == "router.png")

    downloaded = await client.get(png["url"])
    assert downloaded.status_code == 200
    assert downloaded.content == PNG
    assert downloaded.headers["content-type"] == "image/png"
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    assert png["public_url"].endswith(f"/public/help/{brand}/articles/{article_id}/attachments/{png['sha256']}")
    public = await client.get(_path(png["public_url"]), auth=None)
    assert public.status_code == 200
    assert public.content == PNG
    assert (await client.get(_path(png["public_url"]).replace(brand, f"other-{brand}"))).status_code == 404

    # Back to draft: the public no longer gets its files; staff still do.
    draft = await client.put(
        f"/api/v1/kb/articles/{article_id}/translations/en",
        json={"title": "Set up the router", "body": "See the diagram.", "status": "draft"},
    )
    assert draft.status_code == 200, draft.text
    assert (await client.get(_path(png["public_url"]))).status_code == 404
    assert (await client.get(png["url"])).status_code == 200

    assert (await client.delete(png["url"])).status_code == 204
    gone = await client.get(png["url"])
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("/attachment-not-found")
    assert [item["filename"] for item in await _listed(client, article_id)] == ["manual.pdf"]


async def test_the_same_file_twice_in_one_upload_is_one_attachment_named_as_the_later(
    client: httpx.AsyncClient, brand: str
) -> None:
    article_id = await _article(client, brand)
    files = [
        ("attachments", ("draft.pdf", PDF, "application/pdf")),
        ("attachments", ("final.pdf", PDF, "application/pdf")),
    ]
    uploaded = await client.post(f"/api/v1/kb/articles/{article_id}/attachments", files=files)
    assert uploaded.status_code == 201, uploaded.text
    assert [item["filename"] for item in await _listed(client, article_id)] == ["final.pdf"]


async def test_bad_uploads_are_refused_and_change_nothing(
    client: httpx.AsyncClient, small: httpx.AsyncClient, agent: GatewayIdentity, brand: str
) -> None:
    article_id = await _article(client, brand)
    url = f"/api/v1/kb/articles/{article_id}/attachments"
    one = [("attachments", ("a.txt", b"hello", "text/plain"))]

    empty = await client.post(url, json={})
    assert empty.status_code == 422
    assert [e["field"] for e in empty.json()["errors"]] == ["body.attachments"]
    assert (await client.post(url, content=b"x", headers={"content-type": "text/plain"})).status_code == 415
    misplaced = await client.post(url, files=[("picture", ("a.txt", b"hello", "text/plain"))])
    assert misplaced.status_code == 422
    assert [e["field"] for e in misplaced.json()["errors"]] == ["body.picture"]
    too_large = await small.post(url, files=[("attachments", ("big.bin", b"x" * 2048, "application/octet-stream"))])
    assert too_large.status_code == 413
    assert (await client.post(f"/api/v1/kb/articles/{uuid.uuid4()}/attachments", files=one)).status_code == 404
    assert (await client.post(url, files=one, auth=agent)).status_code == 403
    assert (await client.get(f"{url}/not-a-digest")).status_code in (404, 422)
    assert await _listed(client, article_id) == []

    assert (await client.post(f"/api/v1/kb/articles/{article_id}/archive")).status_code == 200
    archived = await client.post(url, files=one)
    assert archived.status_code == 409
    assert archived.json()["type"].endswith("/article-archived")
    assert await _listed(client, article_id) == []
