"""Forms, messaging and widget channels and voice channels name real brands: case-core's, asked
over HTTP (the session's real case-core); a slug nobody has, a string no slug, or case-core not
answering is refused and nothing is written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from omnicase.devtools.devstack.processes import free_port

pytestmark = pytest.mark.asyncio

# The brand conftest.py makes in the session's case-core.
BRAND = "acme"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _form(brand: str | None) -> dict[str, Any]:
    return {
        "name": "Support request",
        "fields": [{"key": "email", "required": True, "labels": {"en": "Email"}}],
        "defaults": {"brand": brand},
        "thank_you_url": "https://example.com/thanks",
    }


def _generic(brand: str) -> dict[str, Any]:
    return {"name": "Partner portal", "config": {"kind": "generic", "secrets": [SECRET]}, "defaults": {"brand": brand}}


def _widget(brand: str) -> dict[str, Any]:
    return {"name": "Chat", "config": {"kind": "widget", "brand": brand}}


def _voice(brand: str) -> dict[str, Any]:
    return {
        "name": "Support line",
        "account_sid": "AC0123456789abcdef",
        "auth_token": "voice-token-0123456789",
        "phone_numbers": [f"+1415555{uuid.uuid4().int % 10_000:04d}"],
        "brand": brand,
    }


# Each route naming a brand: where, its body naming `brand`, the field that names it.
ROUTES = [
    ("/api/v1/forms", _form, "body.defaults.brand"),
    ("/api/v1/channels", _generic, "body.defaults.brand"),
    ("/api/v1/channels", _widget, "body.config.brand"),
    ("/api/v1/voice/channels", _voice, "body.brand"),
]


async def _names(service: Any, path: str) -> list[str]:
    return [item["name"] for item in (await service.client.get(path, params={"limit": 200})).json()["items"]]


async def test_a_route_naming_a_brand_nobody_has_is_refused_naming_the_field_and_nothing_is_written(
    service: Any,
) -> None:
    nobody = f"nobody-{uuid.uuid4().hex[:8]}"
    for path, body, field in ROUTES:
        before = await _names(service, path)
        refused = await service.client.post(path, json=body(nobody))
        assert refused.status_code == 404, (path, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/unknown-reference")
        assert [error["field"] for error in refused.json()["errors"]] == [field], path
        assert await _names(service, path) == before, path
        # No slug at all: the schema's 422, naming the field (a widget's by its kind: body.config.widget.brand).
        shaped = await service.client.post(path, json=body("Acme Inc."))
        assert shaped.status_code == 422, (path, shaped.text)
        [named] = [error["field"] for error in shaped.json()["errors"]]
        assert named.startswith(field.rsplit(".", 1)[0]), (path, named)
        assert named.endswith(".brand"), (path, named)
        # A brand case-core has is taken.
        made = await service.client.post(path, json=body(BRAND))
        assert made.status_code == 201, (path, made.text)


async def test_a_voice_channels_defaults_naming_a_brand_nobody_has_are_refused_too(service: Any) -> None:
    body = {**_voice(BRAND), "defaults": {"brand": f"nobody-{uuid.uuid4().hex[:8]}"}}
    refused = await service.client.post("/api/v1/voice/channels", json=body)
    assert refused.status_code == 404, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == ["body.defaults.brand"]


async def test_replacing_with_a_brand_nobody_has_is_refused_and_the_route_keeps_its_brand(service: Any) -> None:
    form = await service.form()
    nobody = f"nobody-{uuid.uuid4().hex[:8]}"
    replaced = await service.client.put(f"/api/v1/forms/{form['id']}", json=_form(nobody))
    assert replaced.status_code == 404, replaced.text
    assert (await service.client.get(f"/api/v1/forms/{form['id']}")).json()["defaults"]["brand"] == BRAND
    channel = await service.channel({"kind": "widget", "brand": BRAND})
    replaced = await service.client.put(f"/api/v1/channels/{channel['id']}", json=_widget(nobody))
    assert replaced.status_code == 404, replaced.text
    assert (await service.client.get(f"/api/v1/channels/{channel['id']}")).json()["settings"]["brand"] == BRAND


async def test_without_case_core_a_branded_route_is_refused_for_now_but_an_unbranded_one_and_a_patch_are_taken(
    start_service: Any,
) -> None:
    alone = await start_service(case_core_url=f"http://127.0.0.1:{free_port()}", case_core_timeout_seconds=2)
    for path, body, _ in ROUTES:
        before = await _names(alone, path)
        refused = await alone.client.post(path, json=body(BRAND))
        assert refused.status_code == 503, (path, refused.text)
        assert refused.json()["type"].endswith("/service-unavailable")
        assert await _names(alone, path) == before, path
    # Naming no brand asks nobody.
    form = await alone.client.post("/api/v1/forms", json=_form(None))
    assert form.status_code == 201, form.text
    # A patch names no brand: switching a form off needs no case-core.
    patched = await alone.client.patch(f"/api/v1/forms/{form.json()['id']}", json={"enabled": False})
    assert patched.status_code == 200, patched.text
