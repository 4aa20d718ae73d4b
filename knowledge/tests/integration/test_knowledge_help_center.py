"""The public help center, no sign-in: a brand's home lists its sections with their published
articles in the locale, a section page its own, the search page and the widgets' JSON search find
published articles only, and the sitemap lists every translation with its alternates."""

from __future__ import annotations

import uuid
from xml.etree import ElementTree

import httpx
import pytest

pytestmark = pytest.mark.asyncio

BASE = "http://127.0.0.1:8080"


async def test_home_section_search_and_sitemap_show_published_articles_only(
    client: httpx.AsyncClient, brand: str
) -> None:
    section = (await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Account"})).json()
    created = await client.post(
        "/api/v1/kb/articles",
        json={
            "brand": brand,
            "section_id": section["id"],
            "locale": "en",
            "title": "Reset your password",
            "body": "Open **Settings**, then *Security*, and choose Reset password.",
            "status": "published",
        },
    )
    article = created.json()["id"]
    korean = {"title": "비밀번호 재설정", "body": "설정에서 비밀번호를 재설정하세요.", "status": "published"}
    await client.put(f"/api/v1/kb/articles/{article}/translations/ko", json=korean)
    draft = {"brand": brand, "locale": "en", "title": "Password rules (draft)", "body": "password", "status": "draft"}
    await client.post("/api/v1/kb/articles", json=draft)
    loose = {
        "brand": brand,
        "locale": "en",
        "title": "Shipping times",
        "body": "Parcels ship daily.",
        "status": "published",
    }
    await client.post("/api/v1/kb/articles", json=loose)
    public = httpx.AsyncClient(transport=client._transport, base_url="http://service")  # no identity at all

    home = await public.get(f"/public/help/{brand}/en")
    assert home.status_code == 200, home.text
    assert f'<a href="/public/help/{brand}/en/sections/{section["id"]}">Account</a>' in home.text
    assert f'<a href="/public/help/{brand}/en/articles/{article}">Reset your password</a>' in home.text
    assert "Shipping times" in home.text
    assert "draft" not in home.text
    assert f'<link rel="canonical" href="{BASE}/public/help/{brand}/en">' in home.text
    assert '<form role="search"' in home.text
    assert "비밀번호 재설정" in (await public.get(f"/public/help/{brand}/ko")).text

    listed = await public.get(f"/public/help/{brand}/en/sections/{section['id']}")
    assert listed.status_code == 200
    assert "Reset your password" in listed.text
    assert "Shipping times" not in listed.text

    results = await public.get(f"/public/help/{brand}/en/search", params={"q": "password"})
    assert "<mark>password</mark>" in results.text
    assert "Reset your password" in results.text
    assert "Password rules" not in results.text, "drafts are never public"
    nothing = await public.get(f"/public/help/{brand}/en/search", params={"q": "zebra"})
    assert '<p role="status">No article matches' in nothing.text

    found = await public.get(f"/public/help/{brand}/search", params={"q": "비밀번호"})
    assert found.status_code == 200, found.text
    assert [(hit["article_id"], hit["locale"], hit["url"]) for hit in found.json()["items"]] == [
        (article, "ko", f"{BASE}/public/help/{brand}/ko/articles/{article}")
    ]
    assert found.json()["next_cursor"] is None
    refused = await public.get(f"/public/help/{brand}/search", params={"q": ""})
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["query.q"]

    xml = await public.get(f"/public/help/{brand}/sitemap.xml")
    assert xml.headers["content-type"].startswith("application/xml")
    names = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    urls = ElementTree.fromstring(xml.text).findall("s:url", names)
    by_loc = {url.findtext("s:loc", namespaces=names): url for url in urls}
    english = f"{BASE}/public/help/{brand}/en/articles/{article}"
    assert set(by_loc) >= {english, f"{BASE}/public/help/{brand}/ko/articles/{article}"}
    alternates = {link.get("hreflang"): link.get("href") for link in by_loc[english].findall("x:link", names)}
    assert alternates == {"en": english, "ko": f"{BASE}/public/help/{brand}/ko/articles/{article}"}
    assert len(urls) == 3, "the two translations and the loose article; never the draft"

    assert (await public.get(f"/public/help/{brand}/en/sections/{uuid.uuid4()}")).status_code == 404
    assert (await public.get(f"/public/help/{brand}/not_a_locale")).status_code == 404
    assert (await public.get(f"/public/help/other-{brand}/en/sections/{section['id']}")).status_code == 404


async def test_every_page_wears_the_brands_logo_and_colour_and_a_brand_without_them_its_name(
    client: httpx.AsyncClient, desk: httpx.AsyncClient, brand: str
) -> None:
    [found] = [item for item in (await desk.get("/api/v1/brands")).json()["items"] if item["slug"] == brand]
    look = {"logo_url": "https://acme.example/logo.png", "colors": {"primary": "#c8102e"}}
    changed = await desk.patch(f"/api/v1/brands/{found['id']}", json=look)
    assert changed.status_code == 200, changed.text
    section = (await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Orders"})).json()
    body = {"brand": brand, "locale": "en", "title": "Track an order", "body": "Open Orders.", "status": "published"}
    article = (await client.post("/api/v1/kb/articles", json=body)).json()
    public = httpx.AsyncClient(transport=client._transport, base_url="http://service")
    logo = f'<header><p class="brand"><img src="https://acme.example/logo.png" alt="Brand {brand}" height="40"></p>'
    for path in ["en", f"en/sections/{section['id']}", "en/search?q=order", f"en/articles/{article['id']}"]:
        page = await public.get(f"/public/help/{brand}/{path}")
        assert page.status_code == 200, path
        assert logo in page.text, path
        assert "header{border-top:.4rem solid #c8102e}" in page.text, path

    plain = await client.post("/api/v1/kb/sections", json={"name": "Default brand's"})
    assert plain.status_code == 201
    default = await public.get("/public/help/default/en")
    assert '<p class="brand">' not in default.text
    assert "border-top" not in default.text


async def test_a_page_a_brand_has_not_is_a_404_wearing_its_look_in_the_visitors_language(
    client: httpx.AsyncClient, desk: httpx.AsyncClient, brand: str
) -> None:
    [found] = [item for item in (await desk.get("/api/v1/brands")).json()["items"] if item["slug"] == brand]
    look = {
        "logo_url": "https://acme.example/logo.png",
        "colors": {"primary": "#c8102e"},
        "default_locale": "zh",
        "supported_locales": ["zh", "en"],
    }
    changed = await desk.patch(f"/api/v1/brands/{found['id']}", json=look)
    assert changed.status_code == 200, changed.text
    section = (await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Orders"})).json()
    public = httpx.AsyncClient(transport=client._transport, base_url="http://service")
    logo = f'<header><p class="brand"><img src="https://acme.example/logo.png" alt="Brand {brand}" height="40"></p>'
    home = f"/public/help/{brand}"

    async def missing(path: str, accept_language: str | None = None) -> str:
        headers = {"Accept-Language": accept_language} if accept_language else {}
        page = await public.get(f"{home}/{path}", headers=headers)
        assert page.status_code == 404, path
        assert logo in page.text, path
        assert "header{border-top:.4rem solid #c8102e}" in page.text, path
        return page.text

    # An article or section it has not: in the language the address asks for, linking that home.
    for path in [f"ko/articles/{uuid.uuid4()}", f"ko/sections/{uuid.uuid4()}", "ko/sections/not-an-id"]:
        page = await missing(path)
        assert '<html lang="ko">' in page, path
        assert "<h1>페이지를 찾을 수 없습니다</h1>" in page, path
        assert f'<a href="{home}/ko">' in page, path
    # A locale that is none: the visitor's language (Accept-Language) among those the center speaks...
    page = await missing("not_a_locale", "ko-KR,ko;q=0.9,en;q=0.5")
    assert '<html lang="ko">' in page
    assert "<h1>페이지를 찾을 수 없습니다</h1>" in page
    # ...else the brand's own default locale, also for a language the center does not speak.
    for accept in [None, "ja"]:
        page = await missing(f"not_a_locale/articles/{uuid.uuid4()}", accept)
        assert '<html lang="zh">' in page, accept
        assert "<h1>页面不存在</h1>" in page, accept
    page = await missing(f"ja/sections/{section['id']}x")
    assert '<html lang="zh">' in page
    # The default brand's 404 wears no look.
    plain = await public.get(f"/public/help/default/en/articles/{uuid.uuid4()}", headers={"Accept-Language": "fr"})
    assert plain.status_code == 404
    assert '<p class="brand">' not in plain.text
    assert '<html lang="en">' in plain.text, "the address's locale, spoken, comes first"
