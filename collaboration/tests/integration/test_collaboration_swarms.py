"""Swarms through the API: the case's owner starts one, experts join and talk, a message becomes a note
on the case and the members' read access is recorded, all through case-core's commands; the topic tells
swarm.started, swarm.member_joined, swarm.message_posted and swarm.resolved."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from omnicase.collaboration.app import create_app
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.devtools.testing.probes import read_topic
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.topics import Topic, physical
from omnicase.knowledge.app import create_app as create_knowledge
from omnicase.knowledge.settings import KnowledgeSettings

pytestmark = pytest.mark.asyncio

AsAgent = Callable[..., GatewayIdentity]
SCOPES = frozenset({"collaboration:read", "collaboration:write"})
TellCase = Callable[..., Awaitable[Any]]


async def _records(settings: CollaborationSettings, topic: Topic, expect: int) -> list[tuple[str, dict[str, Any]]]:
    records = await read_topic(settings.kafka_bootstrap_servers, physical(topic, settings.topic_prefix), expect=expect)
    return [(dict(record.headers)["event-type"].decode(), json.loads(record.value)["data"]) for record in records]


async def test_the_owner_swarms_experts_talk_a_message_becomes_a_note_and_access_is_recorded(
    client: httpx.AsyncClient, tell_case: TellCase, as_agent: AsAgent, settings: CollaborationSettings
) -> None:
    owner, expert, group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    case = await tell_case(assignee_id=owner)

    started = await client.post(
        f"/api/v1/cases/{case.case_id}/swarms",
        json={
            "question": "  Why do invoices over 10 MB stop?  ",
            "urgency": "high",
            "members": [{"kind": "agent", "id": str(expert)}],
        },
        auth=as_agent(owner),
    )
    assert started.status_code == 201, started.text
    swarm = started.json()
    assert (swarm["status"], swarm["question"], swarm["started_by"]) == (
        "open",
        "Why do invoices over 10 MB stop?",
        f"user:{owner}",
    )
    assert [(m["kind"], m["id"]) for m in swarm["members"]] == [("agent", str(expert))]

    joined = await client.post(
        f"/api/v1/swarms/{swarm['id']}/members", json={"kind": "group", "id": str(group)}, auth=as_agent(expert)
    )
    assert joined.status_code == 201, joined.text
    assert {m["kind"] for m in joined.json()["members"]} == {"agent", "group"}

    posted = await client.post(
        f"/api/v1/swarms/{swarm['id']}/messages",
        json={"text": "The worker's body limit is 8 MB; raise SYNC_MAX_BODY.", "mentions": [str(owner)]},
        auth=as_agent(expert),
    )
    assert posted.status_code == 201, posted.text
    message = posted.json()
    assert (message["author"], message["mentions"], message["promoted_at"]) == (
        f"user:{expert}",
        [f"user:{owner}"],
        None,
    )

    promoted = await client.post(
        f"/api/v1/swarms/{swarm['id']}/messages/{message['id']}/promotion", auth=as_agent(owner)
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["promoted_by"] == f"user:{owner}"
    again = await client.post(f"/api/v1/swarms/{swarm['id']}/messages/{message['id']}/promotion", auth=as_agent(owner))
    assert again.status_code == 409

    # Only whoever started it (or a lead) ends it.
    end = {"status": "resolved", "outcome": "Raised the limit to 32 MB."}
    assert (await client.patch(f"/api/v1/swarms/{swarm['id']}", json=end, auth=as_agent(expert))).status_code == 403
    ended = await client.patch(f"/api/v1/swarms/{swarm['id']}", json=end, auth=as_agent(owner))
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["outcome"], ended.json()["ended_by"]) == (
        "resolved",
        "Raised the limit to 32 MB.",
        f"user:{owner}",
    )

    thread = (await client.get(f"/api/v1/swarms/{swarm['id']}/messages")).json()["items"]
    assert [item["id"] for item in thread] == [message["id"]]
    listed = (await client.get(f"/api/v1/cases/{case.case_id}/swarms")).json()
    assert [item["id"] for item in listed["items"]] == [swarm["id"]]
    assert listed["next_cursor"] is None

    events = await _records(settings, Topic.SWARM_EVENTS, expect=5)
    assert [kind for kind, _ in events] == [
        "swarm.started", "swarm.member_joined", "swarm.member_joined", "swarm.message_posted", "swarm.resolved",
    ]  # fmt: skip
    resolved = events[-1][1]
    assert resolved["outcome"] == "Raised the limit to 32 MB."
    assert resolved["question"] == "Why do invoices over 10 MB stop?"
    assert resolved["promoted"] == ["The worker's body limit is 8 MB; raise SYNC_MAX_BODY."]
    commands = await _records(settings, Topic.CASE_COMMANDS, expect=5)
    assert [
        (kind, data.get("grantee"), data.get("granted")) for kind, data in commands if kind == "case.record_access"
    ] == [
        ("case.record_access", f"user:{expert}", True),
        ("case.record_access", f"group:{group}", True),
        ("case.record_access", f"group:{group}", False),
        ("case.record_access", f"user:{expert}", False),
    ]
    [note] = [data for kind, data in commands if kind == "case.change"]
    assert (note["internal_note"], note["note_author"]) == (
        "The worker's body limit is 8 MB; raise SYNC_MAX_BODY.",
        f"user:{expert}",
    )


async def test_only_the_assignee_or_a_lead_starts_a_swarm_and_never_on_a_solved_or_unknown_case(
    client: httpx.AsyncClient, tell_case: TellCase, as_agent: AsAgent
) -> None:
    owner, other = uuid.uuid4(), uuid.uuid4()
    case = await tell_case(assignee_id=owner)
    body = {"question": "Help?"}
    url = f"/api/v1/cases/{case.case_id}/swarms"
    refused = await client.post(url, json=body, auth=as_agent(other))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.post(url, json=body)).status_code == 201  # an admin leads
    missing = await client.post(f"/api/v1/cases/{uuid.uuid4()}/swarms", json=body, auth=as_agent(owner))
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("case-not-found")
    await tell_case(case_id=case.case_id, assignee_id=owner, status="solved")
    solved = await client.post(url, json=body, auth=as_agent(owner))
    assert solved.status_code == 409, solved.text
    assert len((await client.get(url)).json()["items"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": "   "}, "body.question"),
        ({"question": "x", "urgency": "whenever"}, "body.urgency"),
        ({"question": "x", "members": [{"kind": "robot", "id": str(uuid.uuid4())}]}, "body.members.0.kind"),
        ({"question": "x", "owner": "me"}, "body.owner"),
    ],
)
async def test_a_bad_swarm_is_a_problem_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, tell_case: TellCase, as_agent: AsAgent, body: dict[str, Any], field: str
) -> None:
    owner = uuid.uuid4()
    case = await tell_case(assignee_id=owner)
    url = f"/api/v1/cases/{case.case_id}/swarms"
    response = await client.post(url, json=body, auth=as_agent(owner))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in response.json()["errors"]]
    assert (await client.get(url)).json()["items"] == []


async def test_outsiders_may_not_post_and_an_ended_swarm_takes_nothing_more(
    client: httpx.AsyncClient, tell_case: TellCase, as_agent: AsAgent
) -> None:
    owner, outsider = uuid.uuid4(), uuid.uuid4()
    case = await tell_case(assignee_id=owner)
    swarm = (
        await client.post(f"/api/v1/cases/{case.case_id}/swarms", json={"question": "Help?"}, auth=as_agent(owner))
    ).json()
    url = f"/api/v1/swarms/{swarm['id']}"
    assert (await client.post(f"{url}/messages", json={"text": "hi"}, auth=as_agent(outsider))).status_code == 403
    blank = await client.post(f"{url}/messages", json={"text": " "}, auth=as_agent(owner))
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "body.text"
    abandoned = await client.patch(
        url, json={"status": "abandoned", "outcome": "Customer went away."}, auth=as_agent(owner)
    )
    assert abandoned.status_code == 200
    assert (await client.post(f"{url}/messages", json={"text": "late"}, auth=as_agent(owner))).status_code == 409
    assert (
        await client.patch(url, json={"status": "resolved", "outcome": "x"}, auth=as_agent(owner))
    ).status_code == 409
    assert (await client.get(f"{url}/messages")).json()["items"] == []
    assert (await client.get(f"/api/v1/swarms/{uuid.uuid4()}")).status_code == 404


async def test_an_agent_of_a_member_group_takes_part_and_others_do_not(
    settings: CollaborationSettings, routing: str, tell_case: TellCase, as_agent: AsAgent
) -> None:
    settings = settings.model_copy(update={"routing_url": routing})
    group_member, outsider, owner = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    admin = GatewayIdentity(settings.internal_secret, scopes=frozenset({"routing:read", "routing:write"}))
    async with httpx.AsyncClient(base_url=routing, auth=admin) as routing_api:
        group = (await routing_api.post("/api/v1/groups", json={"name": f"Experts {owner.hex[:8]}"})).json()
        for user_id in (group_member, outsider):
            body = {
                "user_id": str(user_id),
                "name": "Expert",
                "group_ids": [group["id"]] if user_id == group_member else [],
            }
            assert (await routing_api.post("/api/v1/agents", json=body)).status_code == 201
    case = await tell_case(assignee_id=owner)
    async with running(create_app(settings), scopes=SCOPES) as client:
        swarm = (
            await client.post(
                f"/api/v1/cases/{case.case_id}/swarms",
                json={"question": "Help?", "members": [{"kind": "group", "id": group["id"]}]},
                auth=as_agent(owner),
            )
        ).json()
        url = f"/api/v1/swarms/{swarm['id']}/messages"
        assert (
            await client.post(url, json={"text": "From the group."}, auth=as_agent(group_member))
        ).status_code == 201
        assert (await client.post(url, json={"text": "Not mine."}, auth=as_agent(outsider))).status_code == 403
        assert [m["text"] for m in (await client.get(url)).json()["items"]] == ["From the group."]


async def test_resolving_a_swarm_on_a_solved_case_offers_a_draft_article_linked_to_the_case_and_the_swarm(
    settings: CollaborationSettings,
    service_settings: SettingsFactory,
    case_core: httpx.AsyncClient,
    tell_case: TellCase,
    as_agent: AsAgent,
) -> None:
    knowledge_settings: KnowledgeSettings = service_settings(KnowledgeSettings, case_core_url=str(case_core.base_url))
    owner = uuid.uuid4()
    async with serve_http(create_knowledge(knowledge_settings)) as knowledge_url:
        settings = settings.model_copy(update={"knowledge_url": knowledge_url})
        async with running(create_app(settings), scopes=SCOPES) as client:
            unsolved = await tell_case(assignee_id=owner, subject="Export stalls", description="The CSV export stalls.")
            early = (await client.post(f"/api/v1/cases/{unsolved.case_id}/swarms", json={"question": "Why?"})).json()
            ended = await client.patch(
                f"/api/v1/swarms/{early['id']}", json={"status": "resolved", "outcome": "A lock; released."}
            )
            assert ended.status_code == 200, ended.text
            assert ended.json()["draft_article_id"] is None, "an unsolved case offers no draft (knowledge refuses)"

            case = await tell_case(
                assignee_id=owner, subject="Mandate rejected", description="Our direct debit comes back with MD01."
            )
            swarm = (
                await client.post(
                    f"/api/v1/cases/{case.case_id}/swarms", json={"question": "What is MD01?"}, auth=as_agent(owner)
                )
            ).json()
            abandoned_elsewhere = (
                await client.post(f"/api/v1/cases/{case.case_id}/swarms", json={"question": "Another angle?"})
            ).json()
            await tell_case(case_id=case.case_id, assignee_id=owner, status="solved")
            outcome = "MD01 means no mandate on file: the customer signed it again."
            resolved = await client.patch(
                f"/api/v1/swarms/{swarm['id']}", json={"status": "resolved", "outcome": outcome}, auth=as_agent(owner)
            )
            assert resolved.status_code == 200, resolved.text
            article_id = resolved.json()["draft_article_id"]
            assert article_id is not None
            assert (await client.get(f"/api/v1/swarms/{swarm['id']}")).json()["draft_article_id"] == article_id
            abandoned = await client.patch(
                f"/api/v1/swarms/{abandoned_elsewhere['id']}", json={"status": "abandoned", "outcome": "Not needed."}
            )
            assert abandoned.json()["draft_article_id"] is None, "an abandoned swarm offers no draft"

        auth = GatewayIdentity(knowledge_settings.internal_secret, scopes=frozenset({"knowledge:read"}))
        async with httpx.AsyncClient(base_url=knowledge_url, auth=auth) as kb:
            article = (await kb.get(f"/api/v1/kb/articles/{article_id}")).json()
            [translation] = article["translations"]
            assert translation["status"] == "draft"
            assert translation["body"] == f"Our direct debit comes back with MD01.\n\n{outcome}"
            links = (await kb.get(f"/api/v1/kb/articles/{article_id}/cases")).json()["items"]
            assert [(link["case_id"], link["swarm_id"]) for link in links] == [(str(case.case_id), swarm["id"])]
