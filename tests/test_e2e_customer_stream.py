"""Two customers' consoles on the live stream of the whole suite: each hears only their own case.

A customer portal opens ``GET /api/v1/stream`` with the customer's own login (an end user linked
to their contact). Staff open a case for each of two customers and answer both, publicly and in
an internal note; the suite's real case-core, broker and gateway carry the events. Each customer
hears their own case and its public reply, never the note, and nothing of the other's case.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from omnicase.devtools.testing.frontend import EventStream, Gateway, wait_for
from omnicase.devtools.testing.stack import SuiteStack

CUSTOMER_PASSWORD = "customer password 4 e2e"


@pytest.fixture(scope="module")
def admin(stack: SuiteStack, admin_login: tuple[str, str]) -> Iterator[Gateway]:
    with Gateway(stack.url()) as gateway:
        yield gateway.login(*admin_login)


def _customer(stack: SuiteStack, admin: Gateway, name: str) -> tuple[dict[str, Any], Gateway]:
    address = f"{name.lower()}-{uuid.uuid4().hex[:6]}@customer.example"
    contact = admin.post("/api/v1/contacts", {"name": name, "emails": [address]})
    admin.post(
        "/api/v1/users",
        {
            "email": address,
            "name": name,
            "role": "end_user",
            "contact_id": contact["id"],
            "password": CUSTOMER_PASSWORD,
        },
    )
    return contact, Gateway(stack.url()).login(address, CUSTOMER_PASSWORD)


def _case_ids(stream: EventStream) -> set[str]:
    return {str(event.json()["data"].get("case", {}).get("case_id")) for event in list(stream.events)}


def _wait_for_reply(stream: EventStream, case_id: str, name: str) -> None:
    def replied() -> list[dict[str, Any]] | None:
        messages = [data for data in stream.of_type("case.message_added") if data["case"]["case_id"] == case_id]
        return messages or None

    wait_for(replied, within=60, message=f"{name}'s portal never heard the public reply on her case")


def test_each_customer_hears_their_own_case_and_nothing_of_the_other_customers(
    stack: SuiteStack, admin: Gateway
) -> None:
    ada, ada_portal = _customer(stack, admin, "Ada")
    grace, grace_portal = _customer(stack, admin, "Grace")
    with ada_portal, grace_portal, ada_portal.listen() as ada_stream, grace_portal.listen() as grace_stream:
        cases = {}
        for contact in (ada, grace):
            case = admin.post(
                "/api/v1/cases", {"subject": f"Printer of {contact['name']}", "requester_id": contact["id"]}
            )
            admin.post(
                f"/api/v1/cases/{case['id']}/messages", {"text": "Internal: check the warranty", "public": False}
            )
            admin.post(f"/api/v1/cases/{case['id']}/messages", {"text": "A technician comes tomorrow", "public": True})
            cases[contact["id"]] = case["id"]

        # Each reply reached its customer's stream: the gateway has read both customers' events.
        for stream, contact in ((ada_stream, ada), (grace_stream, grace)):
            _wait_for_reply(stream, cases[contact["id"]], contact["name"])
        assert _case_ids(ada_stream) == {cases[ada["id"]]}
        assert _case_ids(grace_stream) == {cases[grace["id"]]}
        for stream in (ada_stream, grace_stream):
            # Her case's creation and the public reply, never the internal note.
            assert stream.of_type("case.created"), [event.event for event in stream.events]
            assert len(stream.of_type("case.message_added")) == 1, [event.data for event in stream.events]
