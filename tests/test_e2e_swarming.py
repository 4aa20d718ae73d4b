"""Swarming through the gateway of a running suite (`omnicase up`), Slack played by a local server
speaking chat.postMessage and signing its Events API posts as Slack documents (issue 21).

A case is routed to Olga; she asks the expert finder, starts a swarm with its top pick; the swarm
opens a thread on the Slack-speaking server; a reply posted there comes back into the swarm and Olga
promotes it into the case as an internal note; the expert's read access is in the case's history;
the case is solved and the swarm resolved. The draft article (knowledge's capture endpoint) is not
in the suite yet: the swarm.resolved event carrying the question and outcome is its hook.
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

import httpx
import pytest

from omnicase.devtools.testing.frontend import Gateway, online_agent, wait_for
from omnicase.devtools.testing.stack import SuiteStack

SIGNING_SECRET = "e2e-signing-secret-0123456789"
BOT_TOKEN = "xoxb-e2e-token"
TEAM, CHANNEL = "T0E2E0001", "C0E2E0001"


class _SlackWebApi(BaseHTTPRequestHandler):
    posted: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/api/chat.postMessage" or self.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            answer: dict[str, Any] = {"ok": False, "error": "invalid_auth"}
        else:
            self.posted.append(json.loads(body))
            answer = {"ok": True, "channel": CHANNEL, "ts": f"{time.time():.6f}"}
        raw = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

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


def _signed_event(thread_ts: str, text: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event": {"type": "message", "channel": CHANNEL, "user": "U0ADA", "text": text, "thread_ts": thread_ts},
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
            },
        )
        level = [{"skill_id": skill["id"], "level": 6}]
        olga_id, olga = online_agent(clients, admin, f"Olga{tag}", level, [payments["id"]], domain="swarm.example")
        ada_id, _ = online_agent(clients, admin, f"Ada{tag}", level, [experts["id"]], domain="swarm.example")
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
                "subject": f"SEPA{tag} mandate rejected {tag}",
                "description": f"Our sepa{tag} direct debit is rejected with MD01.",
                "requester": {"email": f"swarm-{tag}@customer.example", "name": "Sam"},
            },
        )
        routed = wait_for(
            lambda: (c := admin.get(f"/api/v1/cases/{case['id']}"))["assignee_id"] == olga_id and c,
            within=60,
            message="the case was never routed to Olga",
        )
        assert routed["assignee_id"] == olga_id

        found = wait_for(
            lambda: olga.http.get(f"/api/v1/cases/{case['id']}/experts").json().get("items"),
            within=30,
            message="collaboration never heard of the case",
        )
        top = found[0]
        assert top["agent_id"] == ada_id, found
        assert f"sepa{tag}" in top["explanation"]

        swarm = olga.post(
            f"/api/v1/cases/{case['id']}/swarms",
            {"question": "Why is MD01 coming back?", "urgency": "high", "members": [{"kind": "agent", "id": ada_id}]},
        )
        thread_ts = wait_for(
            lambda: olga.get(f"/api/v1/swarms/{swarm['id']}")["slack_thread_ts"],
            within=30,
            message="the swarm's Slack thread never opened",
        )
        [summary] = [p for p in _SlackWebApi.posted if f"#{case['number']}" in p["text"]]
        assert summary["channel"] == CHANNEL
        assert summary["blocks"][-1]["elements"][0]["url"].endswith(f"/cases/{case['id']}")

        body, headers = _signed_event(thread_ts, "MD01 means no mandate: ask the customer to sign it again.")
        answer = httpx.post(f"{stack.url()}/public/slack/events", content=body, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        forged_body, forged = _signed_event(thread_ts, "forged")
        forged["X-Slack-Signature"] = "v0=" + "0" * 64
        refused = httpx.post(f"{stack.url()}/public/slack/events", content=forged_body, headers=forged, timeout=10)
        assert refused.status_code == 401

        [reply] = olga.get(f"/api/v1/swarms/{swarm['id']}/messages")["items"]
        assert (reply["author"], reply["source"]) == ("slack:U0ADA", "slack")
        olga.call("POST", f"/api/v1/swarms/{swarm['id']}/messages/{reply['id']}/promotion")

        note = wait_for(
            lambda: next(
                (m for m in admin.get(f"/api/v1/cases/{case['id']}/messages")["items"] if "MD01 means" in m["text"]),
                None,
            ),
            within=30,
            message="the promoted message never reached the case",
        )
        assert (note["public"], note["author"]) == (False, "slack:U0ADA")
        history = admin.get(f"/api/v1/cases/{case['id']}/history", params={"limit": 100})["items"]
        assert any(entry["field"] == "access" and entry["new"] == f"user:{ada_id}" for entry in history), history

        current = olga.get(f"/api/v1/cases/{case['id']}")
        olga.call(
            "PATCH",
            f"/api/v1/cases/{case['id']}",
            json={"status": "solved"},
            headers={"If-Match": f'"{current["version"]}"'},
        )
        ended = olga.call(
            "PATCH",
            f"/api/v1/swarms/{swarm['id']}",
            json={"status": "resolved", "outcome": "Mandate re-signed; MD01 gone."},
        )
        assert ended["status"] == "resolved"
        assert olga.get(f"/api/v1/cases/{case['id']}")["assignee_id"] == olga_id, "swarming never changes the owner"
        admin.call("DELETE", "/api/v1/collaboration/slack", expect=204)
