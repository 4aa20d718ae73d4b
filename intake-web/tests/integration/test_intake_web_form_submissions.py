"""Public submissions: accepted ones become intake.messages events, refused ones leave nothing behind."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnicase.devtools.testing.database import database_work
from omnicase.devtools.testing.plugin import eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.devtools.testing.servers import serve_http
from omnicase.intake_web.models import forms
from omnicase.kit.events import Envelope, MessageReceived
from omnicase.kit.topics import Topic, physical

# One service for the module: every test works on forms or channels of its own.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def service(shared_service: Any) -> Any:
    return shared_service


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API = {"Accept": "application/json"}


def _errors(response: Any) -> dict[str, str]:
    return {error["field"]: error["code"] for error in response.json().get("errors", [])}


async def _messages_of_form(service: Any, kafka_bootstrap: str, form_id: str, expect: int = 1) -> list[MessageReceived]:
    """The form's messages on the module's topic, once at least ``expect`` arrived."""
    topic = physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix)
    found: list[MessageReceived] = []

    async def arrived() -> bool:
        records = await read_topic(kafka_bootstrap, topic, expect=1, within=5)
        found[:] = [
            message
            for envelope in (Envelope.from_bytes(record.value) for record in records)
            if envelope.type == MessageReceived.event_type
            for message in [MessageReceived.parse(envelope)]
            if message.recipient == f"form:{form_id}"
        ]
        return len(found) >= expect

    await eventually(arrived, within=15, message="the form's message on intake.messages")
    return found


async def test_a_multipart_submission_becomes_one_message_with_fields_defaults_and_attachment(
    service: Any, kafka_bootstrap: str
) -> None:
    form = await service.form()
    url = f"/public/forms/{form['id']}/submissions"
    fields = service.valid_fields(form["id"])
    files = [("attachments", ("receipt.pdf", b"%PDF-1.4 receipt", "application/pdf"))]
    response = await service.public.post(url, data=fields, files=files, headers=API)
    assert response.status_code == 202, response.text
    submission_id = response.json()["submission_id"]

    # The same click again (double submit): the same answer, nothing new stored.
    again = await service.public.post(url, data=fields, files=files, headers=API)
    assert again.status_code == 202
    assert again.json()["submission_id"] == submission_id
    assert again.headers["Idempotent-Replayed"] == "true"

    [message] = await _messages_of_form(service, kafka_bootstrap, form["id"])
    assert str(message.intake_id) == submission_id
    assert message.channel == "web"
    assert message.sender.email == "jane@example.com"
    assert message.sender.name == "Jane Doe"
    assert message.subject == "Invoice is wrong"
    assert message.text == "I was charged twice for order 1234."
    assert message.defaults.priority == "high"
    assert message.defaults.tags == ["web", "billing"]
    assert message.defaults.brand == "acme"
    assert message.defaults.custom_fields == {"order_number": "A-1234"}
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type, attachment.size) == ("receipt.pdf", "application/pdf", 16)

    [stored] = await service.submissions(form["id"])
    assert stored["id"] == submission_id
    assert stored["status"] == "pending"
    download = await service.client.get(
        f"/api/v1/forms/{form['id']}/submissions/{submission_id}/attachments/{attachment.sha256}"
    )
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 receipt"

    # Stored in the suite's blob store, where case-core opens it from the case.
    assert await service.app.state.blobs.get(attachment.sha256) == b"%PDF-1.4 receipt"


async def test_browsers_are_redirected_to_the_thank_you_page(service: Any) -> None:
    form = await service.form()
    url = f"/public/forms/{form['id']}/submissions"
    response = await service.public.post(url, data=service.valid_fields(form["id"]), headers=BROWSER)
    assert response.status_code == 303
    assert response.headers["location"] == "https://example.com/thanks"
    assert len(await service.submissions(form["id"])) == 1


async def test_an_idempotency_key_reused_for_other_content_is_refused(service: Any) -> None:
    form = await service.form()
    url = f"/public/forms/{form['id']}/submissions"
    headers = {**API, "Idempotency-Key": "order-1234-try-1"}
    first = await service.public.post(url, data=service.valid_fields(form["id"]), headers=headers)
    assert first.status_code == 202
    other = await service.public.post(url, data=service.valid_fields(form["id"], subject="Other"), headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert len(await service.submissions(form["id"])) == 1


async def test_missing_and_malformed_fields_get_per_field_messages_and_store_nothing(service: Any) -> None:
    form = await service.form()
    url = f"/public/forms/{form['id']}/submissions"
    fields = service.valid_fields(form["id"], email="jane@localhost", name="")
    response = await service.public.post(url, data=fields, headers=API)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert _errors(response) == {"body.email": "email", "body.name": "required"}

    page = await service.public.post(url, data=fields, headers=BROWSER)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    base = f"oc-{form['id'].replace('-', '')[:12]}"
    # The message sits next to its field and the field points at it; what was typed is kept.
    assert f'<p id="{base}-email-error" class="omnicase-error" aria-live="polite">Enter an email address' in page.text
    assert 'aria-invalid="true"' in page.text
    assert 'value="I was charged twice' not in page.text  # a textarea keeps its text as content
    assert "I was charged twice for order 1234.</textarea>" in page.text

    # A visitor of the French form reads French.
    french = await service.public.post(url, data={**fields, "_locale": "fr"}, headers=BROWSER)
    assert '<html lang="fr">' in french.text
    assert (
        f'<p id="{base}-name-error" class="omnicase-error" aria-live="polite">Ce champ est obligatoire.' in french.text
    )
    # A Korean or Chinese one reads its own language, the form's own words (the button) included.
    korean = await service.public.post(url, data={**fields, "_locale": "ko"}, headers=BROWSER)
    assert f'<p id="{base}-name-error" class="omnicase-error" aria-live="polite">필수 항목입니다.' in korean.text
    assert ">보내기</button>" in korean.text
    chinese = await service.public.post(url, data={**fields, "_locale": "zh-CN"}, headers=BROWSER)
    assert f'<p id="{base}-name-error" class="omnicase-error" aria-live="polite">此项为必填项。' in chinese.text
    assert ">提交</button>" in chinese.text
    assert await service.submissions(form["id"]) == []


async def _rejections(service: Any, reason: str) -> float:
    metrics = (await service.public.get("/metrics")).text
    line = f'omnicase_intake_web_rejections_total{{channel="web",reason="{reason}"}} '
    return sum(float(row[len(line) :]) for row in metrics.splitlines() if row.startswith(line))


async def test_a_filled_honeypot_is_held_as_if_accepted_and_other_spam_refused_all_counted(service: Any) -> None:
    before = {reason: await _rejections(service, reason) for reason in ("honeypot", "too_fast", "token")}
    form = await service.form()
    url = f"/public/forms/{form['id']}/submissions"
    bait = service.valid_fields(form["id"], website="http://spam.example", subject="Cheap watches")
    honeypot = await service.public.post(url, data=bait, headers=API)
    # A bot learns nothing from the answer: it reads like any accepted post.
    assert honeypot.status_code == 202, honeypot.text
    browser = await service.public.post(url, data=bait, headers={"Accept": "text/html"})
    assert browser.status_code == 303
    assert browser.headers["location"] == form["thank_you_url"]

    token = (await service.public.get(f"/public/forms/{form['id']}/token")).json()["token"]
    too_fast = await service.public.post(url, data=service.valid_fields(form["id"], _ts=token), headers=API)
    assert too_fast.status_code == 400
    assert too_fast.json()["type"].endswith("/submitted-too-fast")

    forged = service.valid_fields(form["id"], _ts="1000.forged")
    assert (await service.public.post(url, data=forged, headers=API)).status_code == 400

    stored = await service.submissions(form["id"])
    assert [(item["status"], item["fields"]["subject"]) for item in stored] == [("held", "Cheap watches")] * 2
    assert honeypot.json()["submission_id"] in {item["id"] for item in stored}
    assert all("website" not in item["fields"] for item in stored)
    assert await _rejections(service, "honeypot") == before["honeypot"] + 2
    for reason in ("too_fast", "token"):
        assert await _rejections(service, reason) == before[reason] + 1, reason
    stats = (await service.client.get(f"/api/v1/forms/{form['id']}/stats")).json()
    assert stats["accepted"] == 0, "held spam never counts against the daily cap"
    assert stats["rejected"] == {"honeypot": 2, "too_fast": 1, "token": 1}


async def test_an_oversize_attachment_is_refused_with_413(service: Any) -> None:
    form = await service.form(max_attachment_bytes=1024)
    url = f"/public/forms/{form['id']}/submissions"
    files = [("attachments", ("big.bin", b"x" * 2048, "application/octet-stream"))]
    response = await service.public.post(url, data=service.valid_fields(form["id"]), files=files, headers=API)
    assert response.status_code == 413
    assert _errors(response) == {"body.attachments": "too_large"}
    assert await service.submissions(form["id"]) == []


async def test_the_daily_cap_answers_429_with_retry_after_and_a_readable_page(service: Any) -> None:
    form = await service.form(daily_cap=2)
    url = f"/public/forms/{form['id']}/submissions"
    for _ in range(2):
        accepted = await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)
        assert accepted.status_code == 202
    capped = await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)
    assert capped.status_code == 429
    assert capped.json()["type"].endswith("/daily-cap-reached")
    assert 0 < int(capped.headers["Retry-After"]) <= 86400
    page = await service.public.post(url, data=service.valid_fields(form["id"]), headers=BROWSER)
    assert page.status_code == 429
    assert "Daily limit reached" in page.text
    assert "Retry-After" in page.headers
    assert len(await service.submissions(form["id"])) == 2
    stats = (await service.client.get(f"/api/v1/forms/{form['id']}/stats")).json()
    assert (stats["accepted"], stats["remaining"], stats["rejected"]) == (2, 0, {"daily_cap": 2})
    yesterday = (await service.client.get(f"/api/v1/forms/{form['id']}/stats", params={"day": "2020-01-01"})).json()
    assert (yesterday["accepted"], yesterday["rejected"]) == (0, {})
    for day in ("yesterday", "0"):  # "0" is not the first day of 1970
        bad_day = await service.client.get(f"/api/v1/forms/{form['id']}/stats", params={"day": day})
        assert bad_day.status_code == 422
        assert [error["field"] for error in bad_day.json()["errors"]] == ["query.day"]


async def test_a_refusal_page_speaks_the_form_pages_language_else_the_browsers(service: Any) -> None:
    form = await service.form(daily_cap=1)
    url = f"/public/forms/{form['id']}/submissions"
    assert (await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)).status_code == 202

    # The language the form's page was shown in (its hidden _locale) first.
    german = await service.public.post(url, data=service.valid_fields(form["id"], _locale="de"), headers=BROWSER)
    assert german.status_code == 429
    assert '<html lang="de">' in german.text
    assert "<h1>Tageslimit erreicht</h1>" in german.text
    assert "Zurück zum Formular" in german.text
    # A page that stated none: the product's language the browser prefers.
    korean = {**BROWSER, "Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
    page = await service.public.post(url, data=service.valid_fields(form["id"]), headers=korean)
    assert page.status_code == 429
    assert '<html lang="ko">' in page.text
    assert "<h1>오늘의 한도에 도달했습니다</h1>" in page.text
    # A form nobody has, asked for in Chinese; a language the product does not ship is English.
    chinese = {**BROWSER, "Accept-Language": "zh-CN,zh;q=0.8"}
    missing = await service.public.get(f"/public/forms/{uuid.uuid4()}", headers=chinese)
    assert missing.status_code == 404
    assert '<html lang="zh">' in missing.text
    assert "<h1>表单不存在</h1>" in missing.text
    swedish = await service.public.get(f"/public/forms/{uuid.uuid4()}", headers={**BROWSER, "Accept-Language": "sv"})
    assert "<h1>This form does not exist</h1>" in swedish.text
    assert len(await service.submissions(form["id"])) == 1


async def test_one_address_is_rate_limited_per_minute(service: Any) -> None:
    form = await service.form(rate_limits={"per_ip_per_minute": 2, "per_form_per_minute": 100})
    url = f"/public/forms/{form['id']}/submissions"

    async def send(visitor: str) -> int:
        # Through the gateway (a trusted loopback peer): the visitor is the forwarded address.
        headers = {**API, "X-Forwarded-For": f"10.9.8.7, {visitor}"}
        response = await service.public.post(url, data=service.valid_fields(form["id"]), headers=headers)
        if response.status_code == 429:
            assert response.json()["type"].endswith("/rate-limited")
            assert 1 <= int(response.headers["Retry-After"]) <= 60
        return int(response.status_code)

    first = [await send("203.0.113.5") for _ in range(3)]
    other = [await send("198.51.100.7") for _ in range(2)]
    # A minute boundary may fall between the requests; at least one window saw all of them.
    assert first.count(202) >= 2
    if 429 in first:
        assert first[-1] == 429
    assert other == [202, 202]  # another visitor is not held back by the first one
    assert len(await service.submissions(form["id"])) == first.count(202) + 2


async def test_captcha_answers_are_checked_with_the_provider(service: Any) -> None:
    asked: list[dict[str, str]] = []

    async def siteverify(request: Request) -> JSONResponse:
        form = await request.form()
        asked.append({key: str(value) for key, value in form.items()})
        return JSONResponse({"success": form.get("response") == "good-token", "error-codes": []})

    provider = Starlette(routes=[Route("/siteverify", siteverify, methods=["POST"])])
    async with serve_http(provider) as provider_url:
        form = await service.form(
            spam={
                "min_fill_seconds": 0,
                "captcha": {
                    "provider": "hcaptcha",
                    "site_key": "site",
                    "secret": "captcha-secret",
                    "siteverify_url": f"{provider_url}/siteverify",
                },
            }
        )
        url = f"/public/forms/{form['id']}/submissions"
        missing = await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)
        assert missing.status_code == 400
        assert _errors(missing) == {"body.h-captcha-response": "captcha"}
        fields = service.valid_fields(form["id"], **{"h-captcha-response": "bad-token"})
        failed = await service.public.post(url, data=fields, headers=API)
        assert failed.status_code == 400
        assert failed.json()["type"].endswith("/captcha-failed")
        assert await service.submissions(form["id"]) == []
        fields = service.valid_fields(form["id"], **{"h-captcha-response": "good-token"})
        passed = await service.public.post(url, data=fields, headers=API)
        assert passed.status_code == 202, passed.text
    assert asked[-1]["secret"] == "captcha-secret", "the provider gets the secret, opened from its sealed token"
    assert asked[-1]["remoteip"] == "127.0.0.1"
    async with service.app.state.runtime.database.unit_of_work() as session:
        definition = await session.scalar(select(forms.c.definition).where(forms.c.id == uuid.UUID(form["id"])))
    stored = definition["spam"]["captcha"]["secret"]
    assert stored.startswith("omnicase:v1:"), "a database dump shows a sealed token"
    assert "captcha-secret" not in str(definition)
    assert len(await service.submissions(form["id"])) == 1


async def test_unavailable_forms_and_wrong_bodies_are_refused(service: Any) -> None:
    form = await service.form(enabled=False)
    url = f"/public/forms/{form['id']}/submissions"
    disabled = await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)
    assert disabled.status_code == 403
    unknown = await service.public.post(
        "/public/forms/01900000-0000-7000-8000-000000000000/submissions", data={"a": "b"}, headers=API
    )
    assert unknown.status_code == 404
    open_form = await service.form()
    as_json = await service.public.post(
        f"/public/forms/{open_form['id']}/submissions", content=json.dumps({"a": 1}), headers=API
    )
    assert as_json.status_code == 415
    assert await service.submissions(open_form["id"]) == []


async def test_cors_allows_only_the_configured_origins(service: Any) -> None:
    form = await service.form(allowed_origins=["https://shop.example.com"])
    url = f"/public/forms/{form['id']}/submissions"
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = await service.public.options(url, headers={"Origin": "https://shop.example.com", **preflight})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "Idempotency-Key" in allowed.headers["Access-Control-Allow-Headers"]
    refused = await service.public.options(url, headers={"Origin": "https://evil.example", **preflight})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers

    posted = await service.public.post(
        url, data=service.valid_fields(form["id"]), headers={"Origin": "https://shop.example.com", **API}
    )
    assert posted.status_code == 202
    assert posted.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    foreign = await service.public.post(
        url, data=service.valid_fields(form["id"]), headers={"Origin": "https://evil.example", **API}
    )
    assert foreign.status_code == 403
    token = await service.public.get(
        f"/public/forms/{form['id']}/token", headers={"Origin": "https://shop.example.com"}
    )
    assert token.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert token.headers["Cache-Control"] == "no-store"
    hosted = await service.public.get(f"/public/forms/{form['id']}", params={"locale": "fr"})
    assert hosted.status_code == 200
    assert '<html lang="fr">' in hosted.text
    assert "Votre nom" in hosted.text
    negotiated = await service.public.get(
        f"/public/forms/{form['id']}", headers={"Accept-Language": "de-CH, fr-CA;q=0.8, en;q=0.5"}
    )
    assert '<html lang="fr">' in negotiated.text
    assert len(await service.submissions(form["id"])) == 1


async def test_concurrent_submissions_never_exceed_the_daily_cap(service: Any) -> None:
    form = await service.form(daily_cap=3, rate_limits={"per_ip_per_minute": 100, "per_form_per_minute": 100})
    url = f"/public/forms/{form['id']}/submissions"
    answers = await asyncio.gather(
        *(service.public.post(url, data=service.valid_fields(form["id"]), headers=API) for _ in range(6))
    )
    assert sorted(answer.status_code for answer in answers) == [202, 202, 202, 429, 429, 429]
    assert len(await service.submissions(form["id"])) == 3


async def test_posts_arriving_together_are_counted_together_each_with_its_own_count(service: Any) -> None:
    form = await service.form(daily_cap=5, rate_limits={"per_ip_per_minute": 100, "per_form_per_minute": 100})
    url = f"/public/forms/{form['id']}/submissions"
    await service.app.state.runtime.state.forms.check()
    await service.public.get(f"/public/forms/{form['id']}")
    with database_work(service.app.state.database.engine, whole_statements=True) as recorded:
        answers = await asyncio.gather(
            *(service.public.post(url, data=service.valid_fields(form["id"]), headers=API) for _ in range(8))
        )
    counted = recorded.named("intake-web-accepted-counts")
    # Fewer counting statements than posts, and still exactly the cap's five through.
    assert 1 <= counted.alone < 8, counted
    assert sorted(answer.status_code for answer in answers) == [202] * 5 + [429] * 3
    stats = (await service.client.get(f"/api/v1/forms/{form['id']}/stats")).json()
    assert (stats["accepted"], stats["remaining"], stats["rejected"]) == (5, 0, {"daily_cap": 3})
    assert len(await service.submissions(form["id"])) == 5


async def test_the_same_submission_sent_twice_at_once_is_stored_once(service: Any) -> None:
    form = await service.form()
    url = f"/public/forms/{form['id']}/submissions"
    fields = service.valid_fields(form["id"])
    first, second = await asyncio.gather(*(service.public.post(url, data=fields, headers=API) for _ in range(2)))
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["submission_id"] == second.json()["submission_id"]
    assert len(await service.submissions(form["id"])) == 1


@pytest.mark.parametrize("attachments", [0, 2])
async def test_an_accepted_submission_is_counted_then_stored_with_its_event_each_by_one_statement_run_alone(
    service: Any, attachments: int
) -> None:
    form = await service.form()
    url = f"/public/forms/{form['id']}/submissions"
    # The cache has seen the form's creation (its periodic check would otherwise drop the form
    # between the page view and the post, whenever it happens to run), then the page view loads it.
    await service.app.state.runtime.state.forms.check()
    await service.public.get(f"/public/forms/{form['id']}")  # the page view that precedes a post
    files = [("attachments", (f"f{i}.txt", f"file {i}".encode(), "text/plain")) for i in range(attachments)]
    engine = service.app.state.database.engine
    with database_work(engine, whole_statements=True) as recorded:
        response = await service.public.post(url, data=service.valid_fields(form["id"]), files=files, headers=API)
    work = recorded.of(asyncio.current_task())  # the app's background loops share the engine
    # Counted by the task that counts the posts arriving together (here alone, one).
    counted = recorded.named("intake-web-accepted-counts")
    assert response.status_code == 202, response.text
    assert (counted.alone, counted.transactions, counted.checkouts) == (1, 0, 1), counted
    assert (work.alone, work.transactions) == (1, 0), work
    assert work.checkouts == 1, work
    # The form's shared counter rows first, by one statement that is its own transaction (no
    # BEGIN or COMMIT round trip) and does not hold them through a WAL flush (every post to the
    # form updates them); then, after the attachments' bytes, the message and its outbox row
    # by one durable statement, its own transaction too.
    [counting], [storing] = counted.statements, work.statements
    assert "rate_windows" in counting, counting
    assert "form_day_counts" in counting, counting
    assert "set_config('synchronous_commit', 'off', true)" in counting, counting
    assert "INSERT INTO intake_web.inbound_messages" in storing, storing
    assert "INSERT INTO intake_web.outbox" in storing, storing
    assert "synchronous_commit" not in storing, storing
    assert len(await service.submissions(form["id"])) == 1


async def test_posts_refused_by_a_limit_or_stored_before_leave_the_counts_as_they_were(service: Any) -> None:
    form = await service.form(daily_cap=2, rate_limits={"per_ip_per_minute": 2, "per_form_per_minute": 100})
    url = f"/public/forms/{form['id']}/submissions"
    fields = service.valid_fields(form["id"])
    assert (await service.public.post(url, data=fields, headers=API)).status_code == 202
    repeat = await service.public.post(url, data=fields, headers=API)
    assert repeat.status_code == 202, repeat.text  # the same submission again: answered as it was
    # The repeat took neither the address's minute nor the form's day: one more post fits in both.
    second = await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)
    assert second.status_code == 202, second.text
    assert (await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)).status_code == 429
    assert len(await service.submissions(form["id"])) == 2


async def test_two_posts_at_once_at_the_cap_boundary_never_both_pass(service: Any) -> None:
    form = await service.form(daily_cap=1, rate_limits={"per_ip_per_minute": 100, "per_form_per_minute": 100})
    url = f"/public/forms/{form['id']}/submissions"
    answers = await asyncio.gather(
        *(service.public.post(url, data=service.valid_fields(form["id"]), headers=API) for _ in range(2))
    )
    assert sorted(answer.status_code for answer in answers) == [202, 429]
    assert len(await service.submissions(form["id"])) == 1
    stats = (await service.client.get(f"/api/v1/forms/{form['id']}/stats")).json()
    assert (stats["accepted"], stats["remaining"], stats["rejected"]) == (1, 0, {"daily_cap": 1})


async def test_a_form_switched_off_refuses_the_next_post_and_a_raised_cap_takes_more(service: Any) -> None:
    form = await service.form(daily_cap=1)
    url = f"/public/forms/{form['id']}/submissions"
    assert (await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)).status_code == 202
    assert (await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)).status_code == 429
    raised = await service.client.patch(f"/api/v1/forms/{form['id']}", json={"daily_cap": 2})
    assert raised.status_code == 200
    assert (await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)).status_code == 202
    off = await service.client.patch(f"/api/v1/forms/{form['id']}", json={"enabled": False})
    assert off.status_code == 200
    assert (await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)).status_code == 403
    assert len(await service.submissions(form["id"])) == 2


async def test_the_language_of_the_page_or_the_form_is_stated_for_case_core(service: Any, kafka_bootstrap: str) -> None:
    form = await service.form(defaults={"brand": "acme", "language": "ko"})
    url = f"/public/forms/{form['id']}/submissions"
    page_language = await service.public.post(
        url, data=service.valid_fields(form["id"], _locale="zh-CN", email="zh@example.com"), headers=API
    )
    assert page_language.status_code == 202, page_language.text
    plain = await service.public.post(url, data=service.valid_fields(form["id"], email="ko@example.com"), headers=API)
    assert plain.status_code == 202, plain.text
    messages = await _messages_of_form(service, kafka_bootstrap, form["id"], expect=2)
    stated = {message.sender.email: message.defaults.language for message in messages}
    assert stated == {"zh@example.com": "zh-CN", "ko@example.com": "ko"}

    bad = await service.client.post(
        "/api/v1/forms", json={"name": "x", "fields": [], "defaults": {"language": "Korean!"}}
    )
    assert bad.status_code == 422
    assert "body.defaults.language" in {error["field"] for error in bad.json()["errors"]}


async def test_a_submission_is_keyed_by_its_senders_address_as_their_mail_is(
    service: Any, kafka_bootstrap: str
) -> None:
    # intake-email keys a mail by its sender's address, lower-cased: one customer's mail and forms
    # share a partition of intake.messages, so case-core takes them in order, one after another.
    addressed = await service.form()
    url = f"/public/forms/{addressed['id']}/submissions"
    posted = await service.public.post(
        url, data=service.valid_fields(addressed["id"], email=" Jane.Doe@Example.COM "), headers=API
    )
    assert posted.status_code == 202, posted.text
    # A form that asks no address: the submission is its own thread.
    fields = [field for field in addressed["fields"] if field["key"] != "email"]
    anonymous = await service.form(fields=fields)
    without = {k: v for k, v in service.valid_fields(anonymous["id"]).items() if k != "email"}
    plain = await service.public.post(f"/public/forms/{anonymous['id']}/submissions", data=without, headers=API)
    assert plain.status_code == 202, plain.text

    topic = physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix)
    wanted = {posted.json()["submission_id"], plain.json()["submission_id"]}
    keys: dict[str, tuple[bytes | None, str | None]] = {}

    async def arrived() -> bool:
        for record in await read_topic(kafka_bootstrap, topic, expect=1, within=5):
            envelope = Envelope.from_bytes(record.value)
            if envelope.type == MessageReceived.event_type:
                message = MessageReceived.parse(envelope)
                if str(message.intake_id) in wanted:
                    keys[str(message.intake_id)] = (record.key, message.conversation_id)
        return len(keys) == 2

    await eventually(arrived, within=15, message="both submissions on intake.messages")
    assert keys[posted.json()["submission_id"]] == (b"jane.doe@example.com", f"web:{posted.json()['submission_id']}")
    own = f"web:{plain.json()['submission_id']}"
    assert keys[plain.json()["submission_id"]] == (own.encode(), own)
