"""Replies, notes and attachments through the API; a public reply is sent out threaded."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest

from omnicase.case_core.app import create_app
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import Deliver, Email, Published, identity_headers
from omnicase.devtools.devstack.processes import free_port
from omnicase.devtools.testing.plugin import S3Server
from omnicase.kit.blobs import PostgresBlobStore
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.events import AttachmentRef, Channel, MessageReceived, Party
from omnicase.kit.ids import uuid7
from omnicase.kit.s3 import S3BlobStore

pytestmark = pytest.mark.asyncio


async def email_case(api: httpx.AsyncClient, deliver: Any, message: MessageReceived) -> dict[str, Any]:
    await deliver(message)
    [contact] = (await api.get("/api/v1/contacts", params={"q": message.sender.email})).json()["items"]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    return dict(case)


async def test_public_reply_is_sent_on_the_email_thread_with_the_case_reference(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str, agent: dict[str, str]
) -> None:
    inbound = email(address, "Printer on fire", references=["<older@mail.example>"])
    case = await email_case(api, deliver, inbound)

    response = await api.post(
        f"/api/v1/cases/{case['id']}/messages",
        json={"text": "We are on it.", "html": "<p>We are on it.<script>alert(1)</script></p>", "public": True},
        headers=agent,
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["direction"] == "outbound"
    assert message["author_role"] == "agent"
    assert "<script>" not in message["html"]

    [outbound] = [data for kind, data in await published(case["id"]) if kind == "outbound.message_requested"]
    assert outbound["channel"] == "email"
    assert outbound["to"][0]["email"] == address
    assert outbound["in_reply_to"] == inbound.message_id
    assert inbound.message_id in outbound["references"]
    assert outbound["subject"] == f"Re: Printer on fire [#{case['number']}]"
    assert "[ref:oc-" in outbound["text"]
    assert "[ref:oc-" in outbound["html"]
    assert outbound["outbound_id"] == message["id"]

    updated = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    assert updated["first_public_reply_at"] is not None
    assert updated["status"] == "open"


async def test_internal_note_is_not_sent_and_customers_cannot_see_it(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str, agent: dict[str, str]
) -> None:
    case = await email_case(api, deliver, email(address))
    response = await api.post(
        f"/api/v1/cases/{case['id']}/messages", json={"text": "VIP customer", "public": False}, headers=agent
    )
    assert response.status_code == 201
    kinds = [kind for kind, _ in await published(case["id"])]
    assert "outbound.message_requested" not in kinds
    assert kinds[-1] == "case.message_added"
    public = (await api.get(f"/api/v1/cases/{case['id']}/messages", params={"public_only": True})).json()["items"]
    assert [message["text"] for message in public] == ["It is smoking."]
    unchanged = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    assert unchanged["first_public_reply_at"] is None


async def test_messaging_reply_goes_to_the_conversation(
    api: httpx.AsyncClient, deliver: Deliver, published: Published
) -> None:
    from datetime import UTC, datetime

    from omnicase.kit.events import Channel, Party
    from omnicase.kit.ids import uuid7

    conversation = f"conv-{uuid.uuid4().hex}"
    handle = f"fb-{uuid.uuid4().hex[:8]}"
    await deliver(
        MessageReceived(
            intake_id=uuid7(),
            channel=Channel.SOCIAL,
            received_at=datetime.now(UTC),
            thread_key=conversation,
            sender=Party(handle=handle),
            text="hi",
            conversation_id=conversation,
        )
    )
    [contact] = (await api.get("/api/v1/contacts", params={"q": handle})).json()["items"]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    response = await api.post(f"/api/v1/cases/{case['id']}/messages", json={"text": "hello!", "public": True})
    assert response.status_code == 201
    [outbound] = [data for kind, data in await published(case["id"]) if kind == "outbound.message_requested"]
    assert outbound["channel"] == "social"
    assert outbound["conversation_id"] == conversation
    assert outbound["to"][0]["handle"] == handle


async def test_a_public_reply_to_a_requester_with_no_address_is_a_409_and_adds_nothing(api: httpx.AsyncClient) -> None:
    contact = (await api.post("/api/v1/contacts", json={"name": "Known by name only"})).json()
    created = await api.post("/api/v1/cases", json={"subject": "Walk-in", "requester_id": contact["id"]})
    assert created.status_code == 201, created.text
    case = created.json()
    before = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
    response = await api.post(f"/api/v1/cases/{case['id']}/messages", json={"text": "hello!", "public": True})
    assert response.status_code == 409
    assert response.json()["type"].endswith("/no-recipient")
    assert [error["field"] for error in response.json()["errors"]] == ["body.public"]
    assert (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"] == before


async def test_attachments_upload_by_multipart_and_download_with_their_type_and_name(
    api: httpx.AsyncClient,
    db: Database,
    deliver: Deliver,
    published: Published,
    email: Email,
    address: str,
    agent: dict[str, str],
) -> None:
    case = await email_case(api, deliver, email(address))
    content = b"%PDF-1.4 fake invoice"
    response = await api.post(
        f"/api/v1/cases/{case['id']}/messages",
        data={"text": "Invoice attached", "public": "true"},
        files=[("attachments", ("C:\\Users\\ada\\Rechnung März.pdf", content, "application/pdf"))],
        headers=agent,
    )
    assert response.status_code == 201, response.text
    [attachment] = response.json()["attachments"]
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()
    assert attachment["filename"] == "Rechnung März.pdf"
    assert attachment["size"] == len(content)
    [outbound] = [data for kind, data in await published(case["id"]) if kind == "outbound.message_requested"]
    assert outbound["attachments"][0]["sha256"] == attachment["sha256"]

    download = await api.get(attachment["url"])
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf" in disposition
    assert download.headers["x-content-type-options"] == "nosniff"

    # The intake sending the reply reads the bytes by hash alone from the suite's store (it knows only the ref).
    assert await PostgresBlobStore(db.engine).get(attachment["sha256"]) == content
    other = await api.get(f"/api/v1/cases/{uuid.uuid4()}/attachments/{attachment['sha256']}")
    assert other.status_code == 404
    unknown = await api.get(f"/api/v1/cases/{case['id']}/attachments/{'0' * 64}")
    assert unknown.status_code == 404


async def test_bad_messages_are_refused_and_add_nothing(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    case = await email_case(api, deliver, email(address))
    url = f"/api/v1/cases/{case['id']}/messages"
    before = len(await published())
    empty = await api.post(url, json={"text": "", "public": True})
    assert empty.status_code == 422
    assert [error["field"] for error in empty.json()["errors"]] == ["body.text"]
    no_public = await api.post(url, data={"text": "hi"})
    assert no_public.status_code == 422
    assert [error["field"] for error in no_public.json()["errors"]] == ["body.public"]
    assert (await api.post(url, content=b"text=hi", headers={"content-type": "text/plain"})).status_code == 415
    assert (await api.post(url, content=b"{not json", headers={"content-type": "application/json"})).status_code == 422
    too_big = await api.post(
        url, data={"text": "big", "public": "false"}, files=[("attachments", ("big.bin", b"x" * 2048, "application/x"))]
    )
    assert too_big.status_code == 413
    too_many = await api.post(
        url,
        data={"text": "many", "public": "false"},
        files=[("attachments", (f"{index}.txt", b"x", "text/plain")) for index in range(4)],
    )
    assert too_many.status_code in {400, 413}
    # The document says how many files this deployment takes (3 in these tests), so a client knows.
    form = (await api.get("/openapi.json")).json()["paths"]["/api/v1/cases/{case_id}/messages"]["post"]
    assert form["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["attachments"]["maxItems"] == 3
    assert len((await api.get(url)).json()["items"]) == 1
    assert len(await published()) == before


async def test_public_reply_on_a_case_without_requester_is_refused(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/cases", json={"subject": "Internal task", "type": "task"})
    assert created.status_code == 201
    case = created.json()
    response = await api.post(f"/api/v1/cases/{case['id']}/messages", json={"text": "hello?", "public": True})
    # The case as it is now (nobody to write to) refuses it: a 409, as the body itself is fine.
    assert response.status_code == 409
    assert (await api.get(f"/api/v1/cases/{case['id']}")).json()["version"] == case["version"]


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.WEB])
async def test_a_file_an_intake_stored_opens_from_the_case_through_the_suites_blob_store(
    api: httpx.AsyncClient, db: Database, deliver: Deliver, address: str, channel: Channel
) -> None:
    content = f"%PDF-1.4 receipt sent by {channel}".encode()
    # As the intake did when it received the message: into the store every service shares.
    digest = await PostgresBlobStore(db.engine).put(content)
    ref = AttachmentRef(sha256=digest, filename="receipt.pdf", content_type="application/pdf", size=len(content))
    missing = AttachmentRef(sha256="1" * 64, filename="gone.txt", content_type="text/plain", size=1)
    await deliver(
        MessageReceived(
            intake_id=uuid7(),
            channel=channel,
            received_at=utcnow(),
            thread_key=f"test:{uuid.uuid4()}",
            sender=Party(email=address),
            subject="Charged twice",
            text="See the receipt.",
            attachments=[ref, missing],
        )
    )
    [contact] = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    [message] = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
    assert [item["filename"] for item in message["attachments"]] == ["receipt.pdf", "gone.txt"]
    download = await api.get(message["attachments"][0]["url"])
    assert download.status_code == 200, download.text
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    gone = await api.get(message["attachments"][1]["url"])
    assert gone.status_code == 404
    assert "no longer available" in gone.json()["detail"]


async def test_a_reply_on_an_integrators_conversation_goes_back_to_that_conversation_not_by_email(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, address: str, agent: dict[str, str]
) -> None:
    conversation = f"generic:{uuid.uuid4()}:ticket-8812"  # intake-web's thread key of a generic channel
    await deliver(
        MessageReceived(
            intake_id=uuid7(),
            channel=Channel.API,
            received_at=utcnow(),
            thread_key=conversation,
            conversation_id=conversation,
            sender=Party(email=address, handle="user-8812"),
            subject="Order stuck",
            text="Order 8812 has not shipped.",
        )
    )
    [contact] = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]

    response = await api.post(
        f"/api/v1/cases/{case['id']}/messages", json={"text": "Shipped today.", "public": True}, headers=agent
    )
    assert response.status_code == 201, response.text
    [outbound] = [data for kind, data in await published(case["id"]) if kind == "outbound.message_requested"]
    assert outbound["channel"] == "api"
    assert outbound["conversation_id"] == conversation

    # A case an agent opened over the REST API has no conversation: its requester is answered by email.
    created = await api.post(
        "/api/v1/cases", json={"subject": "Call me back", "requester": {"email": address}}, headers=agent
    )
    assert created.status_code == 201, created.text
    other = created.json()
    assert other["channel"] == "api"
    reply = await api.post(f"/api/v1/cases/{other['id']}/messages", json={"text": "Calling.", "public": True})
    assert reply.status_code == 201, reply.text
    [by_email] = [data for kind, data in await published(other["id"]) if kind == "outbound.message_requested"]
    assert by_email["channel"] == "email"


async def test_with_an_s3_store_an_agents_file_is_kept_in_the_bucket_and_served_from_it(
    db: Database, settings: CaseCoreSettings, deliver: Deliver, email: Email, address: str, s3_server: S3Server
) -> None:
    bucket = f"case-core-{uuid.uuid4().hex[:8]}"
    s3 = {
        "blob_store": "s3",
        "blob_s3_endpoint": s3_server.endpoint,
        "blob_s3_bucket": bucket,
        "blob_s3_region": s3_server.region,
        "blob_s3_access_key": s3_server.access_key,
        "blob_s3_secret_key": s3_server.secret_key,
    }
    app = create_app(settings.model_copy(update=s3))
    app.state.database = db
    store: S3BlobStore = app.state.blobs
    await store.create_bucket()
    try:
        headers = identity_headers(settings.internal_secret, role="admin")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://case-core", headers=headers) as api:
            case = await email_case(api, deliver, email(address))
            content = b"%PDF-1.4 kept in the bucket"
            reply = await api.post(
                f"/api/v1/cases/{case['id']}/messages",
                data={"text": "Your invoice", "public": "true"},
                files=[("attachments", ("invoice.pdf", content, "application/pdf"))],
            )
            assert reply.status_code == 201, reply.text
            [attachment] = reply.json()["attachments"]
            assert await store.get(attachment["sha256"]) == content
            assert await PostgresBlobStore(db.engine).get(attachment["sha256"]) is None, "not in PostgreSQL"
            download = await api.get(attachment["url"])
            assert download.status_code == 200
            assert download.content == content
    finally:
        await store.close()


async def test_a_reply_whose_files_cannot_be_stored_is_a_503_and_adds_nothing(
    db: Database, settings: CaseCoreSettings, deliver: Deliver, email: Email, address: str
) -> None:
    unreachable = {
        "blob_store": "s3",
        "blob_s3_endpoint": f"http://127.0.0.1:{free_port()}",
        "blob_s3_access_key": "key",
        "blob_s3_secret_key": "secret",
    }
    app = create_app(settings.model_copy(update=unreachable))
    app.state.database = db
    headers = identity_headers(settings.internal_secret, role="admin")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://case-core", headers=headers) as api:
        case = await email_case(api, deliver, email(address))
        before = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
        reply = await api.post(
            f"/api/v1/cases/{case['id']}/messages",
            data={"text": "Your invoice", "public": "true"},
            files=[("attachments", ("invoice.pdf", b"%PDF-1.4", "application/pdf"))],
        )
        assert reply.status_code == 503
        assert reply.headers["retry-after"] == "5"
        assert "unreachable" in reply.json()["detail"]
        assert (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"] == before
    await app.state.blobs.close()
