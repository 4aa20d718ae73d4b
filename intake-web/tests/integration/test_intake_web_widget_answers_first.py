"""Answers first hold a chat's question back from the desk: the visitor's first message waits while the
help center's articles are shown, and becomes the case (with anything written since, in order, once) only
when the visitor asks for someone, or after the widget's ``hand_over_after_seconds`` without a choice, a
restart of intake-web in between; "this answered my question" ends the chat with no case, counted in the
article's deflection by the real knowledge service. No articles found: the message goes to the desk at once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from omnicase.devtools.testing.apps import served
from omnicase.devtools.testing.plugin import SettingsFactory, eventually
from omnicase.knowledge.app import create_app as create_knowledge
from omnicase.knowledge.settings import KnowledgeSettings

pytestmark = pytest.mark.asyncio

SITE = "https://shop.example"
BRAND = "acme"  # the brand desk's (conftest)
KNOWLEDGE_SCOPES = frozenset({"knowledge:read", "knowledge:write"})


@pytest_asyncio.fixture
async def knowledge(service_settings: SettingsFactory, desk: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The real knowledge service over HTTP (the brand desk answers its brands), with an article of the brand."""
    settings = service_settings(KnowledgeSettings, case_core_url=desk.url, case_core_timeout_seconds=30)
    async with served(create_knowledge(settings), scopes=KNOWLEDGE_SCOPES) as client:
        client.timeout = httpx.Timeout(30)
        yield client


async def _article(knowledge: httpx.AsyncClient, title: str, body: str) -> str:
    created = await knowledge.post(
        "/api/v1/kb/articles",
        json={"brand": BRAND, "locale": "en", "title": title, "body": body, "status": "published"},
    )
    assert created.status_code == 201, created.text
    article_id: str = created.json()["id"]
    return article_id


class Visitor:
    def __init__(self, service: Any, channel_id: str, token: str) -> None:
        self.service, self.base, self.headers = service, f"/public/messaging/{channel_id}", {"Origin": SITE}
        self.headers["X-Widget-Token"] = token

    async def write(self, text: str, client_id: str | None = None) -> dict[str, Any]:
        sent = await self.service.public.post(
            f"{self.base}/messages",
            json={"text": text, "client_id": client_id or uuid.uuid4().hex},
            headers=self.headers,
        )
        assert sent.status_code in (200, 201), sent.text
        entry: dict[str, Any] = sent.json()
        return entry

    async def entries(self) -> list[dict[str, Any]]:
        transcript = await self.service.public.get(f"{self.base}/conversation", headers=self.headers)
        assert transcript.status_code == 200, transcript.text
        entries: list[dict[str, Any]] = transcript.json()["entries"]
        return entries

    async def articles(self) -> list[dict[str, Any]]:
        async def shown() -> bool:
            return any(entry["direction"] == "articles" for entry in await self.entries())

        await eventually(shown, within=60, message="the articles")
        (entry,) = [entry for entry in await self.entries() if entry["direction"] == "articles"]
        articles: list[dict[str, Any]] = entry["articles"]
        return articles

    async def choose(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        public: httpx.AsyncClient = self.service.public
        return await public.post(f"{self.base}/{path}", json=body, headers=self.headers)


async def _visitor(service: Any, channel_id: str) -> Visitor:
    started = await service.public.post(f"/public/messaging/{channel_id}/conversations", headers={"Origin": SITE})
    assert started.status_code == 201, started.text
    return Visitor(service, channel_id, started.json()["token"])


async def _widget(service: Any, **config: Any) -> str:
    channel = await service.channel({"kind": "widget", "brand": BRAND, "answers_first": True, **config})
    channel_id: str = channel["id"]
    return channel_id


async def test_the_question_waits_for_the_visitor_to_ask_for_someone_then_opens_the_case_in_order(
    start_service: Any, knowledge: httpx.AsyncClient
) -> None:
    article = await _article(knowledge, "Tracking your parcel", "Every parcel has a tracking number under Orders.")
    service = await start_service(knowledge_url=str(knowledge.base_url), knowledge_timeout_seconds=25)
    channel_id = await _widget(service, hand_over_after_seconds=3600)

    asking = await _visitor(service, channel_id)
    first = await asking.write("How do I track my parcel?", client_id="q1")
    assert first["seq"] == 1
    (shown,) = await asking.articles()
    assert shown["article_id"] == article
    # Writing again before choosing: held too; a resend of the first is still one message.
    await asking.write("It is a week late.", client_id="q2")
    assert (await asking.write("How do I track my parcel?", client_id="q1"))["seq"] == 1
    assert await service.channel_messages(channel_id) == [], "nothing reached the desk before the visitor chose"

    handed = await asking.choose("handover")
    assert handed.status_code == 201, handed.text
    assert handed.json()["note"] == "handed_over"
    messages = await service.channel_messages(channel_id)
    assert sorted(m["text"] for m in messages) == ["How do I track my parcel?", "It is a week late."]
    assert len({m["id"] for m in messages}) == 2
    # Said twice (a double click): the first settled it.
    again = await asking.choose("handover")
    assert again.status_code == 409
    assert again.json()["type"].endswith("/no-articles-shown")
    # Once handed over, the visitor's next message goes to the desk as it is written.
    await asking.write("Thanks, I'll wait.")
    assert len(await service.channel_messages(channel_id)) == 3

    # Another visitor: the article answered it. No case; knowledge counts the Yes.
    solved = await _visitor(service, channel_id)
    await solved.write("Where can I see the tracking number of my parcel?")
    (shown,) = await solved.articles()
    wrong = await solved.choose("answered", {"article_id": str(uuid.uuid4())})
    assert wrong.status_code == 404
    assert [error["field"] for error in wrong.json()["errors"]] == ["body.article_id"]
    answered = await solved.choose("answered", {"article_id": shown["article_id"]})
    assert answered.status_code == 201, answered.text
    assert answered.json()["note"] == "answered"
    assert len(await service.channel_messages(channel_id)) == 3, "an answered question opens no case"
    deflection = (await knowledge.get(f"/api/v1/kb/articles/{article}/deflection")).json()
    assert (deflection["suggested"], deflection["solved"]) == (2, 1)
    assert (await solved.choose("handover")).status_code == 409


async def test_a_held_question_is_handed_over_in_time_across_a_restart_and_one_nothing_answers_at_once(
    start_service: Any, knowledge: httpx.AsyncClient
) -> None:
    await _article(knowledge, "Returning an item", "Print the return label from Orders and drop the parcel off.")
    settings = {"knowledge_url": str(knowledge.base_url), "knowledge_timeout_seconds": 25}
    service = await start_service(**settings)
    channel_id = await _widget(service, hand_over_after_seconds=4)

    waiting = await _visitor(service, channel_id)
    await waiting.write("How do I return an item?")
    await waiting.articles()
    # intake-web goes down while the question is held, and comes back: the question is not lost.
    assert service.stop is not None
    await service.stop()
    service = await start_service(**settings)
    waiting.service = service
    assert await service.channel_messages(channel_id) == []

    async def handed_over() -> bool:
        return len(await service.channel_messages(channel_id)) == 1

    await eventually(handed_over, within=30, message="the held question's hand-over")
    (message,) = await service.channel_messages(channel_id)
    assert message["text"] == "How do I return an item?"
    assert [e["note"] for e in await waiting.entries() if e["direction"] == "note"] == ["handed_over"]

    # Nothing in the help center answers this one: it goes to the desk at once, with no articles and no note.
    unanswered = await _visitor(service, channel_id)
    await unanswered.write("Zyxwv qqq frobnicate?")

    async def at_desk() -> bool:
        return len(await service.channel_messages(channel_id)) == 2

    await eventually(at_desk, within=30, message="the unanswerable question at the desk")
    assert [e["direction"] for e in await unanswered.entries()] == ["visitor"]
