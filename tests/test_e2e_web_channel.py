"""The web channel through the whole suite, as ``make run`` starts it.

Everything goes through the gateway's public API over real HTTP, as a frontend or a
customer's browser would: an admin configures routing and SLAs, agents log in and go
online and accept offers, customers submit forms in headless Chromium (or an API client
posts them, files attached), a WhatsApp message arrives through a stand-in for the Cloud
API, and the tests watch the cases that case-core, routing and sla-engine make of them
(and that refused submissions make none). Services are killed with SIGKILL in the
middle of a stream of submissions to show that nothing is lost and nothing doubled.

One stack serves the module (starting it costs more than every test together). The SLA
breach case is opened while the stack is configured so that its one-minute target, the
smallest sla-engine accepts, runs out while the other tests run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import psutil
import pytest
from playwright.sync_api import sync_playwright

from omnicase.devtools.testing.frontend import (
    RETRYABLE,
    Gateway,
    assigned_to,
    online_agent,
    restarted,
    sla_tracked,
    stream_report,
    wait_all_tracked,
    wait_for,
)
from omnicase.devtools.testing.stack import StackError, SuiteStack

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Suite:
    """What the admin configured, and the people and cases the tests follow."""

    stack: SuiteStack
    admin: Gateway
    ada: Gateway
    ada_id: str
    bob: Gateway
    bob_id: str
    billing_group: str
    returns_group: str
    tier2_group: str
    web_policy: str
    escalation_policy: str
    escalation_case: str
    partner_case: str
    form: dict[str, Any]


@pytest.fixture(scope="module")
def suite(stack: SuiteStack, admin_login: tuple[str, str], customer_site: str) -> Iterator[Suite]:
    with ExitStack() as clients:
        admin = clients.enter_context(Gateway(stack.url())).login(*admin_login)
        yield _configure(clients, stack, admin, customer_site)


def _configure(clients: ExitStack, stack: SuiteStack, admin: Gateway, customer_site: str) -> Suite:

    # The one-minute breach clocks start first so they run out while the other tests run.
    tier2 = admin.post("/api/v1/groups", {"name": "Tier 2"})
    one_minute = {"first_reply": {"minutes": 1}}
    escalate = [
        {"on": "breach", "actions": [{"type": "raise_priority"}, {"type": "move_to_group", "group_id": tier2["id"]}]}
    ]
    escalation = admin.post(
        "/api/v1/sla/policies",
        {
            "name": "VIP first reply",
            "conditions": {"brand": ["vip"]},
            "targets": {"normal": one_minute, "high": one_minute},
            "escalations": escalate,
        },
    )
    # A policy with no target at the priority its own escalation raises the case to.
    admin.post(
        "/api/v1/sla/policies",
        {
            "name": "Partner first reply",
            "conditions": {"brand": ["partner"]},
            "targets": {"normal": one_minute},
            "escalations": escalate,
        },
    )
    unanswered, partner = (
        admin.post(
            "/api/v1/cases",
            {
                "subject": "Nobody answers me",
                "description": "Still waiting for a reply.",
                "requester": {"email": f"{brand}@customer.example", "name": "Ida Impatient"},
                "brand": brand,
            },
        )
        for brand in ("vip", "partner")
    )

    billing_skill = admin.post("/api/v1/skills", {"name": "billing"})
    billing = admin.post("/api/v1/groups", {"name": "Billing", "routing_model": "best_available"})
    admin.post(
        "/api/v1/routing/rules",
        {
            "name": "Web to billing",
            "target_group_id": billing["id"],
            "conditions": {"channels": ["web"]},
            "required_skills": [{"skill_id": billing_skill["id"], "min_level": 3}],
        },
    )
    returns = admin.post("/api/v1/groups", {"name": "Returns", "offer_timeout_seconds": 120})
    admin.post(
        "/api/v1/routing/rules",
        {
            "name": "Returns are offered",
            "position": 1,
            "target_group_id": returns["id"],
            "conditions": {"channels": ["web"], "keywords": ["return"]},
            "required_skills": [{"skill_id": billing_skill["id"], "min_level": 3}],
        },
    )
    web_policy = admin.post(
        "/api/v1/sla/policies",
        {
            "name": "Web standard",
            "conditions": {"channel": ["web"]},
            "targets": {
                "high": {"first_reply": {"minutes": 60}, "resolution": {"minutes": 480}},
                "normal": {"first_reply": {"minutes": 240}, "resolution": {"minutes": 1440}},
            },
        },
    )
    # Bob is online in the same queue with room to spare, but lacks the skill the rule requires.
    bob_id, bob = online_agent(clients, admin, "Bob", [], [billing["id"]])
    ada_id, ada = online_agent(
        clients, admin, "Ada", [{"skill_id": billing_skill["id"], "level": 5}], [billing["id"], returns["id"]]
    )

    form = admin.post(
        "/api/v1/forms",
        {
            "name": "Contact support",
            "title": {"en": "Contact support"},
            "fields": [
                {"key": "name", "required": True, "labels": {"en": "Your name"}},
                {"key": "email", "required": True, "labels": {"en": "Email"}},
                {"key": "subject", "required": True, "labels": {"en": "Subject"}},
                {"key": "description", "required": True, "labels": {"en": "How can we help?"}},
            ],
            "defaults": {"priority": "high", "tags": ["web-form"]},
            "spam": {"min_fill_seconds": 1},
            "thank_you_url": f"{customer_site}/thanks",
        },
    )
    return Suite(
        stack=stack,
        admin=admin,
        ada=ada,
        ada_id=ada_id,
        bob=bob,
        bob_id=bob_id,
        billing_group=billing["id"],
        returns_group=returns["id"],
        tier2_group=tier2["id"],
        web_policy=web_policy["id"],
        escalation_policy=escalation["id"],
        escalation_case=unanswered["id"],
        partner_case=partner["id"],
        form=form,
    )


def _case_of_submission(suite: Suite, form_id: str, subject: str) -> str | None:
    submissions = suite.admin.get(f"/api/v1/forms/{form_id}/submissions", params={"limit": 100})["items"]
    for submission in submissions:
        if submission["fields"]["subject"] == subject and submission.get("case_id"):
            return str(submission["case_id"])
    return None


def test_a_form_submitted_in_a_browser_becomes_a_case_routed_to_the_skilled_agent_with_sla_milestones(
    suite: Suite, chromium: str, customer_site: str
) -> None:
    subject = f"Charged twice {uuid.uuid4().hex[:6]}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{suite.stack.url()}/public/forms/{suite.form['id']}")
            page.get_by_label("Your name").fill("Jane Doe")
            page.get_by_label("Email").fill("jane@customer.example")
            page.get_by_label("Subject").fill(subject)
            page.get_by_label("How can we help?").fill("My card was charged twice for order 1234.")
            page.wait_for_timeout(1200)  # the form's minimum fill time
            page.get_by_role("button", name="Send").click()
            page.wait_for_url(f"{customer_site}/thanks")
            assert page.inner_text("h1") == "Thank you, we got it"
        finally:
            browser.close()

    case_id = wait_for(
        lambda: _case_of_submission(suite, suite.form["id"], subject),
        within=60,
        message="the submission never became a case",
    )
    case = wait_for(
        lambda: assigned_to(suite.admin, case_id, suite.ada_id),
        within=60,
        message=lambda: f"not routed to Ada: {suite.admin.get(f'/api/v1/routing/cases/{case_id}/decisions')}",
    )
    assert case["subject"] == subject
    assert case["channel"] == "web"
    assert case["priority"] == "high"
    assert case["group_id"] == suite.billing_group
    assert case["status"] == "open", "assigning a new case opens it"
    assert "web-form" in case["tags"]
    requester = suite.admin.get(f"/api/v1/contacts/{case['requester_id']}")
    assert requester["emails"] == ["jane@customer.example"]
    assert requester["name"] == "Jane Doe"

    # The agent sees it in their own console list.
    mine = suite.ada.get("/api/v1/cases", params={"assignee_id": suite.ada_id})["items"]
    assert case_id in [item["id"] for item in mine]
    decisions = suite.admin.get(f"/api/v1/routing/cases/{case_id}/decisions")["items"]
    assigned = [decision for decision in decisions if decision["kind"] == "assigned"]
    assert [decision["agent_id"] for decision in assigned] == [suite.ada_id]
    assert suite.bob_id not in {decision["agent_id"] for decision in decisions}

    sla = wait_for(
        lambda: sla_tracked(suite.admin, case_id, suite.web_policy),
        within=30,
        message="sla-engine never tracked the case under the web policy",
    )
    by_kind = {milestone["kind"]: milestone for milestone in sla["milestones"]}
    assert by_kind["first_reply"]["target_minutes"] == 60
    assert by_kind["first_reply"]["status"] == "running"
    assert by_kind["resolution"]["target_minutes"] == 480
    assert by_kind["first_reply"]["due_at"] > by_kind["first_reply"]["started_at"]

    # The agent answers from their console: the first reply milestone is met, on time.
    suite.ada.post(f"/api/v1/cases/{case_id}/messages", {"text": "Refund on its way.", "public": True})

    def first_reply_met() -> dict[str, Any] | None:
        milestones = suite.admin.get(f"/api/v1/sla/cases/{case_id}")["milestones"]
        met = [m for m in milestones if m["kind"] == "first_reply" and m["status"] == "achieved"]
        return met[0] if met else None

    met = wait_for(first_reply_met, within=30, message="the agent's reply never met the first reply milestone")
    assert met["breached"] is False
    assert met["achieved_at"] is not None


def test_a_queue_with_offers_waits_for_the_agent_to_accept(suite: Suite, customer_site: str) -> None:
    form = _stream_form(suite, f"returns-{uuid.uuid4().hex[:6]}", customer_site)
    subject = f"Return of order {uuid.uuid4().hex[:6]}"
    # Ada's console listens for her offers; Bob's hears none of hers.
    with (
        suite.ada.listen(types="offer.created,offer.ended,case.updated") as ada_console,
        suite.bob.listen(types="offer.created") as bob_console,
    ):
        with httpx.Client(base_url=suite.stack.url(), timeout=30) as public:
            answer = public.post(
                f"/public/forms/{form['id']}/submissions",
                data={"email": "rita@customer.example", "subject": subject, "description": "Wrong size."},
                headers={"Accept": "application/json"},
            )
        assert answer.status_code == 202, answer.text
        case_id = wait_for(
            lambda: _case_of_submission(suite, form["id"], subject), within=60, message="no case for the submission"
        )

        def offered() -> dict[str, Any] | None:
            return next((item for item in ada_console.of_type("offer.created") if item["case_id"] == case_id), None)

        pushed = wait_for(offered, within=60, message="Ada's console was never told of the offer")
        assert pushed["agent_id"] == suite.ada_id
        assert pushed["group_id"] == suite.returns_group

        def pending_offer() -> dict[str, Any] | None:
            offers = suite.ada.get(f"/api/v1/agents/{suite.ada_id}/offers", params={"status": "pending"})["items"]
            return next((offer for offer in offers if offer["case_id"] == case_id), None)

        offer = wait_for(pending_offer, within=60, message="Ada was never offered the returns case")
        assert offer["id"] == pushed["offer_id"], "the console and the API name the same offer"
        assert offer["group_id"] == suite.returns_group
        assert offer["expires_at"] is not None
        waiting = suite.admin.get(f"/api/v1/cases/{case_id}")
        assert waiting["assignee_id"] is None, "an offer is not an assignment"

        # Bob may not answer Ada's offers; Ada may.
        suite.ada.call("POST", f"/api/v1/agents/{suite.bob_id}/offers/{offer['id']}/accept", expect=403)
        suite.ada.call("POST", f"/api/v1/agents/{suite.ada_id}/offers/{offer['id']}/accept")
        case = wait_for(
            lambda: assigned_to(suite.admin, case_id, suite.ada_id),
            within=30,
            message="the accepted case was never assigned",
        )
        assert case["group_id"] == suite.returns_group
        assert case["status"] == "open"
        offers = suite.ada.get(f"/api/v1/agents/{suite.ada_id}/offers")["items"]
        assert [item["status"] for item in offers if item["case_id"] == case_id] == ["accepted"]

        def assignment_heard() -> bool:
            return any(
                item["case_id"] == case_id and "assignee_id" in item["changes"]
                for item in ada_console.of_type("case.updated")
            )

        wait_for(assignment_heard, within=30, message="Ada's console never heard the case was assigned to her")
        ended = [item for item in ada_console.of_type("offer.ended") if item["offer_id"] == offer["id"]]
        assert [item["outcome"] for item in ended] == ["accepted"]
        assert all(item["case_id"] != case_id for item in bob_console.of_type("offer.created"))


def test_refused_submissions_reach_no_service_and_spam_is_held_until_deleted(suite: Suite, customer_site: str) -> None:
    tag = f"refused-{uuid.uuid4().hex[:6]}"
    form = _stream_form(suite, tag, customer_site)
    good = {"email": "rosa@customer.example", "subject": "Where is my parcel?", "description": "Ordered last week."}
    path = f"/public/forms/{form['id']}/submissions"
    with httpx.Client(base_url=suite.stack.url(), timeout=30, headers={"Accept": "application/json"}) as public:
        missing = public.post(path, data={**good, "email": "rosa-at-nowhere", "subject": ""})
        assert missing.status_code == 422
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert {error["field"] for error in missing.json()["errors"]} == {"body.email", "body.subject"}
        spam_fields = {**good, "subject": f"Cheap watches {tag}", "website": "http://spam.example"}
        spam = public.post(path, data=spam_fields)
        # Answered as any accepted post, so a bot learns nothing; held where staff can look.
        assert spam.status_code == 202, spam.text
        # A good submission after them: once its case exists, anything the refusals had sent would too.
        accepted = public.post(path, data=good)
        assert accepted.status_code == 202, accepted.text

    held_id = spam.json()["submission_id"]

    def held() -> dict[str, Any] | None:
        items = suite.admin.get("/api/v1/suspended-messages", params={"channel": "web", "reason": "spam"})["items"]
        return next((item for item in items if item["id"] == held_id), None)

    listed = wait_for(held, within=60, message="the spam post never reached the held queue")
    assert listed["subject"] == f"Cheap watches {tag}"
    assert "http://spam.example" in listed["detail"]
    wait_for(lambda: _case_of_submission(suite, form["id"], good["subject"]), within=60, message="no case")
    cases = suite.admin.get("/api/v1/cases", params={"tag": tag})["items"]
    assert [case["subject"] for case in cases] == [good["subject"]]
    submissions = suite.admin.get(f"/api/v1/forms/{form['id']}/submissions")["items"]
    assert sorted((item["fields"]["subject"], item["status"]) for item in submissions) == [
        (f"Cheap watches {tag}", "held"),
        (good["subject"], "acknowledged"),
    ]

    suite.admin.call("DELETE", f"/api/v1/suspended-messages/{held_id}", expect=204)
    assert held() is None
    suite.admin.call("GET", f"/api/v1/suspended-messages/{held_id}", expect=404)
    assert [case["subject"] for case in suite.admin.get("/api/v1/cases", params={"tag": tag})["items"]] == [
        good["subject"]
    ]


def _downloaded(suite: Suite, attachment: dict[str, Any]) -> httpx.Response:
    """The file as an agent's console downloads it through the gateway, from the ``url`` the message lists."""
    download = suite.ada.http.get(attachment["url"])
    assert download.status_code == 200, download.text
    return download


def test_a_file_uploaded_with_a_form_is_on_the_case_and_downloads_intact(suite: Suite, customer_site: str) -> None:
    run = uuid.uuid4().hex[:6]
    form = _stream_form(suite, f"upload-{run}", customer_site, files=True)
    subject = f"Receipt attached {run}"
    receipt = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) + run.encode()
    sha256 = hashlib.sha256(receipt).hexdigest()
    with httpx.Client(base_url=suite.stack.url(), timeout=30) as public:
        answer = public.post(
            f"/public/forms/{form['id']}/submissions",
            data={"email": "uma@customer.example", "subject": subject, "description": "The receipt is attached."},
            files=[("attachments", ("Kassenbon.png", receipt, "image/png"))],
            headers={"Accept": "application/json"},
        )
    assert answer.status_code == 202, answer.text
    case_id = wait_for(
        lambda: _case_of_submission(suite, form["id"], subject), within=60, message="the upload never became a case"
    )
    wait_for(
        lambda: assigned_to(suite.admin, case_id, suite.ada_id),
        within=60,
        message=lambda: f"not routed to Ada: {suite.admin.get(f'/api/v1/routing/cases/{case_id}/decisions')}",
    )

    [message] = [m for m in suite.ada.get(f"/api/v1/cases/{case_id}/messages")["items"] if m["direction"] == "inbound"]
    [attachment] = message["attachments"]
    assert (attachment["filename"], attachment["content_type"], attachment["size"], attachment["sha256"]) == (
        "Kassenbon.png",
        "image/png",
        len(receipt),
        sha256,
    )
    assert attachment["url"] == f"/api/v1/cases/{case_id}/attachments/{sha256}"
    download = _downloaded(suite, attachment)
    assert download.content == receipt
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;"), "never rendered inline"


@dataclass
class GraphApi:
    """The WhatsApp Cloud API's media hosting at its HTTP boundary: a media id resolves to a download URL
    (``GET /{media-id}``), which serves the bytes; both want the channel's access token."""

    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # media id -> (content type, bytes)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization)
    url: str = ""


def _graph_handler(graph: GraphApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            graph.requests.append((self.path, self.headers.get("Authorization")))
            media_id = self.path.strip("/").removeprefix("download/")
            if media_id not in graph.files:
                self._answer(404, "application/json", b'{"error": {"message": "Unsupported get request"}}')
            elif self.path.startswith("/download/"):
                self._answer(200, *graph.files[media_id])
            else:
                content_type = graph.files[media_id][0]
                lookup = {"url": f"{graph.url}/download/{media_id}", "mime_type": content_type, "id": media_id}
                self._answer(200, "application/json", json.dumps(lookup).encode())

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest's output to the test's own

    return Handler


@pytest.fixture
def graph_api() -> Iterator[GraphApi]:
    graph = GraphApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _graph_handler(graph))
    graph.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield graph
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_photo_sent_over_whatsapp_is_on_the_case_and_downloads_intact(suite: Suite, graph_api: GraphApi) -> None:
    run = uuid.uuid4().hex[:6]
    app_secret, access_token, phone_number_id = f"wa-secret-{run}", f"wa-token-{run}", f"1065{run}"
    channel = suite.admin.post(
        "/api/v1/channels",
        {
            "name": f"WhatsApp {run}",
            "config": {
                "kind": "whatsapp",
                "app_secret": app_secret,
                "verify_token": f"wa-verify-{run}",
                "access_token": access_token,
                "phone_number_id": phone_number_id,
                "api_base_url": graph_api.url,
            },
            "defaults": {"tags": [f"whatsapp-{run}"]},
        },
    )
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(255, -1, -1)) + run.encode() + b"\xff\xd9"
    sha256 = hashlib.sha256(photo).hexdigest()
    media_id = f"media-{run}"
    graph_api.files[media_id] = ("image/jpeg", photo)
    wa_id = "4915112345678"
    image = {
        "from": wa_id,
        "id": f"wamid.{run}",
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": {"id": media_id, "mime_type": "image/jpeg", "sha256": sha256, "caption": f"Broken lid {run}"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001065", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": "Kerry"}, "wa_id": wa_id}],
        "messages": [image],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }
    body = json.dumps(payload).encode()
    # Meta signs the raw body with the app secret: X-Hub-Signature-256: sha256=<hex HMAC-SHA256>.
    signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    with httpx.Client(base_url=suite.stack.url(), timeout=30) as meta:
        answer = meta.post(
            f"/public/channels/{channel['id']}/webhook",
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        )
    assert answer.status_code == 200, answer.text  # Meta wants exactly 200
    assert answer.json()["status"] == "accepted"
    # Fetched from the provider, behind the channel's token, before the webhook was answered.
    assert graph_api.requests == [
        (f"/{media_id}", f"Bearer {access_token}"),
        (f"/download/{media_id}", f"Bearer {access_token}"),
    ]

    def case_of_message() -> str | None:
        items = suite.admin.get(f"/api/v1/channels/{channel['id']}/messages")["items"]
        return next((str(item["case_id"]) for item in items if item["case_id"]), None)

    case_id = wait_for(case_of_message, within=60, message="the WhatsApp message never became a case")
    case = suite.admin.get(f"/api/v1/cases/{case_id}")
    assert case["channel"] == "messaging"
    assert f"whatsapp-{run}" in case["tags"], "the channel's defaults"
    [message] = [m for m in suite.ada.get(f"/api/v1/cases/{case_id}/messages")["items"] if m["direction"] == "inbound"]
    assert message["text"] == f"Broken lid {run}"
    [attachment] = message["attachments"]
    assert (attachment["content_type"], attachment["size"], attachment["sha256"]) == ("image/jpeg", len(photo), sha256)
    assert attachment["url"] == f"/api/v1/cases/{case_id}/attachments/{sha256}"
    download = _downloaded(suite, attachment)
    assert download.content == photo
    assert download.headers["content-type"] == "image/jpeg"


def _submit(http: httpx.Client, form_id: str, index: int, run: str) -> None:
    """One API-client submission, sent again while the suite cannot take it, as a real integration would.

    The retry carries the same submission id, so intake-web must store it once however often it arrives.
    """
    body = {
        "email": f"stream{index}@customer.example",
        "subject": f"Stream {run} #{index}",
        "description": f"message {index}",
        "_sid": f"{run}-{index}",
    }
    deadline = time.monotonic() + 90
    while True:
        try:
            answer = http.post(
                f"/public/forms/{form_id}/submissions", data=body, headers={"Accept": "application/json"}
            )
        except httpx.TransportError:
            answer = None
        if answer is not None and answer.status_code not in RETRYABLE:
            assert answer.status_code == 202, answer.text
            return
        assert time.monotonic() < deadline, f"submission {index} was never accepted: {answer and answer.text}"
        time.sleep(0.5)


def _stream_form(suite: Suite, tag: str, customer_site: str, *, files: bool = False) -> dict[str, Any]:
    """A form an integration posts to for many visitors: its cases carry ``tag``; ``files`` lets them attach some."""
    fields: list[dict[str, Any]] = [
        {"key": "email", "required": True, "labels": {"en": "Email"}},
        {"key": "subject", "required": True, "labels": {"en": "Subject"}},
        {"key": "description", "required": True, "labels": {"en": "Message"}},
    ]
    if files:
        fields.append({"key": "attachments", "labels": {"en": "Attachments"}})
    form: dict[str, Any] = suite.admin.post(
        "/api/v1/forms",
        {
            "name": f"Stream {tag}",
            "fields": fields,
            "defaults": {"tags": [tag]},
            # An integration posting for many visitors from one address: no fill-time or per-IP limit.
            "spam": {"min_fill_seconds": 0},
            "rate_limits": {"per_ip_per_minute": 10_000, "per_form_per_minute": 10_000},
            "thank_you_url": f"{customer_site}/thanks",
        },
    )
    return form


@pytest.mark.parametrize("victim", ["case-core", "routing", "sla-engine", "intake-web", "gateway"])
def test_killing_a_service_mid_stream_loses_nothing_and_duplicates_nothing(
    suite: Suite, customer_site: str, victim: str
) -> None:
    count = 24
    run = uuid.uuid4().hex[:6]
    tag = f"stream-{run}"
    stream_form = _stream_form(suite, tag, customer_site)
    first, second = count // 3, 2 * count // 3
    with httpx.Client(base_url=suite.stack.url(), timeout=30) as public:
        for index in range(first):
            _submit(public, stream_form["id"], index, run)
        killed = suite.stack.service_process(victim).pid
        suite.stack.kill_service(victim)
        for index in range(first, second):
            _submit(public, stream_form["id"], index, run)
        wait_for(lambda: restarted(suite.stack, victim, killed), within=60, message=f"{victim} was not restarted")
        # The rest land while the restarted service catches up with what it missed.
        for index in range(second, count):
            _submit(public, stream_form["id"], index, run)
    suite.stack.wait_ready(victim, timeout=120)
    suite.stack.wait_for_line(f"{victim} exited with code -9; restarting")

    expected = {f"Stream {run} #{index}" for index in range(count)}

    def stream_cases() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = suite.admin.get("/api/v1/cases", params={"tag": tag, "limit": 100})["items"]
        ours = [item for item in items if item["subject"] in expected]
        return ours if len(ours) >= count and all(item["assignee_id"] for item in ours) else None

    cases = wait_for(
        stream_cases, within=120, message=lambda: stream_report(suite.admin, tag, count, victim, suite.web_policy)
    )
    wait_all_tracked(suite.admin, cases, suite.web_policy, within=60, victim=victim)
    subjects = Counter(case["subject"] for case in cases)
    assert set(subjects) == expected, "every submission became a case"
    assert max(subjects.values()) == 1, f"duplicated cases: {[s for s, n in subjects.items() if n > 1]}"
    assert {case["assignee_id"] for case in cases} == {suite.ada_id}

    for case in cases:
        decisions = suite.admin.get(f"/api/v1/routing/cases/{case['id']}/decisions")["items"]
        assert [decision["kind"] for decision in decisions].count("assigned") == 1, (case["subject"], decisions)
        history = suite.admin.get(f"/api/v1/cases/{case['id']}/history")["items"]
        assignments = [entry for entry in history if entry["field"] == "assignee_id"]
        assert len(assignments) == 1, (case["subject"], assignments)
        sla = suite.admin.get(f"/api/v1/sla/cases/{case['id']}")
        clocks = [(m["kind"], m["cycle"]) for m in sla["milestones"]]
        assert sorted(clocks) == [("first_reply", 1), ("resolution", 1)], (case["subject"], clocks)

    # Each submission is confirmed by case-core's event, which a killed intake-web reads once it is back:
    # after the broker admits its new group member, about two session timeouts after the kill.
    def our_submissions() -> list[dict[str, Any]]:
        path = f"/api/v1/forms/{stream_form['id']}/submissions"
        items = suite.admin.get(path, params={"limit": 100})["items"]
        return [item for item in items if item["fields"]["subject"] in expected]

    def all_confirmed() -> list[dict[str, Any]] | None:
        ours = our_submissions()
        return ours if len(ours) == count and all(item["status"] == "acknowledged" for item in ours) else None

    def unconfirmed() -> str:
        # (subject, status, times published): above 1, republished while unconfirmed.
        waiting = sorted(
            (item["fields"]["subject"], item["status"], item["published_count"])
            for item in our_submissions()
            if item["status"] != "acknowledged"
        )
        return f"after killing {victim}, intake-web never learned the case of {waiting}"

    ours = wait_for(all_confirmed, within=60, message=unconfirmed)
    case_of = {case["subject"]: case["id"] for case in cases}
    assert {item["fields"]["subject"]: item["case_id"] for item in ours} == case_of, "each confirmed by its own case"


def test_an_unanswered_case_breaches_its_sla_and_is_escalated(suite: Suite) -> None:
    case_id = suite.escalation_case

    def escalated() -> dict[str, Any] | None:
        case: dict[str, Any] = suite.admin.get(f"/api/v1/cases/{case_id}")
        return case if case["group_id"] == suite.tier2_group else None

    # The target is one minute from the module's setup; the breach fires within a poll of it.
    case = wait_for(escalated, within=120, message="the breached case was never escalated")
    assert case["priority"] == "high", "raised one level from normal"
    assert case["assignee_id"] is None
    sla = suite.admin.get(f"/api/v1/sla/cases/{case_id}")
    assert sla["policy_id"] == suite.escalation_policy
    first_replies = [milestone for milestone in sla["milestones"] if milestone["kind"] == "first_reply"]
    assert len(first_replies) == 1, sla
    [first_reply] = first_replies
    assert first_reply["breached"] is True
    assert first_reply["status"] == "breached"
    history = suite.admin.get(f"/api/v1/cases/{case_id}/history")["items"]
    # The breach escalates once: re-timed at its new priority, the still-late clock does not fire again.
    priority = [(entry["old"], entry["new"]) for entry in history if entry["field"] == "priority"]
    assert priority == [("normal", "high")]
    [moved] = [entry for entry in history if entry["field"] == "group_id"]
    assert moved["new"] == suite.tier2_group
    assert "breach" in moved["actor"]


def test_a_breached_milestone_stays_on_record_after_its_escalation_changes_the_priority(suite: Suite) -> None:
    case_id = suite.partner_case

    def escalated() -> dict[str, Any] | None:
        case: dict[str, Any] = suite.admin.get(f"/api/v1/cases/{case_id}")
        return case if case["group_id"] == suite.tier2_group else None

    case = wait_for(escalated, within=120, message="the breached partner case was never escalated")
    assert case["priority"] == "high"
    sla = suite.admin.get(f"/api/v1/sla/cases/{case_id}")
    breached = [m for m in sla["milestones"] if m["kind"] == "first_reply" and m["breached"]]
    assert len(breached) == 1, sla


def _broker(stack: SuiteStack) -> Any:
    """Tansu's process under ``omnicase up`` (its command is ``<tansu binary> broker …``)."""
    for candidate in stack.processes():
        with suppress(psutil.Error):
            if candidate.cmdline()[1:2] == ["broker"]:
                return candidate
    raise StackError(f"no broker process\n{stack.log_tail()}")


def test_a_broker_that_loses_everything_loses_no_submission(suite: Suite, customer_site: str) -> None:
    """Tansu keeps topics and offsets in memory: killing it loses every event no consumer had read.

    ``omnicase up`` restarts it, replays the services' outboxes and restarts the services that
    use the broker; intake-web also republishes what case-core had not confirmed. Every
    submission, sent before the kill or while the suite recovers, becomes one routed, timed case.
    """
    count = 12
    run = uuid.uuid4().hex[:6]
    tag = f"broker-{run}"
    form = _stream_form(suite, tag, customer_site)
    with httpx.Client(base_url=suite.stack.url(), timeout=30) as public:
        for index in range(count // 2):
            _submit(public, form["id"], index, run)
        _broker(suite.stack).kill()
        # Sent while the supervisor recovers (intake-web is restarted too): retried until accepted.
        for index in range(count // 2, count):
            _submit(public, form["id"], index, run)
    suite.stack.wait_for_line("Kafka broker recovered on", timeout=120)
    expected = {f"Stream {run} #{index}" for index in range(count)}

    def settled() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = suite.admin.get("/api/v1/cases", params={"tag": tag, "limit": 100})["items"]
        done = len(items) >= count and all(item["assignee_id"] for item in items)
        return items if done and all(sla_tracked(suite.admin, item["id"], suite.web_policy) for item in items) else None

    def report() -> str:
        submissions = suite.admin.get(f"/api/v1/forms/{form['id']}/submissions", params={"limit": 100})["items"]
        states = sorted((item["fields"]["subject"], item["status"], item["case_id"]) for item in submissions)
        return f"{stream_report(suite.admin, tag, count, 'the broker', suite.web_policy)}; submissions: {states}"

    cases = wait_for(settled, within=90, message=report)
    subjects = Counter(case["subject"] for case in cases)
    assert set(subjects) == expected
    assert max(subjects.values()) == 1
