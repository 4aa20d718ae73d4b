"""Files in a swarm's thread: posted with a message (multipart), listed with it, downloaded by the
swarm's members and leads only, refused when too big, too many or not a member's (nothing stored),
and carried into the case's internal note when the message is promoted (the real case-core, served
over HTTP, applies the command and shows the files)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from omnicase.collaboration.app import create_app
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import eventually

pytestmark = pytest.mark.asyncio

AsAgent = Callable[..., GatewayIdentity]
SCOPES = frozenset({"collaboration:read", "collaboration:write"})
TellCase = Callable[..., Awaitable[Any]]

LOG = b"2026-12-06 09:12:44 ERROR sync: body exceeds 8388608 bytes\n"
SHOT = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


async def _swarm(client: httpx.AsyncClient, case_id: uuid.UUID, owner: GatewayIdentity, expert: uuid.UUID) -> str:
    started = await client.post(
        f"/api/v1/cases/{case_id}/swarms",
        json={"question": "Why do invoices over 10 MB stop?", "members": [{"kind": "agent", "id": str(expert)}]},
        auth=owner,
    )
    assert started.status_code == 201, started.text
    return str(started.json()["id"])


async def test_files_posted_in_the_thread_are_listed_downloaded_by_members_and_carried_into_the_case(
    client: httpx.AsyncClient, case_core: httpx.AsyncClient, tell_case: TellCase, as_agent: AsAgent
) -> None:
    owner, expert, outsider = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    case = await tell_case(assignee_id=owner)
    swarm_id = await _swarm(client, case.case_id, as_agent(owner), expert)

    posted = await client.post(
        f"/api/v1/swarms/{swarm_id}/messages",
        data={"text": "The worker's log and the screen.", "mentions": [str(owner)]},
        files=[
            ("attachments", ("C:\\logs\\sync.log", LOG, "text/plain")),
            ("attachments", ("screen.png", SHOT, "image/png")),
        ],
        auth=as_agent(expert),
    )
    assert posted.status_code == 201, posted.text
    message = posted.json()
    assert message["mentions"] == [f"user:{owner}"]
    log_sha, shot_sha = hashlib.sha256(LOG).hexdigest(), hashlib.sha256(SHOT).hexdigest()
    assert [(a["filename"], a["content_type"], a["size"], a["sha256"]) for a in message["attachments"]] == [
        ("sync.log", "text/plain", len(LOG), log_sha),
        ("screen.png", "image/png", len(SHOT), shot_sha),
    ]
    plain = await client.post(f"/api/v1/swarms/{swarm_id}/messages", json={"text": "No file."}, auth=as_agent(owner))
    assert plain.status_code == 201
    assert plain.json()["attachments"] == []

    thread = (await client.get(f"/api/v1/swarms/{swarm_id}/messages")).json()["items"]
    assert [[a["url"] for a in item["attachments"]] for item in thread] == [
        [f"/api/v1/swarms/{swarm_id}/attachments/{log_sha}", f"/api/v1/swarms/{swarm_id}/attachments/{shot_sha}"],
        [],
    ]

    url = thread[0]["attachments"][0]["url"]
    for member in (owner, expert):
        download = await client.get(url, auth=as_agent(member))
        assert download.status_code == 200, download.text
        assert download.content == LOG
        assert download.headers["content-type"].startswith("text/plain")
        assert download.headers["content-disposition"].startswith('attachment; filename="sync.log"')
    assert (await client.get(url)).status_code == 200  # a lead
    refused = await client.get(url, auth=as_agent(outsider))
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("not-swarm-member")
    unknown = await client.get(f"/api/v1/swarms/{swarm_id}/attachments/{'0' * 64}", auth=as_agent(expert))
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("swarm-attachment-not-found")

    promoted = await client.post(f"/api/v1/swarms/{swarm_id}/messages/{message['id']}/promotion", auth=as_agent(owner))
    assert promoted.status_code == 200, promoted.text
    assert [a["sha256"] for a in promoted.json()["attachments"]] == [log_sha, shot_sha]

    notes: list[dict[str, Any]] = []

    async def noted() -> bool:
        items = (await case_core.get(f"/api/v1/cases/{case.case_id}/messages")).json()["items"]
        notes[:] = [item for item in items if item["text"] == "The worker's log and the screen."]
        return bool(notes)

    await eventually(noted, message="the promoted note in the case")
    [note] = notes
    assert (note["public"], note["author"]) == (False, f"user:{expert}")
    assert [(a["filename"], a["sha256"]) for a in note["attachments"]] == [
        ("sync.log", log_sha),
        ("screen.png", shot_sha),
    ]
    in_case = await case_core.get(note["attachments"][1]["url"])
    assert in_case.status_code == 200
    assert in_case.content == SHOT


async def test_too_big_too_many_or_not_a_members_files_are_refused_and_nothing_is_posted(
    settings: CollaborationSettings, tell_case: TellCase, as_agent: AsAgent
) -> None:
    settings = settings.model_copy(update={"max_attachment_bytes": 100, "max_attachments_per_message": 2})
    owner, expert, outsider = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    case = await tell_case(assignee_id=owner)
    async with running(create_app(settings), scopes=SCOPES) as client:
        swarm_id = await _swarm(client, case.case_id, as_agent(owner), expert)
        url = f"/api/v1/swarms/{swarm_id}/messages"

        too_big = await client.post(
            url, data={"text": "Big"}, files=[("attachments", ("big.bin", b"x" * 101, "application/octet-stream"))],
            auth=as_agent(expert),
        )  # fmt: skip
        assert too_big.status_code == 413, too_big.text
        assert too_big.headers["content-type"].startswith("application/problem+json")
        assert too_big.json()["errors"][0]["field"] == "body.attachments"

        too_many = await client.post(
            url, data={"text": "Many"}, files=[("attachments", (f"{n}.txt", b"n", "text/plain")) for n in range(3)],
            auth=as_agent(expert),
        )  # fmt: skip
        assert too_many.status_code == 400, too_many.text
        assert too_many.headers["content-type"].startswith("application/problem+json")

        outsider_post = await client.post(
            url, data={"text": "Mine"}, files=[("attachments", ("a.txt", b"outsider's bytes", "text/plain"))],
            auth=as_agent(outsider),
        )  # fmt: skip
        assert outsider_post.status_code == 403
        assert outsider_post.json()["type"].endswith("not-swarm-member")

        blank = await client.post(
            url, data={"text": " "}, files=[("attachments", ("a.txt", b"a", "text/plain"))], auth=as_agent(expert)
        )
        assert blank.status_code == 422
        assert blank.json()["errors"][0]["field"] == "body.text"
        misplaced = await client.post(
            url, data={"text": "x"}, files=[("file", ("a.txt", b"a", "text/plain"))], auth=as_agent(expert)
        )
        assert misplaced.status_code == 422
        assert misplaced.json()["errors"][0]["field"] == "body.file"
        xml = await client.post(url, content=b"<text/>", headers={"content-type": "application/xml"})
        assert xml.status_code == 415
        assert xml.json()["type"].endswith("unsupported-media-type")

        assert (await client.get(url)).json()["items"] == []
        document = (await client.get("/openapi.json")).json()
        form = document["paths"]["/api/v1/swarms/{swarm_id}/messages"]["post"]["requestBody"]["content"]
        assert form["multipart/form-data"]["schema"]["properties"]["attachments"]["maxItems"] == 2


async def test_a_form_message_may_mention_as_many_agents_as_the_document_allows(
    client: httpx.AsyncClient, tell_case: TellCase, as_agent: AsAgent
) -> None:
    """Fifty mentions are fifty-one form fields with the text: the form parser takes what the model does
    (the schemathesis chain found a ten-field cap refusing a valid message with a 400)."""
    owner, expert = uuid.uuid4(), uuid.uuid4()
    case = await tell_case(assignee_id=owner)
    swarm_id = await _swarm(client, case.case_id, as_agent(owner), expert)
    mentioned = [str(uuid.uuid4()) for _ in range(50)]

    posted = await client.post(
        f"/api/v1/swarms/{swarm_id}/messages",
        data={"text": "Everyone who knows the sync worker.", "mentions": mentioned},
        files=[("attachments", ("screen.png", SHOT, "image/png"))],
        auth=as_agent(expert),
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["mentions"] == [f"user:{user}" for user in mentioned]
