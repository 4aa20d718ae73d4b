"""Contacts and organizations: normalised identities, search, merge (cases move with them)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from omnicase.case_core.testing import Deliver, Email, Published

pytestmark = pytest.mark.asyncio


def unique(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def make_contact(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/contacts", json=body)
    assert response.status_code == 201, response.text
    contact: dict[str, Any] = response.json()
    return contact


async def test_contact_identities_are_normalised_and_unique(api: httpx.AsyncClient) -> None:
    name = unique("ada")
    contact = await make_contact(
        api,
        name=name,
        emails=[f" {name.upper()}@Example.COM "],
        phones=["+44 20 7946 0958"],
        handles=[{"channel": "messaging", "handle": "wa-123"}],
    )
    assert contact["emails"] == [f"{name}@example.com"]
    assert contact["phones"] == ["+442079460958"]
    assert contact["handles"] == [{"channel": "messaging", "handle": "wa-123"}]

    taken = await api.post("/api/v1/contacts", json={"emails": [f"{name}@EXAMPLE.com"]})
    assert taken.status_code == 409
    assert taken.json()["contact_ids"] == [contact["id"]]

    for query in (name[:6], f"{name}@example", "+44207946"):
        found = (await api.get("/api/v1/contacts", params={"q": query})).json()["items"]
        assert contact["id"] in [item["id"] for item in found], query


async def test_bad_contact_input_names_each_field_and_changes_nothing(api: httpx.AsyncClient) -> None:
    contact = await make_contact(api, name="Keep", emails=[f"{unique()}@example.com"])
    response = await api.post("/api/v1/contacts", json={"emails": ["nope"], "phones": ["12"]})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.emails.0", "body.phones.0"]
    assert (await api.post("/api/v1/contacts", json={})).status_code == 422
    update = await api.patch(
        f"/api/v1/contacts/{contact['id']}", json={"name": "Changed", "emails": ["still not an email"]}
    )
    assert update.status_code == 422
    assert (await api.get(f"/api/v1/contacts/{contact['id']}")).json() == contact
    unknown_org = await api.patch(f"/api/v1/contacts/{contact['id']}", json={"organization_id": str(uuid.uuid4())})
    assert unknown_org.status_code == 404
    assert unknown_org.json()["errors"] == [
        {"field": "body.organization_id", "message": "no such organization", "code": "not_found"}
    ]
    assert (await api.get(f"/api/v1/contacts/{uuid.uuid4()}")).status_code == 404


async def test_merging_contacts_moves_their_identities_and_cases(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email
) -> None:
    first, second = f"{unique()}@example.com", f"{unique()}@example.org"
    await deliver(email(first, "from the work address"))
    await deliver(email(second, "from the home address"))
    [target] = (await api.get("/api/v1/contacts", params={"q": first})).json()["items"]
    [source] = (await api.get("/api/v1/contacts", params={"q": second})).json()["items"]
    [moved_case] = (await api.get(f"/api/v1/contacts/{source['id']}/cases")).json()["items"]

    in_use = await api.delete(f"/api/v1/contacts/{source['id']}")
    assert in_use.status_code == 409

    response = await api.post(f"/api/v1/contacts/{target['id']}/merge", json={"source_contact_id": source["id"]})
    assert response.status_code == 200, response.text
    assert sorted(response.json()["emails"]) == sorted([first, second])
    assert (await api.get(f"/api/v1/contacts/{source['id']}")).status_code == 404
    cases = (await api.get(f"/api/v1/contacts/{target['id']}/cases")).json()["items"]
    assert {case["subject"] for case in cases} == {"from the work address", "from the home address"}
    changes = [data["changes"] for kind, data in await published(moved_case["id"]) if kind == "case.updated"]
    assert changes[-1]["requester_id"] == {"old": source["id"], "new": target["id"]}

    # New mail from the merged-away address now lands with the surviving contact.
    await deliver(email(second, "another one"))
    assert len((await api.get(f"/api/v1/contacts/{target['id']}/cases")).json()["items"]) == 3


async def test_organizations_claim_domains_and_merge(api: httpx.AsyncClient) -> None:
    domain_a, domain_b = f"{unique('a')}.example", f"{unique('b')}.example"
    acme = (await api.post("/api/v1/organizations", json={"name": "Acme", "domains": [domain_a.upper()]})).json()
    assert acme["domains"] == [domain_a]
    taken = await api.post("/api/v1/organizations", json={"name": "Copycat", "domains": [domain_a]})
    assert taken.status_code == 409
    bad = await api.post("/api/v1/organizations", json={"name": "Bad", "domains": ["not a domain"]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.domains.0"

    beta = (await api.post("/api/v1/organizations", json={"name": "Beta", "domains": [domain_b]})).json()
    employee = await make_contact(api, emails=[f"bob@{domain_b}"])
    assert employee["organization_id"] == beta["id"]
    case = (await api.post("/api/v1/cases", json={"subject": "x", "requester_id": employee["id"]})).json()
    assert case["organization_id"] == beta["id"]

    merged = await api.post(f"/api/v1/organizations/{acme['id']}/merge", json={"source_organization_id": beta["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["domains"] == sorted([domain_a, domain_b])
    assert (await api.get(f"/api/v1/contacts/{employee['id']}")).json()["organization_id"] == acme["id"]
    assert (await api.get(f"/api/v1/cases/{case['id']}")).json()["organization_id"] == acme["id"]
    assert (await api.get(f"/api/v1/organizations/{beta['id']}")).status_code == 404
    found = (await api.get("/api/v1/organizations", params={"q": domain_b[:5]})).json()["items"]
    assert [item["id"] for item in found] == [acme["id"]]

    deleted = await api.delete(f"/api/v1/organizations/{acme['id']}")
    assert deleted.status_code == 204
    assert (await api.get(f"/api/v1/contacts/{employee['id']}")).json()["organization_id"] is None


async def test_a_merge_naming_a_source_nobody_has_is_a_404_naming_that_field(api: httpx.AsyncClient) -> None:
    contact = await make_contact(api, emails=[f"{unique()}@example.com"])
    organization = (await api.post("/api/v1/organizations", json={"name": "Acme"})).json()
    case = (await api.post("/api/v1/cases", json={"subject": "x"})).json()
    for path, field in [
        (f"/api/v1/contacts/{contact['id']}/merge", "source_contact_id"),
        (f"/api/v1/organizations/{organization['id']}/merge", "source_organization_id"),
        (f"/api/v1/cases/{case['id']}/merge", "source_case_id"),
    ]:
        response = await api.post(path, json={field: str(uuid.uuid4())})
        assert response.status_code == 404, response.text
        # The target in the path is there: the problem names the body's reference.
        assert response.json()["type"].endswith("/unknown-reference"), response.text
        assert [error["field"] for error in response.json()["errors"]] == [f"body.{field}"]


async def test_contacts_who_wrote_before_their_domain_was_known_join_the_organization(
    api: httpx.AsyncClient, deliver: Deliver, email: Email
) -> None:
    domain = f"{unique('late')}.example"
    await deliver(email(f"early@{domain}"))
    [early] = (await api.get("/api/v1/contacts", params={"q": f"early@{domain}"})).json()["items"]
    assert early["organization_id"] is None
    elsewhere = await make_contact(api, emails=[f"early@other-{domain}"])

    organization = (await api.post("/api/v1/organizations", json={"name": "Late", "domains": [domain]})).json()
    assert (await api.get(f"/api/v1/contacts/{early['id']}")).json()["organization_id"] == organization["id"]
    assert (await api.get(f"/api/v1/contacts/{elsewhere['id']}")).json()["organization_id"] is None
