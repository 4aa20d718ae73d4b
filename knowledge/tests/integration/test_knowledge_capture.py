"""Knowledge captured from solved cases, with the real case-core over HTTP: a solved case's
question and public answer become a draft article linked to the case; a case that is not solved,
or that nobody answered, is refused and nothing is written; the article lists its cases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from omnicase.case_core.app import create_app as create_case_core_app
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.devtools.testing.apps import running, served
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.knowledge.app import create_app
from omnicase.knowledge.settings import KnowledgeSettings

pytestmark = pytest.mark.asyncio

CASE_SCOPES = frozenset({"cases:read", "cases:write", "contacts:read", "contacts:write"})
KB_SCOPES = frozenset({"knowledge:read", "knowledge:write"})


@pytest_asyncio.fixture
async def desk(service_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The real case-core, served over HTTP; the client is an admin of it."""
    async with served(create_case_core_app(service_settings(CaseCoreSettings)), scopes=CASE_SCOPES) as client:
        yield client


@pytest_asyncio.fixture
async def kb(service_settings: SettingsFactory, desk: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """knowledge, asking that case-core."""
    settings: KnowledgeSettings = service_settings(KnowledgeSettings, case_core_url=str(desk.base_url))
    async with running(create_app(settings), scopes=KB_SCOPES) as client:
        yield client


async def solve(desk: httpx.AsyncClient, case_id: str) -> None:
    current = (await desk.get(f"/api/v1/cases/{case_id}")).json()
    solved = await desk.patch(
        f"/api/v1/cases/{case_id}", json={"status": "solved"}, headers={"If-Match": f'"{current["version"]}"'}
    )
    assert solved.status_code == 200, solved.text


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_a_solved_case_becomes_a_draft_article_linked_to_it(
    kb: httpx.AsyncClient, desk: httpx.AsyncClient, brand: str
) -> None:
    created = await desk.post(
        "/api/v1/cases",
        json={
            "subject": "The invoice PDF is empty",
            "description": "When I download my March invoice the PDF has no pages.\n\nI tried twice.",
            "requester": {"email": f"ada-{uuid.uuid4().hex[:8]}@customer.example", "name": "Ada"},
            "brand": brand,
            "language": "en",
        },
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    note = {"text": "Known bug in the old renderer.", "public": False}
    assert (await desk.post(f"/api/v1/cases/{case_id}/messages", json=note)).status_code == 201

    unsolved = await kb.post(f"/api/v1/kb/articles/from-case/{case_id}")
    assert problem(unsolved, 409)["type"].endswith("/case-not-answered")
    answer = "Open **Billing → Invoices** and choose *Download again*: the new PDF has every page."
    assert (
        await desk.post(f"/api/v1/cases/{case_id}/messages", json={"text": answer, "public": True})
    ).status_code == 201
    await solve(desk, case_id)

    captured = await kb.post(f"/api/v1/kb/articles/from-case/{case_id}")
    assert captured.status_code == 201, captured.text
    article = captured.json()
    assert article["brand"] == brand
    [translation] = article["translations"]
    assert (translation["locale"], translation["status"], translation["title"]) == (
        "en",
        "draft",
        "The invoice PDF is empty",
    )
    assert translation["body"] == f"When I download my March invoice the PDF has no pages.\n\n{answer}"
    assert "Known bug" not in translation["body"], "internal notes are never captured"
    assert "<strong>Billing → Invoices</strong>" in translation["body_html"]

    cases = (await kb.get(f"/api/v1/kb/articles/{article['id']}/cases")).json()
    assert [(link["case_id"], link["relation"], link["linked_by"]) for link in cases["items"]] == [
        (case_id, "captured", "test-admin")
    ]
    assert cases["next_cursor"] is None


async def test_a_case_without_an_answer_or_that_nobody_has_is_refused_and_nothing_is_written(
    kb: httpx.AsyncClient, desk: httpx.AsyncClient, brand: str
) -> None:
    created = await desk.post(
        "/api/v1/cases",
        json={"subject": "Silence", "description": "Hello?", "brand": brand, "requester": {"email": "s@x.example"}},
    )
    case_id = created.json()["id"]
    await solve(desk, case_id)
    unanswered = await kb.post(f"/api/v1/kb/articles/from-case/{case_id}")
    assert "no public answer" in problem(unanswered, 409)["detail"]
    assert problem(await kb.post(f"/api/v1/kb/articles/from-case/{uuid.uuid4()}"), 404)["type"].endswith("/not-found")
    assert (await kb.post("/api/v1/kb/articles/from-case/not-an-id")).status_code in (404, 422)
    assert (await kb.get("/api/v1/kb/articles", params={"brand": brand})).json()["items"] == []
    assert (await kb.get(f"/api/v1/kb/articles/{uuid.uuid4()}/cases")).status_code == 404


async def test_a_swarm_outcome_completes_the_draft_and_the_link_names_the_swarm(
    kb: httpx.AsyncClient, desk: httpx.AsyncClient, brand: str
) -> None:
    created = await desk.post(
        "/api/v1/cases",
        json={
            "subject": "Direct debit rejected",
            "description": "Our direct debit comes back with MD01.",
            "brand": brand,
            "requester": {"email": f"sam-{uuid.uuid4().hex[:8]}@customer.example"},
            "language": "en",
        },
    )
    case_id = created.json()["id"]
    await solve(desk, case_id)
    url = f"/api/v1/kb/articles/from-case/{case_id}"
    # Bad input names the field and writes nothing.
    assert [e["field"] for e in problem(await kb.post(url, json={"outcome": "   "}), 422)["errors"]] == ["body.outcome"]
    assert [e["field"] for e in problem(await kb.post(url, json={"owner": "me"}), 422)["errors"]] == ["body.owner"]
    assert (await kb.get("/api/v1/kb/articles", params={"brand": brand})).json()["items"] == []

    swarm_id = str(uuid.uuid4())
    outcome = "MD01: no mandate on file. The customer signed it again and the debit went through."
    # No public answer, but the swarm's outcome is one.
    captured = await kb.post(url, json={"swarm_id": swarm_id, "outcome": outcome})
    assert captured.status_code == 201, captured.text
    [translation] = captured.json()["translations"]
    assert translation["body"] == f"Our direct debit comes back with MD01.\n\n{outcome}"
    links = (await kb.get(f"/api/v1/kb/articles/{captured.json()['id']}/cases")).json()["items"]
    assert [(link["case_id"], link["relation"], link["swarm_id"]) for link in links] == [
        (case_id, "captured", swarm_id)
    ]


async def test_an_agent_sees_the_articles_for_a_case_in_its_language_and_what_the_customer_did(
    kb: httpx.AsyncClient, desk: httpx.AsyncClient, brand: str
) -> None:
    write = {"brand": brand, "status": "published"}
    password = await kb.post(
        "/api/v1/kb/articles",
        json={
            **write,
            "locale": "ko",
            "title": "비밀번호 재설정",
            "body": "설정의 보안 메뉴에서 비밀번호 재설정을 선택하세요.",
        },
    )
    english = {**write, "locale": "en", "title": "Reset your password", "body": "Open Settings, then Security."}
    assert (await kb.post("/api/v1/kb/articles", json=english)).status_code == 201
    refund = {**write, "locale": "ko", "title": "환불 요청", "body": "환불은 영업일 기준 5일 안에 처리됩니다."}
    assert (await kb.post("/api/v1/kb/articles", json=refund)).status_code == 201
    article_id = password.json()["id"]
    created = await desk.post(
        "/api/v1/cases",
        json={
            "subject": "비밀번호를 잊어버렸어요",
            "description": "로그인이 안 돼요. 비밀번호를 어떻게 재설정하나요?",
            "brand": brand,
            "requester": {"email": f"min-{uuid.uuid4().hex[:8]}@customer.example"},
            "language": "ko",
        },
    )
    case_id = created.json()["id"]
    path = f"/api/v1/cases/{case_id}/article-suggestions"

    before = (await kb.get(path)).json()
    assert (before["case_id"], before["locale"]) == (case_id, "ko")
    assert [(item["article_id"], item["locale"], item["customer"]) for item in before["items"]] == [
        (article_id, "ko", None)
    ], "the case's language and brand, published only"
    assert {"비밀", "번호"} <= set(before["items"][0]["matched"])
    assert before["items"][0]["url"].endswith(f"/public/help/{brand}/ko/articles/{article_id}")

    # The customer's auto-response carried it: the agent sees so.
    sent = {"case_id": case_id, "subject": "비밀번호를 잊어버렸어요", "text": "", "brand": brand, "locale": "ko"}
    assert (await kb.post("/api/v1/kb/suggestions", json=sent)).status_code == 201
    after = (await kb.get(path)).json()["items"][0]["customer"]
    assert after["suggested_at"] is not None
    assert (after["opened_at"], after["answer"]) == (None, None)
    counted = (await kb.get(f"/api/v1/kb/articles/{article_id}/deflection")).json()
    assert counted["suggested"] == 1, "an agent's look is not a suggestion to the customer"

    assert problem(await kb.get(f"/api/v1/cases/{uuid.uuid4()}/article-suggestions"), 404)
    assert [e["field"] for e in problem(await kb.get(path, params={"limit": 4}), 422)["errors"]] == ["query.limit"]
