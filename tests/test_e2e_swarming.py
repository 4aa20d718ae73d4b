"""Swarming through the gateway of a running suite (`omnicase up`), Slack played by a local server
speaking chat.postMessage, users.lookupByEmail and conversations.invite and signing its Events API
posts as Slack documents (issue 21).

A case is routed to Olga by a rule requiring a skill its words never name; she asks the expert
finder (at once: collaboration reads the case from case-core, the skill the rule requires from
routing), starts a swarm with its top pick, Ada, who holds that skill; her console's live stream tells the swarm; the
swarm opens a thread on the Slack-speaking server and Ada is invited by her address; Ada's reply
posted there comes back into the swarm as hers and Olga promotes it into the case as an internal
note; Ada's read access is in the case's history; Olga answers the customer, the case is solved,
the swarm resolved, and a draft article exists, from the question, the answer and the outcome,
linked to the case and the swarm.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx
import pytest

from omnicase.devtools.testing.frontend import Gateway, online_agent, wait_for
from omnicase.devtools.testing.servers import answer_json
from omnicase.devtools.testing.stack import SuiteStack

SIGNING_SECRET = "e2e-signing-secret-0123456789"
BOT_TOKEN = "xoxb-e2e-token"
TEAM, CHANNEL = "T0E2E0001", "C0E2E0001"


class _SlackWebApi(BaseHTTPRequestHandler):
    posted: ClassVar[list[dict[str, Any]]] = []
    invited: ClassVar[list[str]] = []
    users: ClassVar[dict[str, str]] = {}  # email -> Slack user id

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer: dict[str, Any]
        if self.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            answer = {"ok": False, "error": "invalid_auth"}
        elif self.path == "/api/users.lookupByEmail":  # form-encoded, as Slack takes it
            [email] = parse_qs(body.decode())["email"]
            found = self.users.get(email)
            answer = {"ok": True, "user": {"id": found}} if found else {"ok": False, "error": "users_not_found"}
        elif self.path == "/api/conversations.invite":
            self.invited.append(json.loads(body)["users"])
            answer = {"ok": True, "channel": {"id": CHANNEL}}
        elif self.path == "/api/chat.postMessage":
            self.posted.append(json.loads(body))
            answer = {"ok": True, "channel": CHANNEL, "ts": f"{time.time():.6f}"}
        else:
            answer = {"ok": False, "error": "unknown_method"}
        answer_json(self, 200, answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def slack_web_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlackWebApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    # The local Slack server is on loopback, which the SSRF guard refuses unless allow-listed.
    return {"COLLABORATION_SLACK_ALLOWED_NETWORKS": '["127.0.0.0/8"]', "COLLABORATION_SLACK_POLL_SECONDS": "0.2"}


def _signed_event(thread_ts: str, text: str, user: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event": {"type": "message", "channel": CHANNEL, "user": user, "text": text, "thread_ts": thread_ts},
        }
    ).encode()
    timestamp = str(int(time.time()))
    signature = (
        "v0=" + hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    )
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/json",
    }
    return body, headers


def test_a_routed_case_is_swarmed_with_the_top_expert_through_slack_and_solved(
    stack: SuiteStack, admin_login: tuple[str, str], slack_web_api: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    with ExitStack() as clients:
        admin = clients.enter_context(Gateway(stack.url())).login(*admin_login)
        skill = admin.post("/api/v1/skills", {"name": f"sepa{tag}"})
        payments = admin.post("/api/v1/groups", {"name": f"Payments {tag}", "routing_model": "best_available"})
        experts = admin.post("/api/v1/groups", {"name": f"Experts {tag}"})
        admin.post(
            "/api/v1/routing/rules",
            {
                "name": f"Mandates {tag}",
                "target_group_id": payments["id"],
                "conditions": {"keywords": [tag]},
                "required_skills": [{"skill_id": skill["id"], "min_level": 5}],
            },
        )
        level = [{"skill_id": skill["id"], "level": 6}]
        olga_id, olga = online_agent(clients, admin, f"Olga{tag}", level, [payments["id"]], domain="swarm.example")
        ada_id, _ = online_agent(clients, admin, f"Ada{tag}", level, [experts["id"]], domain="swarm.example")
        # Routing's address for Ada is how Slack's users.lookupByEmail finds her Slack user.
        ada_email = f"ada{tag}@swarm.example"
        admin.call("PATCH", f"/api/v1/agents/{ada_id}", json={"email": ada_email})
        ada_slack = f"U0ADA{tag.upper()}"
        _SlackWebApi.users[ada_email] = ada_slack
        admin.call(
            "PUT",
            "/api/v1/collaboration/slack",
            json={
                "team_id": TEAM,
                "channel_id": CHANNEL,
                "bot_token": BOT_TOKEN,
                "signing_secret": SIGNING_SECRET,
                "api_url": slack_web_api,
            },
        )

        case = admin.post(
            "/api/v1/cases",
            {
                "subject": f"Direct debit mandate rejected {tag}",
                "description": "Our direct debit is rejected with MD01.",
                "requester": {"email": f"swarm-{tag}@customer.example", "name": "Sam"},
            },
        )
        routed = wait_for(
            lambda: (c := admin.get(f"/api/v1/cases/{case['id']}"))["assignee_id"] == olga_id and c,
            within=60,
            message="the case was never routed to Olga",
        )
        assert routed["assignee_id"] == olga_id

        # Read through to case-core: no waiting for collaboration to hear of the case.
        found = olga.get(f"/api/v1/cases/{case['id']}/experts")["items"]
        top = found[0]
        assert top["agent_id"] == ada_id, found
        # The case's words never name the skill: the rule that routed it requires it (routing's API).
        assert [skill["name"] for skill in top["skills"]] == [f"sepa{tag}"]
        assert f"sepa{tag}" in top["explanation"]

        with olga.listen(types="swarm.started,swarm.member_joined", case_id=case["id"]) as console:
            swarm = olga.post(
                f"/api/v1/cases/{case['id']}/swarms",
                {
                    "question": "Why is MD01 coming back?",
                    "urgency": "high",
                    "members": [{"kind": "agent", "id": top["agent_id"]}],
                },
            )
            wait_for(
                lambda: console.of_type("swarm.member_joined"),
                within=30,
                message="Olga's console never heard of the swarm",
            )
            [told] = console.of_type("swarm.started")
            assert (told["swarm_id"], told["question"]) == (swarm["id"], "Why is MD01 coming back?")
        thread_ts = wait_for(
            lambda: olga.get(f"/api/v1/swarms/{swarm['id']}")["slack_thread_ts"],
            within=30,
            message="the swarm's Slack thread never opened",
        )
        [summary] = [p for p in _SlackWebApi.posted if f"#{case['number']}" in p["text"]]
        assert summary["channel"] == CHANNEL
        assert summary["blocks"][-1]["elements"][0]["url"].endswith(f"/cases/{case['id']}")

        wait_for(lambda: ada_slack in _SlackWebApi.invited, within=30, message="Ada was never invited in Slack")
        body, headers = _signed_event(thread_ts, "MD01 means no mandate: ask the customer to sign it again.", ada_slack)
        answer = httpx.post(f"{stack.url()}/public/slack/events", content=body, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        forged_body, forged = _signed_event(thread_ts, "forged", ada_slack)
        forged["X-Slack-Signature"] = "v0=" + "0" * 64
        refused = httpx.post(f"{stack.url()}/public/slack/events", content=forged_body, headers=forged, timeout=10)
        assert refused.status_code == 401

        [reply] = olga.get(f"/api/v1/swarms/{swarm['id']}/messages")["items"]
        # Ada's Slack user is Ada: the reply is hers.
        assert (reply["author"], reply["author_name"], reply["source"]) == (f"user:{ada_id}", f"Ada{tag}", "slack")
        olga.call("POST", f"/api/v1/swarms/{swarm['id']}/messages/{reply['id']}/promotion")

        note = wait_for(
            lambda: next(
                (m for m in admin.get(f"/api/v1/cases/{case['id']}/messages")["items"] if "MD01 means" in m["text"]),
                None,
            ),
            within=30,
            message="the promoted message never reached the case",
        )
        assert (note["public"], note["author"]) == (False, f"user:{ada_id}")
        history = admin.get(f"/api/v1/cases/{case['id']}/history", params={"limit": 100})["items"]
        assert any(entry["field"] == "access" and entry["new"] == f"user:{ada_id}" for entry in history), history

        answer_text = "Please sign the direct debit mandate again from the link we sent you."
        olga.post(f"/api/v1/cases/{case['id']}/messages", {"text": answer_text, "public": True})
        current = olga.get(f"/api/v1/cases/{case['id']}")
        olga.call(
            "PATCH",
            f"/api/v1/cases/{case['id']}",
            json={"status": "solved"},
            headers={"If-Match": f'"{current["version"]}"'},
        )
        outcome = "Mandate re-signed; MD01 gone."
        ended = olga.call("PATCH", f"/api/v1/swarms/{swarm['id']}", json={"status": "resolved", "outcome": outcome})
        assert ended["status"] == "resolved"
        # The draft article knowledge captured: the question, the answer that solved the case, the outcome.
        assert ended["draft_article_id"] is not None
        article = admin.get(f"/api/v1/kb/articles/{ended['draft_article_id']}")
        [translation] = article["translations"]
        assert translation["status"] == "draft"
        assert translation["body"] == f"Our direct debit is rejected with MD01.\n\n{answer_text}\n\n{outcome}"
        links = admin.get(f"/api/v1/kb/articles/{article['id']}/cases")["items"]
        assert [(link["case_id"], link["relation"], link["swarm_id"]) for link in links] == [
            (case["id"], "captured", swarm["id"])
        ]
        assert olga.get(f"/api/v1/cases/{case['id']}")["assignee_id"] == olga_id, "swarming never changes the owner"
        admin.call("DELETE", "/api/v1/collaboration/slack", expect=204)
