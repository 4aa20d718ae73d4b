"""CSAT settings: the built-in ones (surveys off) until an admin saves some; every bad field a 422
naming it with nothing saved; agents read them and may not change them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio

SETTINGS: dict[str, Any] = {
    "enabled": True,
    "delay_seconds": 3600,
    "reasons": ["Too slow", "Not solved"],
    "texts": {
        "de": {"subject": "Wie war es?", "text": "Fall #{{case.number}}: zufrieden?", "good": "Gut", "bad": "Schlecht"}
    },
}


async def test_the_built_in_settings_send_no_surveys_until_an_admin_saves_some(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v1/csat/settings")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["built_in"], body["enabled"], body["delay_seconds"], body["reasons"]) == (True, False, 86400, [])
    assert body["built_in_locales"] == ["de", "en", "es", "fr", "ko", "zh"]

    saved = await api.put("/api/v1/csat/settings", json=SETTINGS)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["built_in"] is False
    assert body["updated_by"].startswith("user:")
    assert {key: body[key] for key in SETTINGS} == SETTINGS
    assert (await api.get("/api/v1/csat/settings")).json() == body


async def test_a_delay_of_zero_sends_at_once_and_trimmed_repeats_of_a_reason_are_one_reason(
    api: httpx.AsyncClient,
) -> None:
    answer = await api.put(
        "/api/v1/csat/settings", json={"enabled": True, "delay_seconds": 0, "reasons": ["Slow", " Slow "]}
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["delay_seconds"], answer.json()["reasons"]) == (0, ["Slow"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"delay_seconds": -1}, "body.delay_seconds"),
        ({"delay_seconds": 31 * 86400}, "body.delay_seconds"),
        ({"delay_seconds": True}, "body.delay_seconds"),
        ({"reasons": ["Slow", "Slow"]}, "body.reasons"),
        ({"reasons": ["   "]}, "body.reasons.0"),
        ({"reasons": ["x" * 101]}, "body.reasons.0"),
        ({"reasons": [f"reason {n}" for n in range(31)]}, "body.reasons"),
        ({"texts": {"EN": SETTINGS["texts"]["de"]}}, "body.texts.EN.[key]"),
        ({"texts": {"de": {**SETTINGS["texts"]["de"], "text": "Hi {{case.nope}}"}}}, "body.texts.de.text"),
        ({"texts": {"de": {**SETTINGS["texts"]["de"], "good": " "}}}, "body.texts.de.good"),
        ({"texts": {"de": {"subject": "Hi"}}}, "body.texts.de.text"),
        ({"enabled": None}, "body.enabled"),
        ({"colour": "red"}, "body.colour"),
    ],
)
async def test_bad_settings_are_refused_naming_the_field_and_nothing_is_saved(
    api: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    before = (await api.put("/api/v1/csat/settings", json=SETTINGS)).json()
    answer = await api.put("/api/v1/csat/settings", json={**SETTINGS, **change})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in answer.json()["errors"]]
    assert (await api.get("/api/v1/csat/settings")).json() == before


async def test_agents_read_the_settings_and_may_not_change_them(api: httpx.AsyncClient, agent: dict[str, str]) -> None:
    assert (await api.get("/api/v1/csat/settings", headers=agent)).status_code == 200
    answer = await api.put("/api/v1/csat/settings", json=SETTINGS, headers=agent)
    assert answer.status_code == 403
    assert (await api.get("/api/v1/csat/settings")).json()["built_in"] is True
