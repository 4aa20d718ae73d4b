"""The knowledge base through the gateway of a running suite (`omnicase up`): an admin writes
articles in English and Korean, an agent finds the Korean one with a Korean question and may
not write; nothing reaches knowledge but through the gateway."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from omnicase.devtools.testing.frontend import AGENT_PASSWORD, Gateway
from omnicase.devtools.testing.stack import SuiteStack


@pytest.fixture(scope="module")
def admin(stack: SuiteStack, admin_login: tuple[str, str]) -> Iterator[Gateway]:
    stack.wait_ready()
    with Gateway(stack.url()) as gateway:
        yield gateway.login(*admin_login)


def test_an_agent_finds_the_korean_article_for_a_korean_question_and_cannot_write(
    stack: SuiteStack, admin: Gateway
) -> None:
    brand = admin.brand(f"kb-{uuid.uuid4().hex[:8]}")["slug"]
    section = admin.post("/api/v1/kb/sections", {"brand": brand, "name": "계정"})
    english = admin.post(
        "/api/v1/kb/articles",
        {
            "brand": brand,
            "section_id": section["id"],
            "locale": "en",
            "title": "Reset your password",
            "body": "Open **Settings → Security** and choose *Reset password*.",
            "status": "published",
        },
    )
    korean = admin.call(
        "PUT",
        f"/api/v1/kb/articles/{english['id']}/translations/ko",
        json={
            "title": "비밀번호 재설정",
            "body": "설정의 보안 메뉴에서 비밀번호 재설정을 선택하세요.",
            "status": "published",
        },
    )
    assert [t["locale"] for t in korean["translations"]] == ["en", "ko"]
    other = admin.post(
        "/api/v1/kb/articles",
        {
            "brand": brand,
            "locale": "ko",
            "title": "환불 요청",
            "body": "환불은 5일 안에 처리됩니다.",
            "status": "published",
        },
    )

    email = f"kb-agent-{uuid.uuid4().hex[:8]}@example.com"
    admin.post("/api/v1/users", {"email": email, "name": "KB agent", "role": "agent", "password": AGENT_PASSWORD})
    with Gateway(stack.url()) as agent:
        agent.login(email, AGENT_PASSWORD)
        found = agent.get("/api/v1/kb/search", params={"q": "비밀번호를 잊어버렸어요", "brand": brand})
        best = found["items"][0]
        assert (best["article_id"], best["locale"]) == (english["id"], "ko")
        assert other["id"] not in {hit["article_id"] for hit in found["items"]}
        assert "<mark>비밀번호</mark>" in best["snippet"]
        versions = agent.get(f"/api/v1/kb/articles/{english['id']}/versions")
        assert {(v["locale"], v["version"]) for v in versions["items"]} == {("en", 1), ("ko", 1)}
        refused = agent.call("POST", "/api/v1/kb/sections", json={"brand": brand, "name": "x"}, expect=403)
        assert refused["type"].endswith("/forbidden")

    # The service itself answers only what the gateway signed.
    direct = httpx.get(f"{stack.url('knowledge')}/api/v1/kb/search", params={"q": "x"}, timeout=10)
    assert direct.status_code == 401
