"""Answering a satisfaction survey: a link's one click records its rating on the case (its history, a
case.satisfaction_rated event, GET /api/v1/cases/{id}, the triggers' conditions), once per link; the page's
form adds a Bad reason and a comment or changes the rating until the case closes or 28 days pass; a link
nobody made, a closed survey and a bad answer are clear pages with a 4xx that change nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import Deliver, Email, Published, identity_headers
from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.db import Database

pytestmark = pytest.mark.asyncio

REASONS = ["Too slow", "Not solved"]


async def change(api: httpx.AsyncClient, case_id: str, **changes: Any) -> dict[str, Any]:
    version = (await api.get(f"/api/v1/cases/{case_id}")).json()["version"]
    answer = await api.patch(f"/api/v1/cases/{case_id}", json=changes, headers={"If-Match": f'"{version}"'})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def surveyed_case(
    api: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    deliver: Deliver,
    email: Email,
    published: Published,
    *,
    language: str | None = None,
    texts: dict[str, Any] | None = None,
    brand: str | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """A solved email case (in ``language``) whose survey went out, and the paths of its Good and Bad links."""
    settings = {"enabled": True, "delay_seconds": 0, "reasons": REASONS, "texts": texts or {}}
    assert (await api.put("/api/v1/csat/settings", json=settings)).status_code == 200
    address = f"user-{uuid.uuid4().hex[:10]}@customer.example"
    await deliver(email(address, name="Ada Lovelace"))
    contact = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"][0]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    await api.post(f"/api/v1/cases/{case['id']}/messages", json={"text": "Fixed it.", "public": True})
    extra = {"language": language} if language else {}
    await change(api, case["id"], status="solved", **extra, **({"brand": brand} if brand else {}))
    async with db.unit_of_work() as session:
        await app.state.services.csat.send_due(session)
    [mail] = [data for kind, data in await published(case["id"]) if "/public/csat/" in data.get("text", "")]
    good, bad = re.findall(r"http://127\.0\.0\.1:8080(/public/csat/\S+)", mail["text"])
    return case, {"good": good, "bad": bad}


def rated_events(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [data for kind, data in events if kind == "case.satisfaction_rated"]


async def test_a_click_on_bad_then_a_reason_and_comment_are_kept_on_the_case_and_told(
    api: httpx.AsyncClient, app: FastAPI, db: Database, deliver: Deliver, email: Email, published: Published
) -> None:
    case, links = await surveyed_case(api, app, db, deliver, email, published)
    public = httpx.AsyncClient(transport=api._transport, base_url="http://case-core")  # no identity at all

    page = await public.get(links["bad"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Your rating is saved: <strong>Bad, I&#x27;m unsatisfied</strong>" in page.text
    assert '<main id="main">' in page.text
    assert '<html lang="en">' in page.text
    assert '<label for="reason">' in page.text
    assert '<label for="comment">' in page.text
    assert "<script" not in page.text
    current = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    assert current["satisfaction"]["rating"] == "bad"
    assert (current["satisfaction"]["reason"], current["satisfaction"]["comment"]) == (None, None)
    [event] = rated_events(await published(case["id"]))
    assert (event["rating"], event["previous_rating"], event["version"]) == ("bad", None, current["version"])

    # The same link again (a second click, a mail scanner): the page, nothing recorded twice.
    assert (await public.get(links["bad"])).status_code == 200
    assert len(rated_events(await published(case["id"]))) == 1

    form = {"rating": "bad", "reason": "Too slow", "comment": "Three days <b>for</b> a reset."}
    saved = await public.post(links["bad"], data=form)
    assert saved.status_code == 200, saved.text
    assert "Three days &lt;b&gt;for&lt;/b&gt; a reset." in saved.text
    satisfaction = (await api.get(f"/api/v1/cases/{case['id']}")).json()["satisfaction"]
    assert (satisfaction["rating"], satisfaction["reason"]) == ("bad", "Too slow")
    assert satisfaction["comment"] == "Three days <b>for</b> a reset."
    history = (await api.get(f"/api/v1/cases/{case['id']}/history")).json()["items"]
    rated = [entry for entry in history if entry["field"] == "satisfaction"]
    assert len(rated) == 2
    assert rated[-1]["new"]["reason"] == "Too slow"
    assert rated[-1]["actor"] == f"contact:{case['requester_id']}"

    # The customer changes their mind: Good (a Good rating has no reason; the comment stays).
    changed = await public.post(links["bad"], data={"rating": "good", "reason": "Too slow", "comment": "Fine now."})
    assert changed.status_code == 200
    satisfaction = (await api.get(f"/api/v1/cases/{case['id']}")).json()["satisfaction"]
    assert (satisfaction["rating"], satisfaction["reason"], satisfaction["comment"]) == ("good", None, "Fine now.")
    events = rated_events(await published(case["id"]))
    assert [(e["rating"], e["previous_rating"]) for e in events] == [("bad", None), ("bad", "bad"), ("good", "bad")]

    # And back with the Bad link's one click? It was used once: only the form changes it now.
    await public.get(links["bad"])
    assert (await api.get(f"/api/v1/cases/{case['id']}")).json()["satisfaction"]["rating"] == "good"
    await public.get(links["good"])
    assert len(rated_events(await published(case["id"]))) == 3, "good already is the rating: nothing to tell"


async def test_the_page_speaks_the_cases_language_and_marks_survey_texts_in_another(
    api: httpx.AsyncClient, app: FastAPI, db: Database, deliver: Deliver, email: Email, published: Published
) -> None:
    public = httpx.AsyncClient(transport=api._transport, base_url="http://case-core")
    _, links = await surveyed_case(api, app, db, deliver, email, published, language="ko-KR")
    page = (await public.get(links["good"])).text
    assert '<html lang="ko">' in page
    assert "<title>상담은 어떠셨나요? 문의 #" in page
    assert '<label for="comment">의견 (선택)</label>' in page
    assert "평가가 저장되었습니다: <strong>좋았어요</strong>" in page, "the built-in Korean texts, unmarked"
    refused = await public.post(links["good"], data={"rating": "meh", "comment": "x" * 3000})
    assert refused.status_code == 422
    assert '<p class="error" id="rating-error">평가를 선택하세요.</p>' in refused.text
    assert "의견은 2000자 이내로 적어 주세요." in refused.text

    # A Dutch case with the admin's Dutch texts: the page's words are English (none shipped in
    # Dutch), the survey's texts say they are Dutch.
    dutch = {"nl": {"subject": "Hoe was het?", "text": "Bent u tevreden?", "good": "Goed", "bad": "Slecht"}}
    _, links = await surveyed_case(api, app, db, deliver, email, published, language="nl", texts=dutch)
    page = (await public.get(links["bad"])).text
    assert '<html lang="en">' in page
    assert 'Your rating is saved: <strong><span lang="nl">Slecht</span></strong>' in page
    assert '<span lang="nl">Goed</span></label>' in page


async def test_the_page_wears_the_cases_brand(
    api: httpx.AsyncClient, app: FastAPI, db: Database, deliver: Deliver, email: Email, published: Published
) -> None:
    slug = f"beta-{uuid.uuid4().hex[:6]}"
    logo = "https://beta.example/logo.png"
    brand = {"name": "Beta", "slug": slug, "logo_url": logo, "colors": {"primary": "#c8102e"}}
    assert (await api.post("/api/v1/brands", json=brand)).status_code == 201
    _case, links = await surveyed_case(api, app, db, deliver, email, published, brand=slug)
    public = httpx.AsyncClient(transport=api._transport, base_url="http://case-core")

    page = await public.get(links["good"])
    assert page.status_code == 200
    assert '<img src="https://beta.example/logo.png" alt="Beta"' in page.text
    assert "header{border-top:.4rem solid #c8102e}" in page.text
    refused = await public.post(links["good"], data={"rating": "meh"})
    assert refused.status_code == 422
    assert 'alt="Beta"' in refused.text

    # A case of no brand wears none.
    _plain, plain_links = await surveyed_case(api, app, db, deliver, email, published)
    plain = await public.get(plain_links["good"])
    assert 'class="brand"' not in plain.text


async def test_a_bad_rating_fires_a_trigger_on_the_satisfaction_condition(
    api: httpx.AsyncClient, app: FastAPI, db: Database, deliver: Deliver, email: Email, published: Published
) -> None:
    trigger = {
        "name": "Unhappy customer",
        "conditions": {"all": [{"field": "satisfaction", "operator": "changed_to", "value": "bad"}]},
        "actions": [{"type": "add_tags", "tags": ["unhappy"]}, {"type": "set", "field": "priority", "value": "high"}],
    }
    created = await api.post("/api/v1/triggers", json=trigger)
    assert created.status_code == 201, created.text
    case, links = await surveyed_case(api, app, db, deliver, email, published)
    assert (await api.get(links["good"])).status_code == 200
    assert "unhappy" not in (await api.get(f"/api/v1/cases/{case['id']}")).json()["tags"]
    await api.post(links["good"], data={"rating": "bad", "reason": "Not solved"})
    current = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    assert ("unhappy" in current["tags"], current["priority"]) == (True, "high")
    runs = (await api.get("/api/v1/triggers/runs", params={"case_id": case["id"]})).json()["items"]
    assert any(fired["name"] == "Unhappy customer" for run in runs for fired in run["fired"])


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"rating": "bad", "reason": "Rude"}, "reason"),
        ({"rating": "meh"}, "rating"),
        ({}, "rating"),
        ({"rating": "bad", "comment": "x" * 2001}, "comment"),
    ],
)
async def test_an_answer_breaking_a_rule_is_the_form_again_with_a_422_and_changes_nothing(
    api: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    deliver: Deliver,
    email: Email,
    published: Published,
    form: dict[str, str],
    field: str,
) -> None:
    case, links = await surveyed_case(api, app, db, deliver, email, published)
    await api.get(links["good"])
    before = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    answer = await api.post(links["good"], data=form)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in answer.text
    assert f'aria-describedby="{field}-error"' in answer.text
    assert (await api.get(f"/api/v1/cases/{case['id']}")).json() == before
    assert len(rated_events(await published(case["id"]))) == 1


async def test_links_nobody_made_are_a_404_page(
    api: httpx.AsyncClient, app: FastAPI, db: Database, deliver: Deliver, email: Email, published: Published
) -> None:
    case, links = await surveyed_case(api, app, db, deliver, email, published)
    token = links["bad"].rsplit("/", 1)[1]
    sealer = app.state.services.csat.sealer
    other_context = sealer.seal(f"{uuid.uuid4()}:bad", "case_core.webhook_subscriptions.secret")
    unknown_survey = sealer.seal(f"{uuid.uuid4()}:bad", "case_core.csat_surveys.link")
    for bad in ["nonsense", token[:-4], token[:-4] + "AAAA", other_context, unknown_survey]:
        for answer in [
            await api.get(f"/public/csat/{bad}"),
            await api.post(f"/public/csat/{bad}", data={"rating": "bad"}),
        ]:
            assert answer.status_code == 404, bad
            assert answer.headers["content-type"].startswith("text/html")
            assert "<h1>This link does not work</h1>" in answer.text
    # In the language the visitor's browser prefers, among the product's.
    spanish = await api.get("/public/csat/nonsense", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert spanish.status_code == 404
    assert '<html lang="es">' in spanish.text
    assert "<h1>Este enlace no funciona</h1>" in spanish.text
    assert (await api.get(f"/api/v1/cases/{case['id']}")).json()["satisfaction"] is None


async def test_a_survey_closes_with_its_case_or_after_28_days(
    api: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    deliver: Deliver,
    email: Email,
    published: Published,
    clock: ManualClock,
    settings: CaseCoreSettings,
) -> None:
    case, links = await surveyed_case(api, app, db, deliver, email, published)
    await clock.advance(28 * 86400 - 60)
    api.headers.update(identity_headers(settings.internal_secret, role="admin"))
    assert (await api.get(links["good"])).status_code == 200
    await clock.advance(60)
    late = await api.post(links["good"], data={"rating": "bad"})
    assert late.status_code == 410
    assert "<h1>Survey closed</h1>" in late.text
    korean = await api.post(links["good"], data={"rating": "bad"}, headers={"Accept-Language": "ko"})
    assert korean.status_code == 410
    assert "<h1>설문이 마감되었습니다</h1>" in korean.text
    assert (await api.get(f"/api/v1/cases/{case['id']}")).json()["satisfaction"]["rating"] == "good"

    other, other_links = await surveyed_case(api, app, db, deliver, email, published)
    await change(api, other["id"], status="closed")
    assert (await api.get(other_links["bad"])).status_code == 410
    assert (await api.get(f"/api/v1/cases/{other['id']}")).json()["satisfaction"] is None


async def test_the_satisfaction_condition_is_a_trigger_field(api: httpx.AsyncClient) -> None:
    trigger = {
        "name": "Rated",
        "conditions": {"all": [{"field": "satisfaction", "operator": "present"}]},
        "actions": [{"type": "add_tags", "tags": ["rated"]}],
    }
    assert (await api.post("/api/v1/triggers", json=trigger)).status_code == 201
    trigger["conditions"] = {"all": [{"field": "satisfaction", "operator": "contains", "value": "bad"}]}
    assert (await api.post("/api/v1/triggers", json=trigger)).status_code == 422
