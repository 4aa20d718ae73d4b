"""Suggested articles in auto-responses: a mailbox that sends them gets, in the acknowledgement of
a new case, the published articles the real knowledge service (over HTTP) chose for the customer's
question in their language, each with its help-center link; when knowledge cannot answer, the
acknowledgement still goes out at once, without them. An agent's reply carries the articles it
attaches (their help-center links), and knowledge links them to the case."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from omnicase.case_core.articles import ArticleSuggester
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import Deliver, Email, Published, auto_responses, cases_of
from omnicase.case_core.wiring import Services
from omnicase.devtools.testing.apps import GatewayIdentity
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.app import Runtime
from omnicase.kit.db import Database
from omnicase.kit.events import CaseDefaults
from omnicase.kit.outbox import Outbox
from omnicase.knowledge.app import create_app as create_knowledge_app
from omnicase.knowledge.models import outbox as knowledge_outbox
from omnicase.knowledge.service import SPEC as KNOWLEDGE
from omnicase.knowledge.settings import KnowledgeSettings
from omnicase.knowledge.state import new_state

pytestmark = pytest.mark.asyncio

SUGGESTING = {"auto_response": True, "suggest_articles": True}


@pytest_asyncio.fixture
async def knowledge(
    app: FastAPI, db: Database, database_url: str, settings: CaseCoreSettings, services: Services
) -> AsyncIterator[httpx.AsyncClient]:
    """The real knowledge app over real HTTP, on the test's rolled-back transaction; case-core's
    auto-responses ask it, and it asks case-core (served over HTTP too) for the brands articles
    may name. The client writes articles as an admin would."""
    async with serve_http(app, lifespan="off") as desk:
        knowledge_settings = KnowledgeSettings(
            database_url=database_url, internal_secret=settings.internal_secret, case_core_url=desk
        )
        knowledge_app = create_knowledge_app(knowledge_settings)
        knowledge_app.state.database = db
        state = new_state(knowledge_settings)
        knowledge_app.state.runtime = Runtime(
            spec=KNOWLEDGE, settings=knowledge_settings, database=db, outbox=Outbox(knowledge_outbox), state=state
        )
        async with serve_http(knowledge_app, lifespan="off") as url:
            suggester = ArticleSuggester(url, settings.internal_secret, timeout_seconds=30)
            services.auto_responses.suggester = suggester
            auth = GatewayIdentity(settings.internal_secret, scopes=frozenset({"knowledge:read", "knowledge:write"}))
            # The first Korean article loads the Korean model (seconds, more on a busy machine).
            try:
                async with httpx.AsyncClient(base_url=url, auth=auth, timeout=60) as client:
                    yield client
            finally:
                await suggester.aclose()
                await state.desk.aclose()
                await state.brands.aclose()


async def _new_brand(api: httpx.AsyncClient) -> str:
    """A brand only this test uses (articles may name only brands case-core has)."""
    slug = f"kb-{uuid.uuid4().hex[:8]}"
    created = await api.post("/api/v1/brands", json={"name": f"Brand {slug}", "slug": slug})
    assert created.status_code == 201, created.text
    return slug


async def test_a_korean_email_is_acknowledged_with_the_korean_article_that_answers_it(
    api: httpx.AsyncClient,
    knowledge: httpx.AsyncClient,
    deliver: Deliver,
    published: Published,
    email: Email,
    address: str,
) -> None:
    brand = await _new_brand(api)
    for locale, title, body in [
        ("ko", "비밀번호 재설정", "설정의 보안 메뉴에서 비밀번호 재설정을 선택하세요."),
        ("ko", "환불 요청", "환불은 영업일 기준 5일 안에 처리됩니다."),
        ("en", "Reset your password", "Open Settings, then Security, and choose Reset password."),
    ]:
        payload = {"brand": brand, "locale": locale, "title": title, "body": body, "status": "published"}
        assert (await knowledge.post("/api/v1/kb/articles", json=payload)).status_code == 201

    question = email(
        address,
        subject="비밀번호를 잊어버렸어요",
        text="로그인이 안 돼요. 비밀번호를 어떻게 재설정하나요?",
        metadata=SUGGESTING,
        defaults=CaseDefaults(brand=brand),
    )
    await deliver(question)
    [case] = await cases_of(api, address)
    [answer] = auto_responses(await published(case["id"]))
    assert (
        "다음 도움말이 궁금한 점을 해결해 드릴 수 있습니다:\n- 비밀번호 재설정: http://127.0.0.1:8080/public/help/"
        in (answer["text"])
    )
    assert "환불" not in answer["text"]
    assert f"/public/help/{brand}/ko/articles/" in answer["html"]
    assert "[ref:oc-" in answer["text"], "the reference still follows the suggestions"

    # Without the mailbox's say-so, no suggestions.
    other = f"plain-{uuid.uuid4().hex[:8]}@customer.example"
    await deliver(
        email(other, subject="비밀번호", metadata={"auto_response": True}, defaults=CaseDefaults(brand=brand))
    )
    [plain] = await cases_of(api, other)
    [unsuggested] = auto_responses(await published(plain["id"]))
    assert "/public/help/" not in unsuggested["text"]


async def test_when_knowledge_cannot_answer_the_acknowledgement_goes_out_without_suggestions(
    api: httpx.AsyncClient, services: Services, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    suggester = ArticleSuggester(f"http://127.0.0.1:{closed}", "secret", timeout_seconds=1.0)
    services.auto_responses.suggester = suggester
    try:
        await deliver(email(address, metadata=SUGGESTING))
    finally:
        await suggester.aclose()
    [case] = await cases_of(api, address)
    [answer] = auto_responses(await published(case["id"]))
    assert f"opened case #{case['number']}" in answer["text"]
    assert "/public/help/" not in answer["text"]


async def test_an_agents_reply_carries_the_articles_it_attaches(
    app: FastAPI,
    settings: CaseCoreSettings,
    api: httpx.AsyncClient,
    knowledge: httpx.AsyncClient,
    deliver: Deliver,
    email: Email,
    address: str,
) -> None:
    suggester = ArticleSuggester(str(knowledge.base_url), settings.internal_secret, timeout_seconds=30)
    app.state.services.suggester = suggester
    brand = await _new_brand(api)
    ids: list[str] = []
    for title, status in [("Reset your password", "published"), ("Not written yet", "draft")]:
        payload = {"brand": brand, "locale": "en", "title": title, "body": f"{title}.", "status": status}
        created = await knowledge.post("/api/v1/kb/articles", json=payload)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    published, draft = ids
    await deliver(email(address, subject="Cannot log in", defaults=CaseDefaults(brand=brand)))
    [case] = await cases_of(api, address)
    messages = f"/api/v1/cases/{case['id']}/messages"

    reply = await api.post(messages, json={"text": "This should help.", "public": True, "articles": [published]})
    assert reply.status_code == 201, reply.text
    link = f"/public/help/{brand}/en/articles/{published}"
    assert reply.json()["text"].startswith("This should help.\n- Reset your password: http")
    assert reply.json()["text"].endswith(link)
    linked = (await knowledge.get(f"/api/v1/kb/articles/{published}/cases")).json()["items"]
    assert [(item["case_id"], item["relation"]) for item in linked] == [(case["id"], "attached")]

    refused: list[tuple[dict[str, object], int, str]] = [
        ({"text": "note", "public": False, "articles": [published]}, 422, "body.articles"),
        ({"text": "reply", "public": True, "articles": [str(uuid.uuid4())]}, 404, "body.articles.0"),
        ({"text": "reply", "public": True, "articles": [published, draft]}, 409, "body.articles.1"),
        ({"text": "reply", "public": True, "articles": [published] * 4}, 422, "body.articles"),
    ]
    for body, expected, field in refused:
        response = await api.post(messages, json=body)
        assert response.status_code == expected, (body, response.text)
        assert [error["field"] for error in response.json()["errors"]] == [field], body
    listed = (await api.get(messages)).json()["items"]
    assert [m["text"] for m in listed if m["direction"] == "outbound" and m["public"]][-1].endswith(link)
    assert not any(m["text"] in ("note", "reply") for m in listed), "a refused reply writes nothing"
    await suggester.aclose()
