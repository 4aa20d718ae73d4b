"""Satisfaction surveys: one per solve of a case, due after the admin's delay (a row, so none is lost on a
restart), sent to the requester through the case's own channel threaded into its conversation with a
Good and a Bad link; none while surveys are off, for a solve by automation without a public reply, a
spam case, a requester who opted out, or a case reopened before it was due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from omnicase.case_core.csat.repository import CsatRepository, SurveyRow
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import Deliver, Email, Published, identity_headers
from omnicase.case_core.wiring import build_services
from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.db import Database
from omnicase.kit.events import CaseStatus, Channel, MessageReceived, Party, SetCaseStatus
from omnicase.kit.ids import uuid7

pytestmark = pytest.mark.asyncio

SURVEYED: dict[str, Any] = {"enabled": True, "delay_seconds": 3600, "reasons": ["Too slow", "Not solved"]}


async def enable(api: httpx.AsyncClient, **changes: Any) -> None:
    answer = await api.put("/api/v1/csat/settings", json={**SURVEYED, **changes})
    assert answer.status_code == 200, answer.text


async def email_case(api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str) -> dict[str, Any]:
    """A case opened by a customer's mail, answered publicly by an agent."""
    await deliver(email(address, name="Ada Lovelace", subject="Printer on fire"))
    contacts = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"]
    [case] = (await api.get(f"/api/v1/contacts/{contacts[0]['id']}/cases")).json()["items"]
    reply = await api.post(f"/api/v1/cases/{case['id']}/messages", json={"text": "Fixed it.", "public": True})
    assert reply.status_code == 201, reply.text
    return case  # type: ignore[no-any-return]


async def change(api: httpx.AsyncClient, case_id: str, **changes: Any) -> None:
    current = await api.get(f"/api/v1/cases/{case_id}")
    assert current.status_code == 200, current.text
    version = current.json()["version"]
    answer = await api.patch(f"/api/v1/cases/{case_id}", json=changes, headers={"If-Match": f'"{version}"'})
    assert answer.status_code == 200, answer.text


async def set_status(api: httpx.AsyncClient, case_id: str, status: str) -> None:
    await change(api, case_id, status=status)


async def later(clock: ManualClock, api: httpx.AsyncClient, settings: CaseCoreSettings, seconds: float) -> None:
    """Time passes; the admin's client gets a fresh identity (the gateway's expires)."""
    await clock.advance(seconds)
    api.headers.update(identity_headers(settings.internal_secret, role="admin"))


async def surveys(db: Database, case_id: str) -> list[SurveyRow]:
    async with db.unit_of_work() as session:
        return await CsatRepository(session).of_case(uuid.UUID(case_id))


async def sweep(app: FastAPI, db: Database) -> int:
    async with db.unit_of_work() as session:
        settled: int = await app.state.services.csat.send_due(session)
        return settled


def survey_mails(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [data for kind, data in events if kind == "outbound.message_requested" and "/public/csat/" in data["text"]]


async def test_a_solved_email_case_gets_one_threaded_survey_after_the_delay(
    api: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    deliver: Deliver,
    email: Email,
    address: str,
    published: Published,
    clock: ManualClock,
    settings: CaseCoreSettings,
) -> None:
    await enable(api)
    case = await email_case(api, deliver, email, address)
    await set_status(api, case["id"], "solved")
    [survey] = await surveys(db, case["id"])
    assert survey.status == "scheduled"
    assert (survey.due_at - survey.solved_at).total_seconds() == 3600

    await clock.advance(3599)
    await sweep(app, db)
    assert survey_mails(await published(case["id"])) == [], "not before the delay"

    # The process that scheduled it is gone: another one (a restart, another replica) sends it.
    await clock.advance(1)
    async with db.unit_of_work() as session:
        assert await build_services(settings).csat.send_due(session) >= 1
    [mail] = survey_mails(await published(case["id"]))
    assert mail["channel"] == "email"
    assert mail["to"][0]["email"] == address
    assert mail["subject"] == f"How did we do? [#{case['number']}]"
    assert mail["automatic"] is False, "an auto-response sent earlier must not suppress it"
    assert mail["in_reply_to"], "threaded into the customer's conversation"
    assert mail["headers"]["X-Omnicase-Ref"].startswith("[ref:oc-")
    assert "Hello Ada," in mail["text"]
    links = [line.split(": ", 1)[1] for line in mail["text"].splitlines() if "/public/csat/" in line]
    assert len(links) == 2
    assert all(link.startswith("http://127.0.0.1:8080/public/csat/") for link in links)
    assert mail["html"].count("/public/csat/") == 2
    csat = app.state.services.csat
    assert [csat.open_link(link.rsplit("/", 1)[1]) for link in links] == [(survey.id, "good"), (survey.id, "bad")]
    assert (await surveys(db, case["id"]))[0].status == "sent"
    # Reporting counts surveys sent (a rating's response rate) from this event.
    [told] = [data for kind, data in await published(case["id"]) if kind == "case.satisfaction_survey_sent"]
    assert (told["survey_id"], told["channel"]) == (str(survey.id), "email")

    # Swept again (another replica, a restart): nothing goes out twice.
    await clock.advance(3600)
    await sweep(app, db)
    assert len(survey_mails(await published(case["id"]))) == 1


async def test_a_delay_of_zero_sends_at_the_next_sweep_in_the_cases_language(
    api: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    deliver: Deliver,
    email: Email,
    address: str,
    published: Published,
    clock: ManualClock,
) -> None:
    await enable(api, delay_seconds=0)
    case = await email_case(api, deliver, email, address)
    await change(api, case["id"], language="ko-KR", status="solved")
    await sweep(app, db)
    [mail] = survey_mails(await published(case["id"]))
    assert mail["subject"].startswith("상담은 어떠셨나요?")
    assert "좋았어요: http" in mail["text"]


async def test_each_solve_gets_its_own_survey_and_a_reopened_case_loses_the_one_not_yet_sent(
    api: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    deliver: Deliver,
    email: Email,
    address: str,
    published: Published,
    clock: ManualClock,
    settings: CaseCoreSettings,
) -> None:
    await enable(api)
    case = await email_case(api, deliver, email, address)
    await set_status(api, case["id"], "solved")
    await later(clock, api, settings, 60)
    await set_status(api, case["id"], "open")
    await later(clock, api, settings, 60)
    await set_status(api, case["id"], "solved")
    assert len(await surveys(db, case["id"])) == 2
    await clock.advance(3600)
    await sweep(app, db)
    first, second = await surveys(db, case["id"])
    assert (first.status, first.skip_reason) == ("skipped", "the case was reopened before the survey went out")
    assert second.status == "sent"
    assert len(survey_mails(await published(case["id"]))) == 1


async def test_no_survey_while_off_for_spam_for_automation_without_a_reply_or_for_an_opted_out_requester(
    api: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    deliver: Deliver,
    email: Email,
    published: Published,
    clock: ManualClock,
) -> None:
    def sender() -> str:
        return f"user-{uuid.uuid4().hex[:10]}@customer.example"

    # Off (the built-in settings): not even a skipped survey.
    off = await email_case(api, deliver, email, sender())
    await set_status(api, off["id"], "solved")
    assert await surveys(db, off["id"]) == []

    await enable(api, delay_seconds=0)
    spam = await email_case(api, deliver, email, sender())
    await change(api, spam["id"], add_tags=["spam"], status="solved")

    # sla-engine's time-based automation solves a case nobody answered publicly.
    await deliver(email(automated_address := sender(), name="Bo"))
    contact = (await api.get("/api/v1/contacts", params={"q": automated_address})).json()["items"][0]
    [automated] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    await set_status(api, automated["id"], "pending")
    await deliver(SetCaseStatus(case_id=automated["id"], status=CaseStatus.SOLVED, reason="automation: pending 4 days"))

    opted = await email_case(api, deliver, email, opted_address := sender())
    contact = (await api.get("/api/v1/contacts", params={"q": opted_address})).json()["items"][0]
    assert (await api.put(f"/api/v1/csat/opt-outs/{contact['id']}")).status_code == 200
    await set_status(api, opted["id"], "solved")

    expected = {
        spam["id"]: "the case is spam",
        automated["id"]: "solved by automation without a public reply",
        opted["id"]: "the requester opted out of surveys",
    }
    for case_id, reason in expected.items():
        [survey] = await surveys(db, case_id)
        assert (survey.status, survey.skip_reason) == ("skipped", reason)
    await sweep(app, db)
    for case_id in [off["id"], *expected]:
        assert survey_mails(await published(case_id)) == []


async def test_a_requester_who_opts_out_after_the_solve_gets_no_survey(
    api: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    deliver: Deliver,
    email: Email,
    address: str,
    published: Published,
    clock: ManualClock,
) -> None:
    await enable(api)
    case = await email_case(api, deliver, email, address)
    await set_status(api, case["id"], "solved")
    contact_id = (await api.get(f"/api/v1/cases/{case['id']}")).json()["requester_id"]
    assert (await api.put(f"/api/v1/csat/opt-outs/{contact_id}")).status_code == 200
    await clock.advance(3600)
    await sweep(app, db)
    [survey] = await surveys(db, case["id"])
    assert (survey.status, survey.skip_reason) == ("skipped", "the requester opted out of surveys")
    assert survey_mails(await published(case["id"])) == []


async def test_opt_outs_are_kept_read_and_removed_and_unknown_contacts_are_404s(
    api: httpx.AsyncClient, agent: dict[str, str], deliver: Deliver, email: Email, address: str
) -> None:
    await deliver(email(address))
    contact_id = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"][0]["id"]
    assert (await api.get(f"/api/v1/csat/opt-outs/{contact_id}")).status_code == 404
    kept = await api.put(f"/api/v1/csat/opt-outs/{contact_id}")
    assert kept.status_code == 200, kept.text
    assert kept.json()["contact_id"] == contact_id
    assert (await api.put(f"/api/v1/csat/opt-outs/{contact_id}")).json() == kept.json(), "once is enough"
    assert (await api.get(f"/api/v1/csat/opt-outs/{contact_id}", headers=agent)).json() == kept.json()
    assert (await api.delete(f"/api/v1/csat/opt-outs/{contact_id}", headers=agent)).status_code == 403
    assert (await api.delete(f"/api/v1/csat/opt-outs/{contact_id}")).status_code == 204
    assert (await api.delete(f"/api/v1/csat/opt-outs/{contact_id}")).status_code == 404
    nobody = await api.put(f"/api/v1/csat/opt-outs/{uuid.uuid4()}")
    assert (nobody.status_code, nobody.json()["type"].rsplit("/", 1)[-1]) == (404, "contact-not-found")
    assert (await api.put("/api/v1/csat/opt-outs/not-an-id")).status_code == 404


async def test_a_messaging_case_gets_its_survey_in_the_conversation_it_came_from(
    api: httpx.AsyncClient, app: FastAPI, db: Database, deliver: Deliver, published: Published
) -> None:
    await enable(api, delay_seconds=0)
    handle = f"+49151{uuid.uuid4().int % 10**7:07d}"
    conversation = f"wa-{uuid.uuid4().hex}"
    chat = MessageReceived(
        intake_id=uuid7(),
        channel=Channel.MESSAGING,
        received_at=datetime.now(UTC),
        thread_key=conversation,
        sender=Party(handle=handle),
        subject=None,
        text="my parcel never came",
        conversation_id=conversation,
    )
    await deliver(chat)
    contact = (await api.get("/api/v1/contacts", params={"q": handle})).json()["items"][0]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    await api.post(f"/api/v1/cases/{case['id']}/messages", json={"text": "It is on its way.", "public": True})
    await set_status(api, case["id"], "solved")
    await sweep(app, db)
    [survey] = survey_mails(await published(case["id"]))
    assert (survey["channel"], survey["conversation_id"]) == ("messaging", conversation)
    assert survey["to"][0]["handle"] == handle
    assert "Good, I'm satisfied: http://127.0.0.1:8080/public/csat/" in survey["text"]


async def test_a_brands_csat_settings_override_the_suites(
    api: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    deliver: Deliver,
    email: Email,
    address: str,
    published: Published,
    clock: ManualClock,
) -> None:
    await enable(api, enabled=False)
    slug = f"brand-{uuid.uuid4().hex[:10]}"
    text = {
        "subject": "Acme 만족도 조사",
        "text": "어떠셨나요, {{requester.first_name}}님?",
        "good": "좋아요",
        "bad": "별로예요",
    }
    brand = await api.post(
        "/api/v1/brands",
        json={"name": "Acme", "slug": slug, "csat": {"enabled": True, "delay_seconds": 0, "texts": {"ko": text}}},
    )
    assert brand.status_code == 201, brand.text
    branded = await email_case(api, deliver, email, address)
    await change(api, branded["id"], brand=slug, language="ko", status="solved")
    plain = await email_case(api, deliver, email, f"plain-{address}")
    await set_status(api, plain["id"], "solved")
    await sweep(app, db)

    [mail] = survey_mails(await published(branded["id"]))
    assert mail["subject"].startswith("Acme 만족도 조사")
    assert "어떠셨나요, Ada님?" in mail["text"]
    assert "좋아요: http" in mail["text"]
    assert await surveys(db, plain["id"]) == [], "the suite's surveys are off for cases of no brand"
