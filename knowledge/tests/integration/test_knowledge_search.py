"""Search through the API with small, realistic knowledge bases in English, Korean and Chinese:
the article that answers a question comes first, in the question's language."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from omnicase.devtools.testing.apps import GatewayIdentity

pytestmark = pytest.mark.asyncio

ENGLISH = {
    "password": (
        "Reset your password",
        "If you forgot your password, open **Settings → Security** and choose *Reset password*. "
        "We email you a link that works for one hour.",
    ),
    "refund": (
        "Request a refund",
        "Refunds are paid to the card you used within 5 business days after we receive the returned item.",
    ),
    "address": (
        "Change your shipping address",
        "You can change where an order is delivered until it ships: open the order and edit the address.",
    ),
    "two_factor": (
        "Turn on two-factor authentication",
        "Protect your account with an authenticator app: each sign-in then asks for a six-digit code.",
    ),
}
KOREAN = {
    "password": (
        "비밀번호 재설정",
        "비밀번호를 잊어버렸다면 설정의 보안 메뉴에서 비밀번호 재설정을 선택하세요. "
        "한 시간 동안 유효한 링크를 이메일로 보내드립니다.",
    ),
    "refund": ("환불 요청하기", "반품된 상품을 받은 뒤 영업일 기준 5일 안에 결제하신 카드로 환불해 드립니다."),
    "address": ("배송지 변경", "주문이 발송되기 전까지 주문 상세에서 배송 주소를 바꿀 수 있습니다."),
}
CHINESE = {
    "password": (
        "重置密码",
        "如果您忘记了密码，请在设置的安全选项中选择重置密码。我们会向您的邮箱发送一个一小时内有效的链接。",
    ),
    "refund": ("申请退款", "我们收到退回的商品后，会在5个工作日内将退款退回您付款使用的银行卡。"),
    "address": ("修改收货地址", "在订单发货之前，您可以在订单详情中修改收货地址。"),
}


async def seed(client: httpx.AsyncClient, brand: str, locale: str, texts: dict[str, tuple[str, str]]) -> dict[str, str]:
    ids = {}
    for key, (title, body) in texts.items():
        payload = {"brand": brand, "locale": locale, "title": title, "body": body, "status": "published"}
        created = await client.post("/api/v1/kb/articles", json=payload)
        assert created.status_code == 201, created.text
        ids[key] = created.json()["id"]
    return ids


async def search(client: httpx.AsyncClient, brand: str, q: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/kb/search", params={"brand": brand, "q": q, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_english_questions_find_their_article_first(client: httpx.AsyncClient, brand: str) -> None:
    ids = await seed(client, brand, "en", ENGLISH)
    for q, answer in [
        ("how do I reset my password", "password"),
        ("I forgot my password", "password"),
        ("refunds", "refund"),
        ("when do I get my money back for a returned item", "refund"),
        ("change delivery address", "address"),
        ("authenticator code", "two_factor"),
        ("pasword", "password"),  # a typo: trigrams
        ("authenticat", "two_factor"),  # a partial word: trigrams
    ]:
        hits = await search(client, brand, q)
        assert hits, q
        assert hits[0]["article_id"] == ids[answer], (q, [h["title"] for h in hits])

    (best, *_) = await search(client, brand, "reset password", locale="en")
    assert best["title"] == "Reset your password"
    assert "<mark>password</mark>" in best["snippet"]
    assert best["score"] > 0
    assert best["status"] == "published"


async def test_korean_and_chinese_questions_find_the_article_in_their_language(
    client: httpx.AsyncClient, brand: str
) -> None:
    english = await seed(client, brand, "en", ENGLISH)
    korean = await seed(client, brand, "ko", KOREAN)
    chinese = await seed(client, brand, "zh-CN", CHINESE)
    for q, answer in [
        ("비밀번호를 잊어버렸어요", "password"),
        ("비밀번호 어떻게 바꿔요?", "password"),
        ("환불은 언제 받을 수 있나요", "refund"),
        ("배송 주소를 바꾸고 싶어요", "address"),
    ]:
        hits = await search(client, brand, q)
        assert hits, q
        assert hits[0]["article_id"] == korean[answer], (q, hits)
        assert hits[0]["locale"] == "ko"
    for q, answer in [
        ("忘记密码怎么办", "password"),
        ("我想申请退款", "refund"),
        ("怎么修改地址", "address"),
    ]:
        hits = await search(client, brand, q)
        assert hits, q
        assert hits[0]["article_id"] == chinese[answer], (q, hits)
        assert hits[0]["locale"] == "zh-CN"

    (password, *_) = await search(client, brand, "비밀번호 재설정", locale="ko")
    assert "<mark>비밀번호</mark>" in password["snippet"]
    (refund, *_) = await search(client, brand, "退款", locale="zh")  # every region of Chinese
    assert refund["article_id"] == chinese["refund"]
    assert "<mark>退款</mark>" in refund["snippet"]
    hits = await search(client, brand, "password", locale="en")
    assert {h["locale"] for h in hits} == {"en"}
    assert hits[0]["article_id"] == english["password"]


async def test_agents_find_drafts_but_no_archived_article(
    client: httpx.AsyncClient, agent: GatewayIdentity, brand: str
) -> None:
    payload = {
        "brand": brand,
        "locale": "en",
        "title": "Gift cards",
        "body": "Gift cards never expire.",
        "status": "draft",
    }
    draft = (await client.post("/api/v1/kb/articles", json=payload)).json()
    gone = (await client.post("/api/v1/kb/articles", json={**payload, "title": "Old gift cards"})).json()
    await client.post(f"/api/v1/kb/articles/{gone['id']}/archive")

    response = await client.get("/api/v1/kb/search", params={"brand": brand, "q": "gift cards"}, auth=agent)
    assert response.status_code == 200, response.text
    assert [(h["article_id"], h["status"]) for h in response.json()["items"]] == [(draft["id"], "draft")]


async def test_search_pages_follow_the_ranking(client: httpx.AsyncClient, brand: str) -> None:
    await seed(client, brand, "en", ENGLISH)
    everything = await search(client, brand, "order account password refund", limit=10)
    first = await client.get(
        "/api/v1/kb/search", params={"brand": brand, "q": "order account password refund", "limit": 2}
    )
    page = first.json()
    assert page["next_cursor"] is not None
    rest = await client.get(
        "/api/v1/kb/search",
        params={"brand": brand, "q": "order account password refund", "limit": 10, "cursor": page["next_cursor"]},
    )
    assert [h["article_id"] for h in page["items"] + rest.json()["items"]] == [h["article_id"] for h in everything]
    assert rest.json()["next_cursor"] is None
    # A position before the first (no page hands one out) is the first page, not a 500.
    before = await client.get(
        "/api/v1/kb/search",
        params={"brand": brand, "q": "order account password refund", "limit": 2, "cursor": "-4319"},
    )
    assert before.status_code == 200, before.text
    assert before.json()["items"] == page["items"]


async def test_bad_searches_are_refused_naming_the_parameter(client: httpx.AsyncClient) -> None:
    refused: list[tuple[dict[str, str | int], str]] = [
        ({}, "query.q"),
        ({"q": ""}, "query.q"),
        ({"q": "x" * 501}, "query.q"),
        ({"q": "refund", "locale": "english!"}, "query.locale"),
        ({"q": "refund", "limit": 0}, "query.limit"),
        ({"q": "refund", "cursor": "not-a-cursor"}, "query.cursor"),
    ]
    for params, field in refused:
        response = await client.get("/api/v1/kb/search", params=params)
        assert response.status_code == 422, (params, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field], params


async def test_texts_are_cut_into_terms_as_articles_are(client: httpx.AsyncClient) -> None:
    sentences = ["비밀번호를 재설정할 수 없어요", "비밀번호 재설정이 안 됩니다"]
    korean = await client.post("/api/v1/kb/analysis", json={"locale": "ko", "texts": sentences})
    assert korean.status_code == 200, korean.text
    first, second = (set(item["text"].split()) for item in korean.json()["items"])
    # No word written the same, yet the same morphemes (password, reset): a search on one finds the other.
    assert not set(sentences[0].split(" ")) & set(sentences[1].split(" "))
    assert len(first & second) >= 2, (first, second)
    assert {item["config"] for item in korean.json()["items"]} == {"simple"}
    english = (await client.post("/api/v1/kb/analysis", json={"locale": "en-GB", "texts": ["Refunds"]})).json()
    assert english["items"] == [{"config": "english", "text": "Refunds"}]


async def test_bad_analyses_are_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    refused: list[tuple[dict[str, object], str]] = [
        ({"texts": ["x"]}, "body.locale"),
        ({"locale": "korean!", "texts": ["x"]}, "body.locale"),
        ({"locale": "ko", "texts": []}, "body.texts"),
        ({"locale": "ko", "texts": ["x"] * 102}, "body.texts"),
        ({"locale": "ko", "texts": ["x" * 10_001]}, "body.texts.0"),
        ({"locale": "ko", "texts": ["x"], "extra": 1}, "body.extra"),
    ]
    for body, field in refused:
        response = await client.post("/api/v1/kb/analysis", json=body)
        assert response.status_code == 422, (body, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field], (body, response.json()["errors"])
