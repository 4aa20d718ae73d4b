"""Suggested articles and deflection through the API and the public help center: a case's Korean
question gets the Korean article that answers it, published only; the link opens the article and
asks whether it answered; Yes (once per link) asks case-core to solve the case on case.commands;
each suggestion, opening and answer is counted on its article."""

from __future__ import annotations

import json
import re
import uuid
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from omnicase.devtools.testing.probes import read_topic
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio

DEFLECTION = ("article.suggested", "article.answered")


async def publish(client: httpx.AsyncClient, brand: str, locale: str, title: str, body: str, **more: Any) -> str:
    payload = {"brand": brand, "locale": locale, "title": title, "body": body, "status": "published", **more}
    created = await client.post("/api/v1/kb/articles", json=payload)
    assert created.status_code == 201, created.text
    article_id: str = created.json()["id"]
    return article_id


def _relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _token(page: str) -> str:
    found = re.search(r'name="s" value="([^"]+)"', page)
    assert found is not None, page
    return unescape(found.group(1))


async def test_a_korean_question_gets_the_korean_article_and_yes_solves_the_case(
    client: httpx.AsyncClient, brand: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    password = await publish(
        client, brand, "en", "Reset your password", "Open **Settings → Security** and choose *Reset password*."
    )
    korean = await client.put(
        f"/api/v1/kb/articles/{password}/translations/ko",
        json={
            "title": "비밀번호 재설정",
            "body": "설정의 보안 메뉴에서 비밀번호 재설정을 선택하세요.",
            "status": "published",
        },
    )
    assert korean.status_code == 200, korean.text
    await publish(client, brand, "ko", "환불 요청", "환불은 영업일 기준 5일 안에 처리됩니다.")
    draft = {"brand": brand, "locale": "ko", "title": "비밀번호 변경 (초안)", "body": "비밀번호", "status": "draft"}
    assert (await client.post("/api/v1/kb/articles", json=draft)).status_code == 201

    case_id = str(uuid.uuid4())
    asked = await client.post(
        "/api/v1/kb/suggestions",
        json={
            "case_id": case_id,
            "subject": "비밀번호를 잊어버렸어요",
            "text": "로그인이 안 돼요. 비밀번호를 어떻게 재설정하나요?",
            "brand": brand,
        },
    )
    assert asked.status_code == 201, asked.text
    items = asked.json()["items"]
    assert [(item["article_id"], item["locale"], item["title"]) for item in items] == [
        (password, "ko", "비밀번호 재설정")
    ], "published Korean only: not the English translation, not the draft, not the refund"
    assert {"비밀", "번호", "설정"} <= set(items[0]["matched"])
    link = items[0]["url"]
    assert link.startswith(f"http://127.0.0.1:8080/public/help/{brand}/ko/articles/{password}?s=")

    opened = await client.get(_relative(link))
    assert opened.status_code == 200, opened.text
    page = opened.text
    assert '<html lang="ko">' in page
    assert "<h1>비밀번호 재설정</h1>" in page
    assert f'hreflang="en" href="http://127.0.0.1:8080/public/help/{brand}/en/articles/{password}"' in page
    assert f'rel="canonical" href="http://127.0.0.1:8080/public/help/{brand}/ko/articles/{password}"' in page
    assert "네, 해결되었습니다" in page
    token = _token(page)

    answer = f"/public/help/{brand}/ko/articles/{password}/answer"
    wrong = await client.post(answer.replace(password, str(uuid.uuid4())), data={"s": token, "answer": "yes"})
    assert wrong.status_code == 404, "a token answers for its own article only"
    solved = await client.post(answer, data={"s": token, "answer": "yes"})
    assert solved.status_code == 200, solved.text
    assert "해결됨으로 처리되었습니다" in solved.text
    again = await client.post(answer, data={"s": token, "answer": "no"})
    assert "이미 기록되었습니다" in again.text, "each link answers once"
    assert "네, 해결되었습니다" not in (await client.get(_relative(link))).text, "no question once answered"

    records = await read_topic(kafka_bootstrap, physical(Topic.CASE_COMMANDS, topic_prefix), expect=1)
    commands = [json.loads(record.value) for record in records if record.key == case_id.encode()]
    assert [(c["type"], c["data"]["status"], c["data"]["reason"]) for c in commands] == [
        ("case.set_status", "solved", f"answered by article {password}")
    ]

    counted = await client.get(f"/api/v1/kb/articles/{password}/deflection")
    assert counted.json() == {"article_id": password, "suggested": 1, "opened": 1, "solved": 1}
    # Reporting counts deflection from knowledge.events: the suggestion, then its answer.
    told = await read_topic(
        kafka_bootstrap,
        physical(Topic.KNOWLEDGE_EVENTS, topic_prefix),
        expect=2,
        keep=lambda record: record.key == password.encode() and json.loads(record.value)["type"] in DEFLECTION,
    )
    deflection = [json.loads(record.value) for record in told]
    assert [event["type"] for event in deflection] == ["article.suggested", "article.answered"]
    suggested, answered = (event["data"] for event in deflection)
    assert (suggested["case_id"], suggested["locale"], suggested["brand"]) == (case_id, "ko", brand)
    assert (answered["suggestion_id"], answered["outcome"]) == (suggested["suggestion_id"], "solved")
    linked = (await client.get(f"/api/v1/kb/articles/{password}/cases")).json()["items"]
    assert [(link["case_id"], link["relation"], link["linked_by"]) for link in linked] == [
        (case_id, "solved", "customer")
    ]


async def test_no_leaves_the_case_open_and_bad_links_and_requests_are_refused(
    client: httpx.AsyncClient, brand: str
) -> None:
    article = await publish(client, brand, "en", "Request a refund", "Refunds are paid within 5 business days.")
    case_id = str(uuid.uuid4())
    items = (
        await client.post(
            "/api/v1/kb/suggestions",
            json={"case_id": case_id, "subject": "Refund", "text": "How do I get a refund?", "brand": brand},
        )
    ).json()["items"]
    assert [item["article_id"] for item in items] == [article]
    token = _token((await client.get(_relative(items[0]["url"]))).text)
    kept = await client.post(f"/public/help/{brand}/en/articles/{article}/answer", data={"s": token, "answer": "no"})
    assert "Your request stays open" in kept.text

    forged = await client.get(f"/public/help/{brand}/en/articles/{article}?s=not-a-token")
    assert forged.status_code == 200
    assert "Did this answer" not in forged.text
    refused = await client.post(
        f"/public/help/{brand}/en/articles/{article}/answer", data={"s": "not-a-token", "answer": "yes"}
    )
    assert refused.status_code == 404
    assert "This link does not work" in refused.text
    assert (await client.get(f"/public/help/other-{brand}/en/articles/{article}")).status_code == 404
    assert (await client.get(f"/public/help/{brand}/no_locale/articles/{article}")).status_code == 404

    bad = await client.post("/api/v1/kb/suggestions", json={"case_id": case_id, "limit": 4})
    assert bad.status_code == 422
    assert [error["field"] for error in bad.json()["errors"]] == ["body.limit"]
    counted = (await client.get(f"/api/v1/kb/articles/{article}/deflection")).json()
    assert (counted["suggested"], counted["opened"], counted["solved"]) == (1, 1, 0)


async def test_a_chat_question_not_a_case_yet_counts_its_yes_and_solves_nothing(
    client: httpx.AsyncClient, brand: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    article = await publish(
        client, brand, "en", "Change your delivery address", "Open **Orders** and pick *Deliver elsewhere*."
    )
    asked = await client.post(
        "/api/v1/kb/suggestions",
        json={"subject": "Delivery address", "text": "How do I change my delivery address?", "brand": brand},
    )
    assert asked.status_code == 201, asked.text
    (item,) = asked.json()["items"]
    assert item["article_id"] == article
    token = _token((await client.get(_relative(item["url"]))).text)
    solved = await client.post(f"/public/help/{brand}/en/articles/{article}/answer", data={"s": token, "answer": "yes"})
    assert solved.status_code == 200, solved.text
    counted = (await client.get(f"/api/v1/kb/articles/{article}/deflection")).json()
    assert (counted["suggested"], counted["opened"], counted["solved"]) == (1, 1, 1)
    # No case to solve and none to tell reporting of: the Yes reached no topic, the article links no case.
    # (A marker suggestion for a case, asked after, shows the topics were read up to it.)
    marker_case = str(uuid.uuid4())
    marker = await client.post(
        "/api/v1/kb/suggestions",
        json={"case_id": marker_case, "subject": "Delivery address", "text": "delivery address", "brand": brand},
    )
    assert marker.status_code == 201, marker.text
    told = await read_topic(
        kafka_bootstrap,
        physical(Topic.KNOWLEDGE_EVENTS, topic_prefix),
        expect=1,
        keep=lambda record: record.key == article.encode() and json.loads(record.value)["type"] in DEFLECTION,
    )
    assert [json.loads(record.value)["data"]["case_id"] for record in told] == [marker_case]
    assert (await client.get(f"/api/v1/kb/articles/{article}/cases")).json()["items"] == []
