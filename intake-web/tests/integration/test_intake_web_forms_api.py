"""Admins define Web-to-Case forms and get the HTML to paste into their site."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from omnicase.intake_web.forms.cache import FormCache
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.kit.identity import IDENTITY_HEADER, sign_identity

# One service for the module: every test works on forms or channels of its own.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def service(shared_service: Any) -> Any:
    return shared_service


def _field_errors(response: Any) -> dict[str, str]:
    return {error["field"]: error["code"] for error in response.json().get("errors", [])}


async def test_a_form_is_created_read_listed_replaced_and_deleted(service: Any) -> None:
    form = await service.form(
        spam={"min_fill_seconds": 2, "captcha": {"provider": "turnstile", "site_key": "site-1", "secret": "s3cret"}}
    )
    assert form["daily_cap"] == 5000  # Salesforce's Web-to-Case default
    assert form["defaults"]["priority"] == "high"
    assert form["spam"]["captcha"] == {
        "provider": "turnstile",
        "site_key": "site-1",
        "siteverify_url": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        "secret_set": True,
    }
    assert "s3cret" not in str(form)

    fetched = await service.client.get(f"/api/v1/forms/{form['id']}")
    assert fetched.json() == form

    paused = await service.client.patch(f"/api/v1/forms/{form['id']}", json={"enabled": False, "daily_cap": 50})
    assert paused.status_code == 200, paused.text
    assert (paused.json()["enabled"], paused.json()["daily_cap"], paused.json()["version"]) == (False, 50, 2)
    assert paused.json()["spam"]["captcha"]["secret_set"] is True  # kept without being sent again
    assert paused.json()["fields"] == form["fields"]
    # The schema lets every field of a patch be null: null leaves the setting as it is.
    nulls = await service.client.patch(
        f"/api/v1/forms/{form['id']}", json={"rate_limits": None, "name": None, "allowed_origins": None}
    )
    assert nulls.status_code == 200, nulls.text
    assert nulls.json()["version"] == 3
    unchanged = {key: value for key, value in nulls.json().items() if key not in {"version", "updated_at"}}
    assert unchanged == {key: value for key, value in paused.json().items() if key not in {"version", "updated_at"}}
    wrong_types = await service.client.patch(f"/api/v1/forms/{form['id']}", json={"enabled": 1, "daily_cap": True})
    assert wrong_types.status_code == 422
    assert set(_field_errors(wrong_types)) == {"body.enabled", "body.daily_cap"}
    bad_patch = await service.client.patch(f"/api/v1/forms/{form['id']}", json={"daily_cap": 0, "color": "red"})
    assert bad_patch.status_code == 422
    assert set(_field_errors(bad_patch)) == {"body.daily_cap", "body.color"}
    # A change's texts follow a definition's rules (an empty subject was a 500 once merged).
    empty = {"auto_response_subject": {"en": ""}}
    empty_subject = await service.client.patch(f"/api/v1/forms/{form['id']}", json=empty)
    assert empty_subject.status_code == 422, empty_subject.text
    assert set(_field_errors(empty_subject)) == {"body.auto_response_subject.en"}

    replacement = {
        "name": "Sales",
        "enabled": False,
        "fields": [{"key": "email", "required": True, "labels": {"en": "Email"}}],
        "thank_you_url": "https://example.com/merci",
        "daily_cap": 10,
    }
    replaced = await service.client.put(f"/api/v1/forms/{form['id']}", json=replacement)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 4
    assert replaced.json()["enabled"] is False
    assert replaced.json()["daily_cap"] == 10

    deleted = await service.client.delete(f"/api/v1/forms/{form['id']}")
    assert deleted.status_code == 204
    gone = await service.client.get(f"/api/v1/forms/{form['id']}")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"


async def test_forms_are_listed_page_by_page(service: Any) -> None:
    created = [(await service.form(name=f"Form {n}"))["id"] for n in range(3)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await service.client.get("/api/v1/forms", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [form_id for form_id in seen if form_id in created] == created
    bad = await service.client.get("/api/v1/forms", params={"cursor": "%%%"})
    assert bad.status_code == 422
    # Outside the cursor pattern the document publishes: refused like any parameter breaking its pattern.
    assert _field_errors(bad) == {"query.cursor": "string_pattern_mismatch"}
    # Of that pattern but handed out by no page: a position all the same (here past every id).
    past = await service.client.get("/api/v1/forms", params={"cursor": "f" * 32})
    assert past.json() == {"items": [], "next_cursor": None}


INCONSISTENT = [
    ({"fields": [{"key": "email", "labels": {"en": "A"}}, {"key": "email", "labels": {"en": "B"}}]},
     {"body.fields.1.key": "duplicate"}),
    ({"fields": [{"key": "shoe_size", "labels": {"en": "Size"}}]}, {"body.fields.0.key": "unknown_standard_field"}),
    ({"fields": [{"key": "email", "labels": {"fr": "Courriel"}}]}, {"body.fields.0.labels": "missing_label"}),
    ({"fields": [{"key": "plan", "kind": "custom", "type": "select", "labels": {"en": "Plan"}}]},
     {"body.fields.0.options": "missing"}),
    ({"fields": [{"key": "website", "kind": "custom", "labels": {"en": "Site"}}]}, {"body.fields.0.key": "reserved"}),
]  # fmt: skip


async def test_an_inconsistent_definition_is_refused_field_by_field(service: Any) -> None:
    for change, expected in INCONSISTENT:
        body = {"name": "Broken", "thank_you_url": "https://example.com/thanks", **change}
        response = await service.client.post("/api/v1/forms", json=body)
        assert response.status_code == 422, response.text
        assert _field_errors(response) == expected
    listed = (await service.client.get("/api/v1/forms", params={"limit": 200})).json()["items"]
    assert all(item["name"] != "Broken" for item in listed)


async def test_malformed_definitions_get_pydantic_field_errors(service: Any) -> None:
    response = await service.client.post(
        "/api/v1/forms",
        json={"name": "", "fields": [], "thank_you_url": "not a url", "daily_cap": 0, "allowed_origins": ["x"]},
    )
    assert response.status_code == 422
    fields = set(_field_errors(response))
    assert {"body.name", "body.fields", "body.thank_you_url", "body.daily_cap", "body.allowed_origins.0"} <= fields


async def test_defaults_take_only_their_own_fields_and_storable_values(service: Any) -> None:
    base = {
        "name": "Defaults",
        "thank_you_url": "https://example.com/thanks",
        "fields": [{"key": "email", "required": True, "labels": {"en": "Email"}}],
    }
    for defaults, field in [
        ({"colour": "red"}, "body.defaults.colour"),
        ({"custom_fields": {"plan": {"tier\u0000": 1}}}, "body"),
    ]:
        response = await service.client.post("/api/v1/forms", json={**base, "defaults": defaults})
        assert response.status_code == 422, response.text
        assert field in _field_errors(response), response.text
    listed = (await service.client.get("/api/v1/forms", params={"limit": 200})).json()["items"]
    assert all(item["name"] != "Defaults" for item in listed)
    kept = await service.client.post(
        "/api/v1/forms", json={**base, "defaults": {"custom_fields": {"plan": {"tier": 1}}}}
    )
    assert kept.status_code == 201, kept.text
    assert kept.json()["defaults"]["custom_fields"] == {"plan": {"tier": 1}}


async def test_agents_read_forms_and_only_channels_writers_configure_them(service: Any) -> None:
    anonymous = await service.public.get("/api/v1/forms")
    assert anonymous.status_code == 401
    settings: IntakeWebSettings = service.settings
    from omnicase.kit.clock import utcnow

    form = await service.form()
    # As the gateway signs an agent: their role's scopes, channels:read among them.
    agent = sign_identity(
        subject="agent-1", role="agent", scopes={"channels:read"}, secret=settings.internal_secret, now=utcnow()
    )
    assert (
        await service.public.get(f"/api/v1/forms/{form['id']}", headers={IDENTITY_HEADER: agent})
    ).status_code == 200
    refused = await service.public.post("/api/v1/forms", json={"name": "x"}, headers={IDENTITY_HEADER: agent})
    assert refused.status_code == 403
    assert "channels:write" in refused.json()["detail"]
    integration = sign_identity(
        subject="token-1",
        kind="api_token",
        role="integration",
        scopes={"channels:write"},
        secret=settings.internal_secret,
        now=utcnow(),
    )
    renamed = await service.public.patch(
        f"/api/v1/forms/{form['id']}", json={"name": "Renamed by CI"}, headers={IDENTITY_HEADER: integration}
    )
    assert renamed.status_code == 200, renamed.text
    forged = await service.public.get("/api/v1/forms", headers={IDENTITY_HEADER: agent[:-4] + "AAAA"})
    assert forged.status_code == 401


async def test_the_snippet_is_an_accessible_form_posting_to_the_public_endpoint(service: Any) -> None:
    form = await service.form()
    response = await service.client.get(f"/api/v1/forms/{form['id']}/snippet", params={"locale": "fr"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert f'action="http://service/public/forms/{form["id"]}/submissions"' in html
    assert 'method="post"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "<fieldset>" in html
    assert "<legend>" in html
    base = f"oc-{form['id'].replace('-', '')[:12]}"
    # French label where there is one, the default locale's otherwise.
    assert f'<label for="{base}-name">Votre nom' in html
    assert f'<label for="{base}-order_number">Order number' in html
    assert f'aria-describedby="{base}-order_number-help {base}-order_number-error"' in html
    assert f'<p id="{base}-email-error" class="omnicase-error" aria-live="polite">' in html
    assert 'type="email"' in html
    assert 'type="file" multiple' in html
    assert 'name="website"' in html  # the honeypot
    assert "<script>" in html
    assert f"#{base} .omnicase-sr{{" in html  # self-contained: its few styles come along, scoped to it

    plain = await service.client.get(f"/api/v1/forms/{form['id']}/snippet", params={"script": "false"})
    assert "<script" not in plain.text
    missing = await service.client.get("/api/v1/forms/01900000-0000-7000-8000-000000000000/snippet")
    assert missing.status_code == 404


async def test_templates_with_unknown_placeholders_are_refused(service: Any) -> None:
    response = await service.client.post(
        "/api/v1/forms",
        json={
            "name": "Bad template",
            "fields": [{"key": "email", "labels": {"en": "Email"}}],
            "thank_you_url": "https://example.com/thanks",
            "auto_response_text": {"en": "Hi {{first_name}}"},
        },
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("body.auto_response_text.en", "unknown_placeholder")


async def test_a_form_changed_through_another_replica_is_read_again_after_the_next_check(service: Any) -> None:
    form = await service.form()
    form_id = uuid.UUID(form["id"])
    other_replica = FormCache(service.app.state.database, service.app.state.runtime.state.sealer)
    await other_replica.check()
    before = await other_replica.get(form_id)
    assert before is not None
    assert before.enabled
    changed = await service.client.patch(f"/api/v1/forms/{form['id']}", json={"enabled": False})
    assert changed.status_code == 200
    assert await other_replica.get(form_id) == before  # kept until the check
    await other_replica.check()
    after = await other_replica.get(form_id)
    assert after is not None
    assert not after.enabled
    assert (await service.client.delete(f"/api/v1/forms/{form['id']}")).status_code == 204
    await other_replica.check()
    assert await other_replica.get(form_id) is None


async def test_a_form_sends_suggested_articles_only_when_told_and_refuses_a_non_boolean(service: Any) -> None:
    form = await service.form()
    assert form["suggest_articles"] is False
    suggesting = await service.client.patch(f"/api/v1/forms/{form['id']}", json={"suggest_articles": True})
    assert suggesting.status_code == 200, suggesting.text
    assert suggesting.json()["suggest_articles"] is True
    refused = await service.client.patch(f"/api/v1/forms/{form['id']}", json={"suggest_articles": "yes"})
    assert refused.status_code == 422
    assert set(_field_errors(refused)) == {"body.suggest_articles"}
    assert (await service.client.get(f"/api/v1/forms/{form['id']}")).json()["version"] == suggesting.json()["version"]
