"""The email channel through the whole suite, as ``make run`` starts it.

Customers write to the stack's SMTP listener with smtplib, as their mail server would;
the suite's outbound relay is a real SMTP server the test runs (``MailSink``), so every
auto-response and reply is read as the customer's inbox would get it, headers and all.
Everything else goes through the gateway's public API over real HTTP: an admin configures
mailboxes, routing and SLAs, agents log in, go online and answer from their console.
Services are killed with SIGKILL in the middle of a stream of mail to show that nothing
is lost and nothing doubled.

One stack serves the module. The SLA breach case is mailed while the stack is configured,
so that its one-minute target (the smallest sla-engine accepts) runs out while the other
tests run.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
import smtplib
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest

from omnicase.devtools.testing.frontend import (
    Gateway,
    MailRefused,
    MailSink,
    ReceivedMail,
    assigned_to,
    deliver,
    online_agent,
    restarted,
    sla_tracked,
    stream_report,
    submit,
    wait_all_tracked,
    wait_for,
)
from omnicase.devtools.testing.stack import SuiteStack

pytestmark = pytest.mark.slow

SUPPORT = "support@acme.example"
VIP = "vip@acme.example"
# Small enough that the oversize tests send little, large enough for any ordinary mail.
MAX_MESSAGE_BYTES = 100_000
REFERENCE_MARKER = re.compile(r"\[ref:oc-[0-9a-f]{20}\]")


@pytest.fixture(scope="module")
def stack_env(mail_sink: MailSink) -> dict[str, str]:
    return {
        "INTAKE_EMAIL_RELAY_HOST": "127.0.0.1",
        "INTAKE_EMAIL_RELAY_PORT": str(mail_sink.port),
        "INTAKE_EMAIL_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES),
        # No quiet period per address, so a doubled auto-response would reach the sink rather than be held back.
        "INTAKE_EMAIL_AUTO_RESPONSE_INTERVAL_SECONDS": "0",
        # Mail the broker lost is published again after seconds rather than the default five minutes.
        "INTAKE_EMAIL_REPUBLISH_AFTER_SECONDS": "5",
        "INTAKE_EMAIL_REPUBLISH_INTERVAL_SECONDS": "1",
        # A sender killed mid-send holds its messages this long before the restarted one may send them.
        "INTAKE_EMAIL_SEND_LEASE_SECONDS": "10",
        # A relay outage is retried within seconds, not the default half minute and up.
        "INTAKE_EMAIL_SEND_BACKOFF_INITIAL_SECONDS": "1",
        "INTAKE_EMAIL_SEND_BACKOFF_MAX_SECONDS": "2",
    }


@dataclass(frozen=True)
class Suite:
    """What the admin configured, and the people, inboxes and cases the tests follow."""

    stack: SuiteStack
    sink: MailSink
    smtp_port: int
    admin: Gateway
    ada: Gateway
    ada_id: str
    bob_id: str
    support_group: str
    tier2_group: str
    email_policy: str
    escalation_policy: str
    escalation_subject: str
    escalation_sender: str


def customer_mail(
    sender: str,
    to: str,
    subject: str,
    text: str,
    *,
    name: str = "",
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
) -> EmailMessage:
    """A message as a customer's mail client writes it."""
    mail = EmailMessage()
    local, _, domain = sender.partition("@")
    mail["From"] = Address(name, local, domain)
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="customer.example")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = " ".join(references)
    mail.set_content(text)
    return mail


@pytest.fixture(scope="module")
def suite(stack: SuiteStack, admin_login: tuple[str, str], mail_sink: MailSink) -> Iterator[Suite]:
    with ExitStack() as clients:
        admin = clients.enter_context(Gateway(stack.url())).login(*admin_login)
        yield _configure(clients, stack, admin, mail_sink)


def _configure(clients: ExitStack, stack: SuiteStack, admin: Gateway, sink: MailSink) -> Suite:
    smtp_port = stack.port("intake-email", "smtp")

    # The one-minute breach clock starts first so it runs out while the other tests run.
    tier2 = admin.post("/api/v1/groups", {"name": "Tier 2"})
    one_minute = {"first_reply": {"minutes": 1}}
    escalation = admin.post(
        "/api/v1/sla/policies",
        {
            "name": "VIP mail first reply",
            "conditions": {"brand": ["vip"]},
            "targets": {"normal": one_minute, "high": one_minute},
            "escalations": [
                {
                    "on": "breach",
                    "actions": [{"type": "raise_priority"}, {"type": "move_to_group", "group_id": tier2["id"]}],
                }
            ],
        },
    )
    # Mailboxes name brands case-core has.
    admin.brand("vip")
    admin.brand("acme")
    admin.post("/api/v1/mailboxes", {"address": VIP, "display_name": "Acme VIP desk", "brand": "vip"})
    run = uuid.uuid4().hex[:6]
    escalation_sender, escalation_subject = f"ida.{run}@customer.example", f"Nobody answers me {run}"
    deliver(smtp_port, customer_mail(escalation_sender, VIP, escalation_subject, "Still waiting.", name="Ida"))

    skill = admin.post("/api/v1/skills", {"name": "billing"})
    support = admin.post("/api/v1/groups", {"name": "Support", "routing_model": "best_available"})
    admin.post(
        "/api/v1/routing/rules",
        {
            "name": "Acme mail to support",
            "target_group_id": support["id"],
            "conditions": {"channels": ["email"], "brands": ["acme"]},
            "required_skills": [{"skill_id": skill["id"], "min_level": 3}],
        },
    )
    email_policy = admin.post(
        "/api/v1/sla/policies",
        {
            "name": "Email standard",
            "conditions": {"channel": ["email"]},
            "targets": {
                "high": {"first_reply": {"minutes": 60}, "resolution": {"minutes": 480}},
                "normal": {"first_reply": {"minutes": 120}, "resolution": {"minutes": 960}},
            },
        },
    )
    admin.post(
        "/api/v1/mailboxes",
        {
            "address": SUPPORT,
            "display_name": "Acme Support",
            "brand": "acme",
            "defaults": {"tags": ["email"]},
            "auto_response": True,
        },
    )
    # Bob is online in the same queue with room to spare, but lacks the skill the rule requires.
    bob_id, _ = online_agent(clients, admin, "Bob", [], [support["id"]])
    ada_id, ada = online_agent(clients, admin, "Ada", [{"skill_id": skill["id"], "level": 5}], [support["id"]])
    return Suite(
        stack=stack,
        sink=sink,
        smtp_port=smtp_port,
        admin=admin,
        ada=ada,
        ada_id=ada_id,
        bob_id=bob_id,
        support_group=support["id"],
        tier2_group=tier2["id"],
        email_policy=email_policy["id"],
        escalation_policy=escalation["id"],
        escalation_subject=escalation_subject,
        escalation_sender=escalation_sender,
    )


# -- what the tests look at ------------------------------------------------------------------


def _cases_of(suite: Suite, address: str) -> list[dict[str, Any]]:
    """Every case whose requester writes from ``address``, oldest first."""
    contacts = suite.admin.get("/api/v1/contacts", params={"q": address})["items"]
    cases: list[dict[str, Any]] = []
    for contact in contacts:
        if address in contact["emails"]:
            cases += suite.admin.get(f"/api/v1/contacts/{contact['id']}/cases", params={"limit": 100})["items"]
    return sorted(cases, key=lambda case: int(case["number"]))


def _the_case_of(suite: Suite, address: str) -> dict[str, Any] | None:
    cases = _cases_of(suite, address)
    assert len(cases) <= 1, f"{address} has {len(cases)} cases: {[case['subject'] for case in cases]}"
    return cases[0] if cases else None


def _milestone(suite: Suite, case_id: str, kind: str, status: str) -> dict[str, Any] | None:
    milestones: list[dict[str, Any]] = suite.admin.get(f"/api/v1/sla/cases/{case_id}")["milestones"]
    return next((m for m in milestones if m["kind"] == kind and m["status"] == status), None)


def _with_status(suite: Suite, case_id: str, status: str) -> dict[str, Any] | None:
    case: dict[str, Any] = suite.admin.get(f"/api/v1/cases/{case_id}")
    return case if case["status"] == status else None


def _set_status(agent: Gateway, case_id: str, status: str) -> None:
    current = agent.http.get(f"/api/v1/cases/{case_id}")
    agent.call(
        "PATCH", f"/api/v1/cases/{case_id}", json={"status": status}, headers={"If-Match": current.headers["ETag"]}
    )


def _routing_report(suite: Suite, case_id: str) -> str:
    return f"not routed to Ada: {suite.admin.get(f'/api/v1/routing/cases/{case_id}/decisions')}"


def _mailed_case(suite: Suite, sender: str, mail: EmailMessage) -> dict[str, Any]:
    """Deliver a customer's first mail and follow it until routing gave its case to Ada."""
    deliver(suite.smtp_port, mail)
    case = wait_for(lambda: _the_case_of(suite, sender), within=60, message=f"mail from {sender} never became a case")
    assigned: dict[str, Any] = wait_for(
        lambda: assigned_to(suite.admin, case["id"], suite.ada_id),
        within=60,
        message=lambda: _routing_report(suite, case["id"]),
    )
    return assigned


def _mails_to(suite: Suite, address: str, *, automatic: bool) -> list[ReceivedMail]:
    """What reached the customer's inbox: auto-responses, or the replies people wrote."""
    return [mail for mail in suite.sink.received(to=address) if bool(mail.header("Auto-Submitted")) is automatic]


def _inbound_messages(suite: Suite, case_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = suite.admin.get(f"/api/v1/cases/{case_id}/messages")["items"]
    return [message for message in messages if message["direction"] == "inbound"]


def _with_message(suite: Suite, case_id: str, message_id: str) -> dict[str, Any] | None:
    return next(
        (m for m in _inbound_messages(suite, case_id) if m["email_message_id"].strip("<>") == message_id.strip("<>")),
        None,
    )


def _wait_landed(suite: Suite, case: dict[str, Any], mail: EmailMessage) -> dict[str, Any]:
    return wait_for(
        lambda: _with_message(suite, case["id"], str(mail["Message-ID"])),
        within=60,
        message=lambda: (
            f"{mail['Subject']!r} never landed on case {case['number']}: {_inbound_messages(suite, case['id'])}"
        ),
    )


def _outbound(suite: Suite, case_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = suite.admin.get("/api/v1/mailboxes/-/outbound", params={"case_id": case_id})["items"]
    return items


def _logged_as_sent(suite: Suite, case_id: str, kind: str) -> dict[str, Any]:
    """The outbound log's entry once it says sent: the relay accepts the mail before the sender records it."""

    def sent() -> dict[str, Any] | None:
        entries = [item for item in _outbound(suite, case_id) if item["kind"] == kind]
        assert len(entries) == 1, entries
        return entries[0] if entries[0]["status"] == "sent" else None

    return wait_for(sent, within=15, message=lambda: f"the {kind} was delivered but never logged as sent")


# -- the tests ------------------------------------------------------------------------------


def test_a_mailbox_is_verified_when_its_test_message_comes_back(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    address = f"help-{run}@acme.example"
    mailbox = suite.admin.post("/api/v1/mailboxes", {"address": address, "auto_response": True})
    assert mailbox["verification"]["status"] == "unverified"
    suite.admin.call("POST", f"/api/v1/mailboxes/{mailbox['id']}/verification", expect=202)
    assert suite.admin.get(f"/api/v1/mailboxes/{mailbox['id']}")["verification"]["status"] == "pending"

    [test_mail] = wait_for(
        lambda: suite.sink.received(to=address), within=60, message="the verification message never left"
    )
    assert test_mail.header("X-Omnicase-Verification")
    # The customer's mail routing brings it back to the suite, as their MX would.
    deliver(suite.smtp_port, test_mail.message)

    def verified() -> dict[str, Any] | None:
        state: dict[str, Any] = suite.admin.get(f"/api/v1/mailboxes/{mailbox['id']}")["verification"]
        return state if state["status"] == "verified" else None

    state = wait_for(verified, within=30, message="the mailbox never showed as verified")
    assert state["route"] == "smtp"
    assert state["verified_at"] >= state["requested_at"]
    # The test message opens no case and is answered by nobody.
    assert _cases_of(suite, test_mail.mail_from) == []
    assert suite.sink.received(to=test_mail.mail_from) == []


def test_an_email_becomes_a_case_auto_answered_once_routed_to_the_skilled_agent_with_sla_milestones(
    suite: Suite,
) -> None:
    run = uuid.uuid4().hex[:6]
    customer, subject = f"jane.{run}@customer.example", f"Charged twice {run}"
    mail = customer_mail(customer, SUPPORT, subject, "My card was charged twice for order 1234.", name="Jane Doe")
    assert deliver(suite.smtp_port, mail) == 1, "a running suite takes mail at the first attempt"

    case = wait_for(lambda: _the_case_of(suite, customer), within=60, message="the mail never became a case")
    case = wait_for(
        lambda: assigned_to(suite.admin, case["id"], suite.ada_id),
        within=60,
        message=lambda: _routing_report(suite, case["id"]),
    )
    assert case["subject"] == subject
    assert case["channel"] == "email"
    assert case["brand"] == "acme"
    assert "email" in case["tags"], "the mailbox's defaults"
    assert case["group_id"] == suite.support_group
    assert case["status"] == "open", "assigning a new case opens it"
    requester = suite.admin.get(f"/api/v1/contacts/{case['requester_id']}")
    assert requester["emails"] == [customer]
    assert requester["name"] == "Jane Doe"
    [first] = _inbound_messages(suite, case["id"])
    assert first["text"].strip() == "My card was charged twice for order 1234."
    assert first["email_message_id"].strip("<>") == mail["Message-ID"].strip("<>")

    decisions = suite.admin.get(f"/api/v1/routing/cases/{case['id']}/decisions")["items"]
    assert [d["agent_id"] for d in decisions if d["kind"] == "assigned"] == [suite.ada_id]
    assert suite.bob_id not in {decision["agent_id"] for decision in decisions}
    mine = suite.ada.get("/api/v1/cases", params={"assignee_id": suite.ada_id, "limit": 100})["items"]
    assert case["id"] in [item["id"] for item in mine]

    sla = wait_for(
        lambda: sla_tracked(suite.admin, case["id"], suite.email_policy),
        within=30,
        message="sla-engine never tracked the case under the email policy",
    )
    by_kind = {milestone["kind"]: milestone for milestone in sla["milestones"]}
    assert by_kind["first_reply"]["target_minutes"] == 120
    assert by_kind["first_reply"]["status"] == "running"
    assert by_kind["resolution"]["target_minutes"] == 960
    assert by_kind["first_reply"]["due_at"] > by_kind["first_reply"]["started_at"]

    wait_for(lambda: _mails_to(suite, customer, automatic=True), within=60, message="no auto-response arrived")
    [auto] = suite.sink.received(to=customer)  # one, and nothing else
    assert auto.message["To"].addresses[0].addr_spec == customer
    assert auto.header("Auto-Submitted") == "auto-replied"
    assert auto.header("In-Reply-To") == mail["Message-ID"]
    assert f"[#{case['number']}]" in auto.header("Subject")
    # The mailbox's log says the same as the inbox.
    sent = _logged_as_sent(suite, case["id"], "auto_response")
    assert sent["recipients"] == [customer]
    assert f"<{sent['message_id']}>" == auto.header("Message-ID")


def test_the_agent_reply_threads_and_the_customer_answer_lands_on_the_same_case(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    customer, subject = f"omar.{run}@customer.example", f"Invoice address {run}"
    question = customer_mail(customer, SUPPORT, subject, "Please change my invoice address.", name="Omar")
    case = _mailed_case(suite, customer, question)

    suite.ada.post(f"/api/v1/cases/{case['id']}/messages", {"text": "Done: the next invoice uses it.", "public": True})
    [reply] = wait_for(
        lambda: _mails_to(suite, customer, automatic=False), within=60, message="the agent's reply never arrived"
    )
    assert reply.message["From"].addresses[0].addr_spec == SUPPORT
    assert "Done: the next invoice uses it." in reply.text()
    assert reply.header("In-Reply-To") == question["Message-ID"]
    assert question["Message-ID"] in reply.header("References").split()
    assert reply.header("Subject") == f"Re: {subject} [#{case['number']}]"
    ref = reply.header("X-Omnicase-Ref")
    assert REFERENCE_MARKER.fullmatch(ref), ref
    assert ref in reply.text(), "the marker also travels in the body, for forwards"
    first_reply = wait_for(
        lambda: _milestone(suite, case["id"], "first_reply", "achieved"),
        within=30,
        message="the emailed reply never met the first reply milestone",
    )
    assert first_reply["breached"] is False
    # Ada waits for the customer, as agents do after asking or answering.
    _set_status(suite.ada, case["id"], "pending")

    # The customer answers from their mail client: threading headers and a quote of the reply.
    quoted = "\n".join(f"> {line}" for line in reply.text().splitlines())
    answer = customer_mail(
        customer,
        SUPPORT,
        f"Re: {reply.header('Subject')}",
        f"Thanks, and please send a copy of the last one.\n\n{quoted}",
        name="Omar",
        in_reply_to=reply.header("Message-ID"),
        references=[question["Message-ID"], reply.header("Message-ID")],
    )
    deliver(suite.smtp_port, answer)
    landed = _wait_landed(suite, case, answer)
    assert landed["text"].strip() == "Thanks, and please send a copy of the last one."
    assert landed["author_role"] == "customer"
    assert [c["id"] for c in _cases_of(suite, customer)] == [case["id"]], "no new case for an answer"
    reopened = wait_for(
        lambda: _with_status(suite, case["id"], "open"), within=30, message="the answer did not reopen the case"
    )
    assert reopened["assignee_id"] == suite.ada_id
    # Auto-responses acknowledge new cases only: the answer got none.
    [auto] = wait_for(lambda: _mails_to(suite, customer, automatic=True), within=30, message="no auto-response")
    assert sorted(mail.header("Message-ID") for mail in suite.sink.received(to=customer)) == sorted(
        [auto.header("Message-ID"), reply.header("Message-ID")]
    )
    assert sorted(item["kind"] for item in _outbound(suite, case["id"])) == ["auto_response", "reply"]


def test_the_agent_reply_reaches_the_customer_with_the_file_the_agent_attached(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    customer = f"greta.{run}@customer.example"
    question = customer_mail(customer, SUPPORT, f"Invoice copy {run}", "Please send my invoice again.", name="Greta")
    case = _mailed_case(suite, customer, question)
    wait_for(lambda: _mails_to(suite, customer, automatic=True), within=60, message="no auto-response")

    # The file the agent picks in the console: uploaded with the reply (multipart), kept in the suite's one blob
    # store by case-core and read from it by intake-email when it writes the mail.
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + run.encode() + b"\n%%EOF\n"
    filename = "Rechnung März.pdf"
    posted = suite.ada.call(
        "POST",
        f"/api/v1/cases/{case['id']}/messages",
        expect=201,
        data={"text": "Here is your invoice again.", "public": "true"},
        files=[("attachments", (filename, pdf, "application/pdf"))],
    )
    sha256 = hashlib.sha256(pdf).hexdigest()
    [listed] = posted["attachments"]
    assert (listed["filename"], listed["content_type"], listed["size"], listed["sha256"]) == (
        filename,
        "application/pdf",
        len(pdf),
        sha256,
    )

    [reply] = wait_for(
        lambda: _mails_to(suite, customer, automatic=False), within=60, message="the reply with the file never arrived"
    )
    assert "Here is your invoice again." in reply.text()
    assert reply.header("In-Reply-To") == question["Message-ID"]
    # As the customer's mail client reads it: the sink parsed the bytes the relay took with the stdlib's
    # BytesParser (policy.default), so the part's name, type and bytes are decoded as any client would.
    [part] = list(reply.message.iter_attachments())
    assert part.get_filename() == filename, "the non-ASCII name survives the MIME encoding"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content_disposition() == "attachment"
    assert part.get_content() == pdf
    sent = _logged_as_sent(suite, case["id"], "reply")
    assert f"<{sent['message_id']}>" == reply.header("Message-ID")
    messages = suite.admin.get(f"/api/v1/cases/{case['id']}/messages")["items"]
    assert [m for m in messages if not m["public"]] == [], "no note saying the file could not be sent"

    # The case's thread lists the file, and the agent's console downloads it through the gateway.
    [outbound] = [m for m in messages if m["direction"] == "outbound" and m["attachments"]]
    [attachment] = outbound["attachments"]
    assert attachment == listed
    assert attachment["url"] == f"/api/v1/cases/{case['id']}/attachments/{sha256}"
    download = suite.ada.http.get(attachment["url"])
    assert download.status_code == 200, download.text
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf" in download.headers["content-disposition"]


def test_a_reply_the_relay_cannot_take_yet_is_sent_once_it_can(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    customer = f"ivan.{run}@customer.example"
    case = _mailed_case(suite, customer, customer_mail(customer, SUPPORT, f"Login {run}", "Locked out.", name="Ivan"))
    wait_for(lambda: _mails_to(suite, customer, automatic=True), within=60, message="no auto-response")

    suite.sink.refuse(customer, "451 4.3.0 Relay busy, try again later")
    try:
        suite.ada.post(f"/api/v1/cases/{case['id']}/messages", {"text": "Unlocked, try again.", "public": True})

        def retried() -> dict[str, Any] | None:
            # The relay saw two tries, and the log has recorded the second refusal: an attempt is
            # counted when it starts, so the count alone can run ahead of the relay's answer.
            if suite.sink.refused().count(customer) < 2:
                return None
            replies = [item for item in _outbound(suite, case["id"]) if item["kind"] == "reply"]
            settled = replies and replies[0]["status"] == "pending" and replies[0]["attempts"] >= 2
            return replies[0] if settled and "451" in (replies[0]["last_error"] or "") else None

        wait_for(retried, within=30, message="the refused reply was not tried again and kept pending")
        assert _mails_to(suite, customer, automatic=False) == []
    finally:
        suite.sink.refuse(customer, None)

    [reply] = wait_for(
        lambda: _mails_to(suite, customer, automatic=False), within=30, message="the reply never went out"
    )
    assert "Unlocked, try again." in reply.text()
    assert suite.sink.refused().count(customer) >= 2
    sent = _logged_as_sent(suite, case["id"], "reply")
    assert f"<{sent['message_id']}>" == reply.header("Message-ID")
    notes = [m for m in suite.admin.get(f"/api/v1/cases/{case['id']}/messages")["items"] if not m["public"]]
    assert notes == [], "the agents are told only of mail that could not be delivered at all"


def test_an_answer_to_a_closed_case_opens_a_follow_up_that_later_answers_join(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    customer, subject = f"olga.{run}@customer.example", f"Refund {run}"
    question = customer_mail(customer, SUPPORT, subject, "Where is my refund?", name="Olga")
    case = _mailed_case(suite, customer, question)
    suite.ada.post(f"/api/v1/cases/{case['id']}/messages", {"text": "Refunded today.", "public": True})
    [reply] = wait_for(lambda: _mails_to(suite, customer, automatic=False), within=60, message="no reply arrived")
    _set_status(suite.ada, case["id"], "solved")
    _set_status(suite.ada, case["id"], "closed")

    # Weeks later the customer answers the old thread.
    late = customer_mail(
        customer,
        SUPPORT,
        f"Re: {reply.header('Subject')}",
        "It never arrived.",
        name="Olga",
        in_reply_to=reply.header("Message-ID"),
        references=[question["Message-ID"], reply.header("Message-ID")],
    )
    deliver(suite.smtp_port, late)

    def follow_up() -> dict[str, Any] | None:
        return next((c for c in _cases_of(suite, customer) if c["id"] != case["id"]), None)

    new = wait_for(follow_up, within=60, message="the answer to the closed case opened no follow-up")
    assert new["follow_up_of"] == case["id"]
    assert suite.admin.get(f"/api/v1/cases/{case['id']}")["status"] == "closed", "a closed case stays closed"
    _wait_landed(suite, new, late)
    # The follow-up is a new case: acknowledged, and routed like any other.
    acks = wait_for(
        lambda: [m for m in _mails_to(suite, customer, automatic=True) if f"[#{new['number']}]" in m.header("Subject")],
        within=60,
        message="the follow-up was not acknowledged",
    )
    assert len(acks) == 1
    wait_for(
        lambda: assigned_to(suite.admin, new["id"], suite.ada_id), within=60, message="the follow-up was not routed"
    )

    # A second answer to the same old thread joins the follow-up instead of opening another.
    again = customer_mail(
        customer,
        SUPPORT,
        f"Re: {reply.header('Subject')}",
        "Still nothing.",
        name="Olga",
        in_reply_to=reply.header("Message-ID"),
        references=[question["Message-ID"], reply.header("Message-ID")],
    )
    deliver(suite.smtp_port, again)
    _wait_landed(suite, new, again)
    assert sorted(c["id"] for c in _cases_of(suite, customer)) == sorted([case["id"], new["id"]])


def _second_mailbox(suite: Suite, run: str) -> str:
    """Another support address with auto-responses on, created after ``vip@`` and ``support@``."""
    address = f"returns-{run}@acme.example"
    suite.admin.post(
        "/api/v1/mailboxes",
        {"address": address, "display_name": "Acme Returns", "brand": "acme", "auto_response": True},
    )
    return address


def test_the_agent_reply_comes_from_the_address_the_customer_wrote_to(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    returns = _second_mailbox(suite, run)
    customer = f"noah.{run}@customer.example"
    case = _mailed_case(suite, customer, customer_mail(customer, returns, f"Return {run}", "Too small.", name="Noah"))

    suite.ada.post(f"/api/v1/cases/{case['id']}/messages", {"text": "Send it back, we pay.", "public": True})
    [reply] = wait_for(lambda: _mails_to(suite, customer, automatic=False), within=60, message="no reply arrived")
    assert reply.message["From"].addresses[0].addr_spec == returns
    assert reply.message["From"].addresses[0].display_name == "Acme Returns"
    assert reply.mail_from == returns, "bounces come back to the mailbox"


def test_the_auto_response_comes_from_the_address_the_customer_wrote_to(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    returns = _second_mailbox(suite, run)
    customer = f"nina.{run}@customer.example"
    deliver(suite.smtp_port, customer_mail(customer, returns, f"Return {run}", "Too big.", name="Nina"))

    [auto] = wait_for(lambda: _mails_to(suite, customer, automatic=True), within=60, message="no auto-response")
    assert auto.message["From"].addresses[0].addr_spec == returns, "the customer wrote to returns@"
    assert auto.message["From"].addresses[0].display_name == "Acme Returns"
    assert auto.mail_from == returns, "bounces come back to the mailbox"


def test_an_answer_stripped_of_its_threading_headers_finds_its_case_by_the_subject_token(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    customer, subject = f"lena.{run}@customer.example", f"Parcel lost {run}"
    case = _mailed_case(suite, customer, customer_mail(customer, SUPPORT, subject, "Where is it?", name="Lena"))
    token = f"[#{case['number']}]"

    # Some clients drop In-Reply-To and References: the subject token is left, and the sender is the requester.
    by_token = customer_mail(customer, SUPPORT, f"RE: {subject} {token}", "Any news?", name="Lena")
    # A stranger quoting someone else's case number by guesswork opens a case of their own.
    stranger = f"eve.{run}@customer.example"
    guess = customer_mail(stranger, SUPPORT, f"Re: {token}", "Tell me about this case.", name="Eve")
    for mail in (by_token, guess):
        deliver(suite.smtp_port, mail)

    landed = _wait_landed(suite, case, by_token)
    assert landed["text"].strip() == "Any news?"
    assert [c["id"] for c in _cases_of(suite, customer)] == [case["id"]]
    own = wait_for(lambda: _the_case_of(suite, stranger), within=60, message="the stranger's mail opened no case")
    assert own["id"] != case["id"]
    assert own["subject"] == f"Re: {token}"
    assert _with_message(suite, case["id"], str(guess["Message-ID"])) is None
    [eve_ack] = wait_for(
        lambda: _mails_to(suite, stranger, automatic=True), within=60, message="no auto-response to the stranger"
    )
    assert f"[#{own['number']}]" in eve_ack.header("Subject")
    wait_for(lambda: _mails_to(suite, customer, automatic=True), within=30, message="no auto-response to Lena")
    assert len(suite.sink.received(to=customer)) == 1, "an answer on a case is not auto-answered"


def test_a_forwarded_reply_finds_its_case_by_the_quoted_reference_marker(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    customer, subject = f"lara.{run}@customer.example", f"Parcel damaged {run}"
    case = _mailed_case(suite, customer, customer_mail(customer, SUPPORT, subject, "It arrived broken.", name="Lara"))
    suite.ada.post(f"/api/v1/cases/{case['id']}/messages", {"text": "We are asking the courier.", "public": True})
    [reply] = wait_for(lambda: _mails_to(suite, customer, automatic=False), within=60, message="no reply arrived")

    # A colleague forwards the reply under a subject of their own, without threading headers: the marker is left.
    colleague = f"max.{run}@customer.example"
    forwarded = customer_mail(
        colleague,
        SUPPORT,
        "Fwd: our parcel",
        f"I am Lara's colleague, the parcel was mine.\n\n---------- Forwarded message ---------\n"
        f"From: Acme Support <{SUPPORT}>\nSubject: {reply.header('Subject')}\n\n{reply.text()}",
        name="Max",
    )
    deliver(suite.smtp_port, forwarded)

    def placed() -> dict[str, Any] | None:
        """Wherever the mail went: onto Lara's case, or into a case of the colleague's own."""
        return _with_message(suite, case["id"], str(forwarded["Message-ID"])) or _the_case_of(suite, colleague)

    wait_for(placed, within=60, message="the forwarded mail went nowhere")
    assert _cases_of(suite, colleague) == [], "the colleague's mail joins Lara's case, opening none"
    landed = _with_message(suite, case["id"], str(forwarded["Message-ID"]))
    assert landed is not None
    assert landed["text"].strip() == "I am Lara's colleague, the parcel was mine."


def test_mail_the_suite_refuses_changes_nothing(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    customer = f"rosa.{run}@customer.example"

    unknown = customer_mail(customer, "nobody@acme.example", "Hello?", "Anyone there?")
    # A permanent refusal: a mail server bounces it to its user at once rather than trying again.
    with pytest.raises(MailRefused) as refused:
        deliver(suite.smtp_port, unknown)
    assert refused.value.code == 550
    assert refused.value.reply.startswith("5.1.1")

    big = customer_mail(customer, SUPPORT, "Scans", "\n".join(["scan data " * 7] * (MAX_MESSAGE_BYTES // 70 + 10)))
    # Declared: smtplib announces the size (the listener advertises SIZE), refused before any data.
    with pytest.raises(smtplib.SMTPSenderRefused) as declared:
        submit(suite.smtp_port, big)
    assert declared.value.smtp_code == 552
    # Undeclared: a client that does not say how big refused once the data went over.
    with smtplib.SMTP("127.0.0.1", suite.smtp_port, timeout=30) as client:
        client.ehlo()
        assert client.mail(customer)[0] == 250
        assert client.rcpt(SUPPORT)[0] == 250
        code, reply = client.data(big.as_bytes(policy=email.policy.SMTP))
    assert code == 552
    assert reply.startswith(b"5.3.4")

    # A good message after them: once its case exists, anything the refused ones had started would too.
    good = customer_mail(customer, SUPPORT, f"Scans, smaller {run}", "Here is the first page.")
    deliver(suite.smtp_port, good)
    case = wait_for(lambda: _the_case_of(suite, customer), within=60, message="the good mail opened no case")
    assert case["subject"] == f"Scans, smaller {run}"
    assert [m["email_message_id"].strip("<>") for m in _inbound_messages(suite, case["id"])] == [
        good["Message-ID"].strip("<>")
    ]
    wait_for(lambda: _mails_to(suite, customer, automatic=True), within=60, message="no auto-response to the good mail")
    assert len(suite.sink.received(to=customer)) == 1, "refused mail is never answered"


def _held_from(suite: Suite, sender: str) -> dict[str, Any] | None:
    held = suite.admin.get("/api/v1/suspended-messages", params={"channel": "email", "limit": 100})["items"]
    return next((item for item in held if item["sender"].get("email") == sender), None)


def test_a_bounce_about_no_case_is_held_listed_and_recovered_into_exactly_one_case(suite: Suite) -> None:
    run = uuid.uuid4().hex[:6]
    daemon = f"mailer-daemon.{run}@remote.example"
    bounce = customer_mail(daemon, SUPPORT, "Undelivered Mail Returned to Sender", f"Returned mail {run}.")
    deliver(suite.smtp_port, bounce)

    held = wait_for(lambda: _held_from(suite, daemon), within=60, message="the bounce never reached the held queue")
    assert (held["reason"], held["subject"]) == ("noise", "Undelivered Mail Returned to Sender")
    assert held["detail"].startswith("bounce not in reply to any case")
    source = suite.admin.http.get(held["source_url"])
    assert source.status_code == 200
    assert bounce["Message-ID"].encode() in source.content
    assert _cases_of(suite, daemon) == [], "a held message opens no case"

    recovered = suite.admin.call("POST", f"/api/v1/suspended-messages/{held['id']}/recover")
    assert recovered["status"] == "recovered"
    [case] = _cases_of(suite, daemon)
    assert (recovered["case_id"], recovered["case_number"]) == (case["id"], case["number"])
    again = suite.admin.call("POST", f"/api/v1/suspended-messages/{held['id']}/recover", expect=409)
    assert again["case_id"] == case["id"]
    assert _held_from(suite, daemon) is None

    # intake-email hears of the case and settles its record; nothing hands the bounce on a second time.
    wait_for(
        lambda: suite.admin.get(f"/api/v1/mailboxes/-/messages/{held['id']}")["case_id"] == case["id"] or None,
        within=60,
        message="intake-email never heard the recovered bounce became a case",
    )
    assert len(_cases_of(suite, daemon)) == 1
    assert [m["text"].strip() for m in _inbound_messages(suite, case["id"])] == [f"Returned mail {run}."]


def _stream_mailbox(suite: Suite, run: str) -> tuple[str, str]:
    """A support address of its own whose cases carry a tag of their own: (address, tag)."""
    address, tag = f"stream-{run}@acme.example", f"stream-{run}"
    suite.admin.post(
        "/api/v1/mailboxes",
        {"address": address, "brand": "acme", "defaults": {"tags": [tag]}, "auto_response": True},
    )
    return address, tag


@pytest.mark.parametrize("victim", ["intake-email", "case-core"])
def test_killing_a_service_mid_stream_of_mail_loses_nothing_and_duplicates_nothing(suite: Suite, victim: str) -> None:
    count = 18
    run = uuid.uuid4().hex[:6]
    mailbox, tag = _stream_mailbox(suite, run)
    senders = [f"s{index}.{run}@customer.example" for index in range(count)]
    mails = [
        customer_mail(sender, mailbox, f"Stream {run} #{index}", f"message {index}", name=f"Customer {index}")
        for index, sender in enumerate(senders)
    ]
    first, second = count // 3, 2 * count // 3
    attempts = [deliver(suite.smtp_port, mail) for mail in mails[:first]]
    killed = suite.stack.service_process(victim).pid
    suite.stack.kill_service(victim)
    # Sent while the service is down or restarting: the client retries as a mail server would.
    attempts += [deliver(suite.smtp_port, mail) for mail in mails[first:second]]
    wait_for(lambda: restarted(suite.stack, victim, killed), within=60, message=f"{victim} was not restarted")
    # The rest land while the restarted service catches up with what it missed.
    attempts += [deliver(suite.smtp_port, mail) for mail in mails[second:]]
    suite.stack.wait_ready(victim, timeout=120)
    suite.stack.wait_for_line(f"{victim} exited with code -9; restarting")
    if victim == "intake-email":
        assert max(attempts) > 1, "mail was sent again while the listener was down"

    expected = {str(mail["Subject"]) for mail in mails}

    def stream_cases() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = suite.admin.get("/api/v1/cases", params={"tag": tag, "limit": 100})["items"]
        return items if len(items) >= count and all(item["assignee_id"] for item in items) else None

    cases = wait_for(
        stream_cases, within=120, message=lambda: stream_report(suite.admin, tag, count, victim, suite.email_policy)
    )
    wait_all_tracked(suite.admin, cases, suite.email_policy, within=60, victim=victim)
    subjects = Counter(case["subject"] for case in cases)
    assert set(subjects) == expected, "every mail became a case"
    assert max(subjects.values()) == 1, f"duplicated cases: {[s for s, n in subjects.items() if n > 1]}"
    assert {case["assignee_id"] for case in cases} == {suite.ada_id}

    unanswered = set(senders)

    def all_acknowledged() -> bool:
        unanswered.difference_update({s for s in list(unanswered) if _mails_to(suite, s, automatic=True)})
        return not unanswered

    by_subject = {case["subject"]: case for case in cases}
    by_sender = {sender: by_subject[str(mail["Subject"])] for sender, mail in zip(senders, mails, strict=True)}

    def unacknowledged() -> str:
        outbound = {sender: _outbound(suite, by_sender[sender]["id"]) for sender in sorted(unanswered)}
        return f"after killing {victim}, no auto-response reached {outbound}"

    wait_for(all_acknowledged, within=60, message=unacknowledged)

    # Each stored mail is confirmed by case-core's event (else it is published again), which a killed
    # intake-email reads once the broker admits its new group member: waited for, then checked.
    unsettled = {case["id"]: case["subject"] for case in cases}

    def all_settled() -> bool:
        for case_id in list(unsettled):
            stored = suite.admin.get("/api/v1/mailboxes/-/messages", params={"case_id": case_id})["items"]
            if [item["status"] for item in stored] == ["acknowledged"]:
                del unsettled[case_id]
        return not unsettled

    def unsettled_report() -> str:
        return f"after killing {victim}, intake-email holds unconfirmed the mail of {sorted(unsettled.values())}"

    wait_for(all_settled, within=60, message=unsettled_report)
    for sender, mail in zip(senders, mails, strict=True):
        case = by_sender[sender]
        [stored] = suite.admin.get("/api/v1/mailboxes/-/messages", params={"case_id": case["id"]})["items"]
        assert stored["message_id"].strip("<>") == mail["Message-ID"].strip("<>"), (sender, stored)
        # Sending is at least once: a sender killed between the relay's 250 and its record sends the very
        # same message again (same Message-ID, which mail clients show once); never a second auto-response.
        received = suite.sink.received(to=sender)
        assert len({mail.header("Message-ID") for mail in received}) == 1, (
            sender,
            [m.header("Subject") for m in received],
        )
        auto = received[0]
        assert auto.header("Auto-Submitted") == "auto-replied"
        assert f"[#{case['number']}]" in auto.header("Subject"), (sender, auto.header("Subject"))
        inbound = _inbound_messages(suite, case["id"])
        assert [m["email_message_id"].strip("<>") for m in inbound] == [mail["Message-ID"].strip("<>")]
        decisions = suite.admin.get(f"/api/v1/routing/cases/{case['id']}/decisions")["items"]
        assert [decision["kind"] for decision in decisions].count("assigned") == 1, (case["subject"], decisions)
        history = suite.admin.get(f"/api/v1/cases/{case['id']}/history")["items"]
        assert len([entry for entry in history if entry["field"] == "assignee_id"]) == 1, case["subject"]
        sla = suite.admin.get(f"/api/v1/sla/cases/{case['id']}")
        clocks = sorted((m["kind"], m["cycle"]) for m in sla["milestones"])
        assert clocks == [("first_reply", 1), ("resolution", 1)], (case["subject"], clocks)


def test_an_unanswered_mail_breaches_its_sla_and_is_escalated_once(suite: Suite) -> None:
    case = wait_for(
        lambda: _the_case_of(suite, suite.escalation_sender), within=60, message="the VIP mail opened no case"
    )
    assert case["subject"] == suite.escalation_subject
    assert case["brand"] == "vip"

    def escalated() -> dict[str, Any] | None:
        current: dict[str, Any] = suite.admin.get(f"/api/v1/cases/{case['id']}")
        return current if current["group_id"] == suite.tier2_group else None

    # The target is one minute from the module's setup; the breach fires within a poll of it.
    case = wait_for(escalated, within=120, message="the breached case was never escalated")
    assert case["priority"] == "high", "raised one level from normal"
    sla = suite.admin.get(f"/api/v1/sla/cases/{case['id']}")
    assert sla["policy_id"] == suite.escalation_policy
    [first_reply] = [milestone for milestone in sla["milestones"] if milestone["kind"] == "first_reply"]
    assert first_reply["breached"] is True
    assert first_reply["status"] == "breached"
    history = suite.admin.get(f"/api/v1/cases/{case['id']}/history")["items"]
    # Escalated once: re-timed at its new priority, the still-late clock does not fire again.
    assert [(entry["old"], entry["new"]) for entry in history if entry["field"] == "priority"] == [("normal", "high")]
    [moved] = [entry for entry in history if entry["field"] == "group_id"]
    assert moved["new"] == suite.tier2_group
    assert "breach" in moved["actor"]
    assert suite.sink.received(to=suite.escalation_sender) == [], "the VIP mailbox sends no auto-responses"
