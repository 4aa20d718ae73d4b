"""The expert finder ranks agents on evidence from routing (skills, presence, load), knowledge (articles
they wrote) and the cases they solved in the case's language, read through the peers' real APIs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from omnicase.collaboration.app import create_app
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.devtools.testing.servers import serve_http
from omnicase.knowledge.app import create_app as create_knowledge
from omnicase.knowledge.settings import KnowledgeSettings
from omnicase.routing.app import create_app as create_routing
from omnicase.routing.settings import RoutingSettings

pytestmark = pytest.mark.asyncio

TellCase = Callable[..., Awaitable[Any]]


@pytest_asyncio.fixture
async def peers(service_settings: SettingsFactory) -> AsyncIterator[tuple[str, str, str]]:
    """routing and knowledge running on real ports; yields their URLs and the suite's internal secret."""
    routing_settings: RoutingSettings = service_settings(RoutingSettings)
    knowledge_settings: KnowledgeSettings = service_settings(KnowledgeSettings)
    async with (
        serve_http(create_routing(routing_settings)) as routing,
        serve_http(create_knowledge(knowledge_settings)) as knowledge,
    ):
        yield routing, knowledge, routing_settings.internal_secret


def _as(secret: str, subject: str, *scopes: str) -> GatewayIdentity:
    return GatewayIdentity(secret, role="admin", scopes=frozenset(scopes), subject=subject)


async def test_the_expected_expert_ranks_first_and_the_explanation_names_the_evidence(
    peers: tuple[str, str, str], settings: CollaborationSettings, tell_case: TellCase
) -> None:
    routing_url, knowledge_url, secret = peers
    tag = uuid.uuid4().hex[:8]
    skill_name = f"sepa{tag}"
    ada, bob, cy, dee, owner = (uuid.uuid4() for _ in range(5))
    routing = httpx.AsyncClient(base_url=routing_url, auth=_as(secret, "admin", "routing:read", "routing:write"))
    async with routing:
        skill = (await routing.post("/api/v1/skills", json={"name": skill_name})).json()

        async def agent(user_id: uuid.UUID, name: str, level: int | None, presence: str, capacity: int = 5) -> None:
            body: dict[str, Any] = {"user_id": str(user_id), "name": name, "capacity": capacity}
            if level is not None:
                body["skills"] = [{"skill_id": skill["id"], "level": level}]
            assert (await routing.post("/api/v1/agents", json=body)).status_code == 201
            response = await routing.put(f"/api/v1/agents/{user_id}/presence", json={"status": presence})
            assert response.status_code == 200, response.text

        await agent(ada, f"Ada {tag}", 8, "online")
        await agent(bob, f"Bob {tag}", 9, "online")
        await agent(cy, f"Cy {tag}", None, "offline")
        await agent(dee, f"Dee {tag}", None, "online")
        await agent(owner, f"Owner {tag}", 10, "online")

    writer = httpx.AsyncClient(base_url=knowledge_url, auth=_as(secret, str(ada), "knowledge:read", "knowledge:write"))
    async with writer:
        article = await writer.post(
            "/api/v1/kb/articles",
            json={
                "locale": "en",
                "title": f"Mandate rejections {tag} with reason MD01",
                "body": f"When a {skill_name} direct debit mandate is rejected with MD01, ask the bank for it.",
                "status": "published",
            },
        )
        assert article.status_code == 201, article.text

    # History: solved cases in English and German, by Ada (twice), Cy and Bob (German only).
    english = f"{skill_name} direct debit mandate rejected MD01 {tag}"
    await tell_case(assignee_id=ada, status="solved", subject=f"Mandate rejected MD01 {tag}", description=english)
    await tell_case(assignee_id=ada, status="solved", subject=f"Direct debit {tag} failing", description=english)
    await tell_case(assignee_id=cy, status="solved", subject=f"Debit mandate {tag} rejected", description=english)
    german = f"Lastschrift{tag} Mandat abgelehnt"
    await tell_case(assignee_id=bob, status="solved", subject=german, description=german, language="de")

    new = await tell_case(assignee_id=owner, subject=f"Mandate rejected MD01 {tag}", description=english)
    # knowledge loads its tokenisers' models on its first search.
    settings = settings.model_copy(
        update={"routing_url": routing_url, "knowledge_url": knowledge_url, "peer_timeout_seconds": 60}
    )
    async with running(create_app(settings), scopes=frozenset({"collaboration:read"})) as client:
        answer = await client.get(f"/api/v1/cases/{new.case_id}/experts", params={"limit": 5})
        assert answer.status_code == 200, answer.text
        experts = answer.json()["items"]
        assert answer.json()["sources_unavailable"] == []
        ranked = [expert["agent_id"] for expert in experts]
        assert ranked[0] == str(ada), [(e["name"], e["score"], e["explanation"]) for e in experts]
        assert str(owner) not in ranked, "the case's owner is not offered to themself"
        assert str(dee) not in ranked, "no evidence, not listed"
        first = experts[0]
        assert [skill["name"] for skill in first["skills"]] == [skill_name]
        assert len(first["solved_cases"]) == 2
        assert [a["title"] for a in first["articles"]] == [f"Mandate rejections {tag} with reason MD01"]
        assert skill_name in first["explanation"]
        assert "solved #" in first["explanation"]
        assert "wrote 'Mandate rejections" in first["explanation"]
        # Cy solved a like case but is offline: ranked down, not hidden.
        cy_entry = next(expert for expert in experts if expert["agent_id"] == str(cy))
        assert "ranked down: offline" in cy_entry["explanation"]
        # Bob's German case is not like an English one: only his skill counts here.
        bob_entry = next(expert for expert in experts if expert["agent_id"] == str(bob))
        assert bob_entry["solved_cases"] == []

        german_case = await tell_case(assignee_id=owner, subject=german, description=german, language="de")
        in_german = (await client.get(f"/api/v1/cases/{german_case.case_id}/experts")).json()["items"]
        # In German, Bob's German case is the evidence (Ada's English cases are not).
        by_agent = {expert["agent_id"]: expert for expert in in_german}
        assert [c["subject"] for c in by_agent[str(bob)]["solved_cases"]] == [german]
        assert all(not by_agent[agent]["solved_cases"] for agent in (str(ada), str(cy)) if agent in by_agent)

        # Korean is compared as knowledge cuts it (morphemes): Dee's case shares 비밀번호 and 재설정 with
        # the new one though no word of it is written the same; Ada's shares only the tag.
        await tell_case(assignee_id=dee, status="solved", subject=f"비밀번호를 재설정할 수 없어요 {tag}", language="ko")
        await tell_case(assignee_id=ada, status="solved", subject=f"배송 조회가 안 돼요 {tag}", language="ko")
        korean = await tell_case(assignee_id=owner, subject=f"비밀번호 재설정이 안 됩니다 {tag}", language="ko")
        in_korean = (await client.get(f"/api/v1/cases/{korean.case_id}/experts")).json()
        assert in_korean["sources_unavailable"] == []
        like = {
            expert["agent_id"]: max(case["similarity"] for case in expert["solved_cases"])
            for expert in in_korean["items"]
            if expert["solved_cases"]
        }
        assert like[str(dee)] > like[str(ada)], in_korean["items"]

        assert (await client.get(f"/api/v1/cases/{uuid.uuid4()}/experts")).status_code == 404
        assert (await client.get(f"/api/v1/cases/{new.case_id}/experts", params={"limit": 0})).status_code == 422
