"""Inbound messages become cases or thread replies: each threading rule, redelivery, reopen and follow-up."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from omnicase.case_core.testing import Deliver, Email, Published
from omnicase.case_core.wiring import Services
from omnicase.kit.bus.batch import Received
from omnicase.kit.db import Database
from omnicase.kit.events import AttachmentRef, CaseDefaults, Channel, DeliveryReported, MessageReceived, Party, Priority
from omnicase.kit.ids import uuid7

pytestmark = pytest.mark.asyncio


async def cases_of(api: httpx.AsyncClient, requester_email: str) -> list[dict[str, Any]]:
    contacts = (await api.get("/api/v1/contacts", params={"q": requester_email})).json()["items"]
    if not contacts:
        return []
    response = await api.get(f"/api/v1/contacts/{contacts[0]['id']}/cases")
    items: list[dict[str, Any]] = response.json()["items"]
    return sorted(items, key=lambda case: case["number"])


async def messages_of(api: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api.get(f"/api/v1/cases/{case_id}/messages")).json()["items"]
    return items


async def set_status(api: httpx.AsyncClient, case: dict[str, Any], *statuses: str) -> dict[str, Any]:
    for status in statuses:
        response = await api.patch(
            f"/api/v1/cases/{case['id']}", json={"status": status}, headers={"If-Match": f'"{case["version"]}"'}
        )
        assert response.status_code == 200, response.text
        case = response.json()
    return case


async def test_new_email_opens_a_case_with_its_requester_and_acknowledges_the_intake(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    message = email(address.upper(), name="Ada Lovelace", html="<p onclick='x()'>It is <b>smoking</b>.</p>")
    await deliver(message)

    [case] = await cases_of(api, address)
    assert case["subject"] == "Printer on fire"
    assert case["status"] == "new"
    assert case["channel"] == "email"
    contact = (await api.get(f"/api/v1/contacts/{case['requester_id']}")).json()
    assert contact["emails"] == [address]
    assert contact["name"] == "Ada Lovelace"
    [first] = await messages_of(api, case["id"])
    assert first["direction"] == "inbound"
    assert first["author_role"] == "customer"
    assert "onclick" not in first["html"]
    assert "<b>smoking</b>" in first["html"]
    events = await published(case["id"])
    assert [kind for kind, _ in events] == ["case.created"]
    assert events[0][1]["source_intake_id"] == str(message.intake_id)


async def test_reply_threads_by_in_reply_to_and_by_references(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str
) -> None:
    first = email(address)
    await deliver(first)
    await deliver(email(address, "Re: Printer on fire", "Still smoking", in_reply_to=[first.message_id]))
    # A client that only keeps References (no In-Reply-To), with unknown ids around ours.
    await deliver(email(address, "Re: Printer", "Now it is fine", references=["<unknown@x>", first.message_id or ""]))

    [case] = await cases_of(api, address)
    assert [message["text"] for message in await messages_of(api, case["id"])] == [
        "It is smoking.",
        "Still smoking",
        "Now it is fine",
    ]


async def test_delivery_reports_record_our_message_ids_and_tell_agents_about_failures(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, agent: dict[str, str], published: Published
) -> None:
    await deliver(email(address))
    [case] = await cases_of(api, address)
    case_id = uuid.UUID(case["id"])
    url = f"/api/v1/cases/{case['id']}/messages"
    first = (await api.post(url, json={"text": "Try A", "public": True}, headers=agent)).json()
    await deliver(
        DeliveryReported(
            outbound_id=uuid.UUID(first["id"]), case_id=case_id, status="sent", provider_message_id="ours-1@omnicase"
        )
    )
    # The intake reported the id bare; the customer's client quotes it in brackets.
    await deliver(email(address, "Re: your answer", "thanks", in_reply_to=["<ours-1@omnicase>"]))
    assert len(await cases_of(api, address)) == 1
    assert [message["text"] for message in await messages_of(api, case["id"])][-1] == "thanks"

    second = (await api.post(url, json={"text": "Try B", "public": True}, headers=agent)).json()
    requests = [data for kind, data in await published(case_id) if kind == "outbound.message_requested"]
    assert "ours-1@omnicase" in requests[-1]["references"]

    await deliver(
        DeliveryReported(
            outbound_id=uuid.UUID(second["id"]), case_id=case_id, status="failed", error="550 no such user"
        )
    )
    notes = [message for message in await messages_of(api, case["id"]) if not message["public"]]
    assert len(notes) == 1
    assert "550 no such user" in notes[0]["text"]
    assert notes[0]["author_role"] == "system"


async def test_reply_to_our_answer_threads_by_its_message_id_before_any_delivery_report(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, agent: dict[str, str]
) -> None:
    await deliver(email(address))
    [case] = await cases_of(api, address)
    reply = await api.post(
        f"/api/v1/cases/{case['id']}/messages", json={"text": "Try this", "public": True}, headers=agent
    )
    outbound_id = reply.json()["id"]
    # intake-email sends our reply as <outbound id>@<its domain>; the answer quotes it, nothing else.
    await deliver(email(address, "Re: Printer", "worked!", in_reply_to=[f"<{outbound_id}@mail.omnicase.example>"]))
    assert len(await cases_of(api, address)) == 1
    assert [message["text"] for message in await messages_of(api, case["id"])][-1] == "worked!"


async def test_forwarded_mail_with_edited_subject_finds_the_case_by_its_hidden_reference(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, agent: dict[str, str], published: Published
) -> None:
    await deliver(email(address))
    [case] = await cases_of(api, address)
    reply = await api.post(
        f"/api/v1/cases/{case['id']}/messages", json={"text": "Unplug it.", "public": True}, headers=agent
    )
    assert reply.status_code == 201, reply.text
    outbound = [data for kind, data in await published(case["id"]) if kind == "outbound.message_requested"]
    sent_text = outbound[-1]["text"]
    [token] = re.findall(r"\[ref:oc-[0-9a-f]{20}\]", sent_text)
    assert outbound[-1]["headers"] == {"X-Omnicase-Ref": token}, "the same reference travels in a header"

    # A colleague forwards our answer from another mailbox with a new subject and no threading headers.
    quoted = "\n".join("> " + line for line in sent_text.splitlines())
    colleague = f"colleague-{uuid.uuid4().hex[:6]}@customer.example"
    await deliver(email(colleague, "Fwd: what our IT said", f"See below.\n\n---------- Forwarded ----------\n{quoted}"))

    assert await cases_of(api, colleague) == []
    texts = [message["text"] for message in await messages_of(api, case["id"])]
    assert texts[-1].startswith("See below.")

    # intake-email hands the forwarded history apart from the new text: the marker is only there.
    another = f"colleague-{uuid.uuid4().hex[:6]}@customer.example"
    forwarded = email(another, "Fwd: fyi", "FYI, from IT.", metadata={"quoted_text": f"On Monday we wrote:\n{quoted}"})
    await deliver(forwarded)
    assert await cases_of(api, another) == []
    assert [message["text"] for message in await messages_of(api, case["id"])][-1] == "FYI, from IT."


async def test_subject_number_threads_for_the_requester_only(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str
) -> None:
    await deliver(email(address))
    [case] = await cases_of(api, address)
    token = f"[#{case['number']}]"
    await deliver(email(address, f"Totally new words {token}", "from the requester"))
    stranger = f"stranger-{uuid.uuid4().hex[:6]}@elsewhere.example"
    await deliver(email(stranger, f"Guessing {token}", "from a stranger"))

    assert [message["text"] for message in await messages_of(api, case["id"])][-1] == "from the requester"
    [own] = await cases_of(api, stranger)
    assert own["id"] != case["id"]


async def test_messaging_threads_by_conversation_id_and_web_forms_always_open_a_case(
    api: httpx.AsyncClient, deliver: Deliver
) -> None:
    handle = f"+49151{uuid.uuid4().int % 10**7:07d}"
    conversation = f"wa-{uuid.uuid4().hex}"

    def chat(text: str, channel: Channel = Channel.MESSAGING) -> MessageReceived:
        return MessageReceived(
            intake_id=uuid7(),
            channel=channel,
            received_at=datetime.now(UTC),
            thread_key=conversation,
            sender=Party(handle=handle),
            subject=None,
            text=text,
            conversation_id=conversation,
        )

    await deliver(chat("hello"))
    await deliver(chat("are you there?"))
    contacts = (await api.get("/api/v1/contacts", params={"q": handle})).json()["items"]
    [contact] = contacts
    assert contact["handles"] == [{"channel": "messaging", "handle": handle}]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    assert case["subject"] == "(no subject)"
    assert [message["text"] for message in await messages_of(api, case["id"])] == ["hello", "are you there?"]

    form_sender = f"form-{uuid.uuid4().hex[:8]}@customer.example"
    for text in ("form one", "form two"):
        form = chat(text, Channel.WEB).model_copy(update={"sender": Party(email=form_sender), "subject": "Contact us"})
        await deliver(form)
    assert [case["description"] for case in await cases_of(api, form_sender)] == ["form one", "form two"]


async def test_redelivery_never_creates_a_second_case(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    message = email(address)
    await deliver(message)
    await deliver(message)
    # The same mail fetched again by another route (new intake id, same Message-ID).
    await deliver(email(address, message_id=message.message_id))

    [case] = await cases_of(api, address)
    assert len(await messages_of(api, case["id"])) == 1
    events = await published(case["id"])
    assert [kind for kind, _ in events] == ["case.created", "case.message_added", "case.message_added"]
    # Each copy is acknowledged, so the intake stops republishing it.
    assert events[1][1]["source_intake_id"] == str(message.intake_id)


async def test_repeats_and_a_second_mail_of_a_new_sender_in_one_batch_make_one_contact_and_no_double(
    api: httpx.AsyncClient, db: Database, services: Services, published: Published, email: Email, address: str
) -> None:
    first = email(address, subject="First")
    second = email(address, subject="Second")
    batch = [first, first, email(address, message_id=first.message_id), second]
    intake = services.intake
    async with db.unit_of_work() as session:
        await intake.handle(session, [Received(m.envelope(source="test", subject="test"), m) for m in batch])

    contacts = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"]
    assert len(contacts) == 1, "the second mail found the contact the first one created"
    cases = await cases_of(api, address)
    assert [case["subject"] for case in cases] == ["First", "Second"]
    assert [len(await messages_of(api, case["id"])) for case in cases] == [1, 1]
    events = await published(cases[0]["id"])
    assert [kind for kind, _ in events] == ["case.created", "case.message_added", "case.message_added"]


@pytest.mark.parametrize("waiting", [["pending"], ["solved"], ["pending", "solved"]])
async def test_customer_reply_reopens_a_pending_or_solved_case(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, waiting: list[str]
) -> None:
    first = email(address)
    await deliver(first)
    [case] = await cases_of(api, address)
    await set_status(api, case, "open", *waiting)

    await deliver(email(address, "Re: Printer on fire", "it broke again", in_reply_to=[first.message_id]))

    [reopened] = await cases_of(api, address)
    assert reopened["status"] == "open"
    assert reopened["solved_at"] is None
    history = (await api.get(f"/api/v1/cases/{case['id']}/history")).json()["items"]
    assert history[-1]["field"] == "status"
    assert history[-1]["new"] == "open"
    assert history[-1]["via"] == "email"
    assert history[-1]["actor"] == f"contact:{case['requester_id']}"


async def test_reply_to_a_closed_case_opens_a_linked_follow_up_that_later_replies_join(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    first = email(address)
    await deliver(first)
    [case] = await cases_of(api, address)
    await set_status(api, case, "solved", "closed")

    await deliver(email(address, "Re: Printer on fire", "again!", in_reply_to=[first.message_id]))
    await deliver(email(address, "Re: Printer on fire", "hello?", references=[first.message_id]))

    closed, follow_up = await cases_of(api, address)
    assert closed["status"] == "closed"
    assert follow_up["follow_up_of"] == case["id"]
    assert follow_up["status"] == "new"
    assert [message["text"] for message in await messages_of(api, follow_up["id"])] == ["again!", "hello?"]
    assert len(await messages_of(api, closed["id"])) == 1
    created = [data for kind, data in await published(follow_up["id"]) if kind == "case.created"]
    assert created[0]["follow_up_of"] == case["id"]


async def test_contacts_match_case_insensitively_and_join_their_domain_organization(
    api: httpx.AsyncClient, deliver: Deliver, email: Email
) -> None:
    domain = f"acme-{uuid.uuid4().hex[:6]}.example"
    organization = (await api.post("/api/v1/organizations", json={"name": "Acme", "domains": [domain]})).json()
    await deliver(email(f"Ada@{domain}", "first"))
    await deliver(email(f"ada@{domain.upper()}", "second"))

    [contact] = (await api.get("/api/v1/contacts", params={"q": f"ada@{domain}"})).json()["items"]
    assert contact["organization_id"] == organization["id"]
    cases = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    assert len(cases) == 2
    assert {case["organization_id"] for case in cases} == {organization["id"]}


async def test_intake_defaults_apply_and_bad_defaults_are_dropped_not_fatal(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str
) -> None:
    group = uuid.uuid4()
    defaults = CaseDefaults(
        brand="acme", priority=Priority.HIGH, group_id=group, tags=["VIP", "bad tag!"], custom_fields={"nope": 1}
    )
    await deliver(email(address, defaults=defaults))
    [case] = await cases_of(api, address)
    assert case["priority"] == "high"
    assert case["brand"] == "acme"
    assert case["group_id"] == str(group)
    assert case["tags"] == ["vip"]
    assert case["custom_fields"] == {}


async def test_oversized_sender_supplied_values_are_cut_to_fit_instead_of_failing_the_batch(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str
) -> None:
    long_name = "x" * 400 + ".pdf"
    attachment = AttachmentRef(sha256="3" * 64, filename=long_name, content_type="application/pdf", size=1)
    message = email(
        address,
        "s" * 2000,
        message_id="m" * 1200 + "@mail.example",
        attachments=[attachment],
        defaults=CaseDefaults(brand="b" * 300),
    )
    await deliver(message)
    await deliver(email(address, "Re", "again", in_reply_to=[message.message_id or ""]))

    [case] = await cases_of(api, address)
    assert len(case["subject"]) == 500
    assert case["brand"] == "b" * 100
    first, second = await messages_of(api, case["id"])
    assert len(first["attachments"][0]["filename"]) == 255
    assert second["text"] == "again"
