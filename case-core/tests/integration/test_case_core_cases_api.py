"""The case API: create, read, change with If-Match, lifecycle, custom fields, lists, bulk, merge, history, events."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from omnicase.case_core.testing import Published

pytestmark = pytest.mark.asyncio


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return [error["field"] for error in response.json().get("errors", [])]


async def create(api: httpx.AsyncClient, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
    body.setdefault("subject", "Cannot log in")
    body.setdefault("requester", {"email": f"req-{uuid.uuid4().hex[:8]}@customer.example"})
    response = await api.post("/api/v1/cases", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


async def patch(api: httpx.AsyncClient, case: dict[str, Any], **changes: Any) -> httpx.Response:
    return await api.patch(f"/api/v1/cases/{case['id']}", json=changes, headers={"If-Match": f'"{case["version"]}"'})


async def test_agent_creates_a_case_for_a_new_requester_and_reads_it_with_its_etag(
    api: httpx.AsyncClient, agent: dict[str, str], agent_id: str, published: Published
) -> None:
    case = await create(
        api,
        agent,
        subject="Password reset mail never arrives",
        description="Customer called.",
        requester={"email": "Grace@Navy.example", "name": "Grace Hopper"},
        channel="voice",
        priority="high",
        type="question",
        tags=["Login", "login"],
    )
    assert case["number"] > 0
    assert case["status"] == "new"
    assert case["tags"] == ["login"]
    read = await api.get(f"/api/v1/cases/{case['id']}")
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == case
    requester = (await api.get(f"/api/v1/contacts/{case['requester_id']}")).json()
    assert requester["emails"] == ["grace@navy.example"]
    [(kind, data)] = await published(case["id"])
    assert kind == "case.created"
    assert data["case"]["priority"] == "high"
    assert data["actor"] == f"user:{agent_id}"


async def test_bad_create_input_gets_per_field_problems_and_creates_nothing(api: httpx.AsyncClient) -> None:
    before = (await api.get("/api/v1/cases", params={"limit": 200})).json()["items"]
    # A reference to nothing (a contact, a custom field, a problem case) is a 404 naming the field.
    for body, field, status in [
        ({"subject": ""}, "body.subject", 422),
        ({"subject": "x", "priority": "asap"}, "body.priority", 422),
        ({"subject": "x", "tags": ["no spaces allowed"]}, "body.tags", 422),
        ({"subject": "x", "requester": {"email": "not-an-address"}}, "body.requester.email", 422),
        # Each identity given is checked, not left out of the requester unread.
        ({"subject": "x", "requester": {"email": "ada@example.com", "phone": "12"}}, "body.requester.phone", 422),
        ({"subject": "x", "requester_id": str(uuid.uuid4())}, "body.requester_id", 404),
        ({"subject": "x", "custom_fields": {"undefined_field": 1}}, "body.custom_fields.undefined_field", 404),
        ({"subject": "x", "type": "question", "problem_id": str(uuid.uuid4())}, "body.problem_id", 422),
        ({"subject": "x", "type": "incident", "problem_id": str(uuid.uuid4())}, "body.problem_id", 404),
        ({"subject": "x", "surprise": True}, "body.surprise", 422),
    ]:
        response = await api.post("/api/v1/cases", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        if status == 404:
            assert response.json()["type"].endswith("/unknown-reference")
        assert any(reported.startswith(field) for reported in problem_fields(response)), (body, response.text)
    after = (await api.get("/api/v1/cases", params={"limit": 200})).json()["items"]
    assert after == before


async def test_the_document_says_which_answers_carry_the_etag_a_change_sends_back(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    answers = [
        paths["/api/v1/cases"]["post"]["responses"]["201"],
        paths["/api/v1/cases/{case_id}"]["get"]["responses"]["200"],
        paths["/api/v1/cases/{case_id}"]["patch"]["responses"]["200"],
    ]
    assert all(answer["headers"]["ETag"]["schema"] == {"type": "string"} for answer in answers)


async def test_followers_set_to_null_are_cleared(api: httpx.AsyncClient) -> None:
    case = await create(api)
    follower = str(uuid.uuid4())
    followed = await patch(api, case, followers=[follower, follower])
    assert followed.status_code == 200, followed.text
    assert followed.json()["followers"] == [follower]
    cleared = await patch(api, followed.json(), followers=None)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["followers"] == []


async def test_update_needs_the_current_etag_and_a_stale_one_gets_412_with_the_current_case(
    api: httpx.AsyncClient,
) -> None:
    case = await create(api)
    missing = await api.patch(f"/api/v1/cases/{case['id']}", json={"priority": "low"})
    assert missing.status_code == 428
    garbage = await api.patch(f"/api/v1/cases/{case['id']}", json={"priority": "low"}, headers={"If-Match": "v1"})
    assert garbage.status_code == 400

    first = await patch(api, case, priority="urgent")
    assert first.status_code == 200
    assert first.headers["etag"] == '"2"'
    stale = await patch(api, case, priority="low")
    assert stale.status_code == 412
    assert stale.json()["current"]["priority"] == "urgent"
    assert stale.json()["current"]["version"] == 2
    assert (await api.get(f"/api/v1/cases/{case['id']}")).json()["priority"] == "urgent"


async def test_status_lifecycle_is_enforced_and_closed_cases_do_not_change(api: httpx.AsyncClient) -> None:
    case = await create(api)
    # The status the case has now cannot become the one asked for: a 409 naming the field.
    back_to_new = await patch(api, (await patch(api, case, status="open")).json(), status="new")
    assert back_to_new.status_code == 409
    assert back_to_new.json()["type"].endswith("/state-conflict")
    assert problem_fields(back_to_new) == ["body.status"]
    current = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    skip_solve = await patch(api, current, status="closed")
    assert skip_solve.status_code == 409
    solved = (await patch(api, current, status="solved")).json()
    assert solved["solved_at"] is not None
    closed = (await patch(api, solved, status="closed")).json()
    assert closed["closed_at"] is not None
    refused = await patch(api, closed, priority="high")
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/case-closed")


async def test_assigning_a_new_case_opens_it_and_every_change_is_in_history_and_events(
    api: httpx.AsyncClient, agent: dict[str, str], agent_id: str, published: Published
) -> None:
    case = await create(api)
    assignee = str(uuid.uuid4())
    response = await api.patch(
        f"/api/v1/cases/{case['id']}",
        json={"assignee_id": assignee, "add_tags": ["vip"]},
        headers={"If-Match": '"1"', **agent},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["status"] == "open"
    history = (await api.get(f"/api/v1/cases/{case['id']}/history")).json()["items"]
    by_field = {entry["field"]: entry for entry in history}
    assert by_field["assignee_id"]["old"] is None
    assert by_field["assignee_id"]["new"] == assignee
    assert by_field["status"]["old"] == "new"
    assert by_field["status"]["new"] == "open"
    assert by_field["tags"]["new"] == ["vip"]
    assert by_field["status"]["actor"] == f"user:{agent_id}"
    assert by_field["status"]["via"] == "api"
    kinds = [kind for kind, _ in await published(case["id"])]
    assert kinds == ["case.created", "case.updated"]
    update = (await published(case["id"]))[1][1]
    assert set(update["changes"]) == {"assignee_id", "status", "tags"}
    assert update["case"]["assignee_id"] == assignee

    # Sending what is already there changes nothing: no version, no history, no event.
    same = await patch(api, changed, assignee_id=assignee)
    assert same.json()["version"] == changed["version"]
    assert len(await published(case["id"])) == 2


async def test_a_change_the_fields_stored_type_refuses_is_a_409_and_changes_nothing(api: httpx.AsyncClient) -> None:
    text = (await api.post("/api/v1/custom-fields", json={"key": "z_note", "label": "Note", "type": "text"})).json()
    options = await api.patch(f"/api/v1/custom-fields/{text['id']}", json={"active": False, "options": ["a"]})
    assert options.status_code == 409
    assert options.json()["type"].endswith("/custom-field-type-conflict")
    assert problem_fields(options) == ["body.options"]
    regex = await api.post(
        "/api/v1/custom-fields", json={"key": "z_order", "label": "Order", "type": "regex", "pattern": "A-[0-9]+"}
    )
    cleared = await api.patch(f"/api/v1/custom-fields/{regex.json()['id']}", json={"pattern": None})
    assert cleared.status_code == 409
    assert problem_fields(cleared) == ["body.pattern"]
    # What the values alone break is a 422, as the schema says: no options, or one twice.
    for bad in ([], ["a", "a"]):
        refused = await api.patch(f"/api/v1/custom-fields/{text['id']}", json={"options": bad})
        assert refused.status_code == 422, bad
    listed = {item["key"]: item for item in (await api.get("/api/v1/custom-fields")).json()["items"]}
    assert listed["z_note"] == text
    assert listed["z_order"]["pattern"] == "A-[0-9]+"


async def test_custom_fields_are_typed_and_required_ones_block_solving(api: httpx.AsyncClient) -> None:
    key = f"order_{uuid.uuid4().hex[:6]}"
    definition = await api.post(
        "/api/v1/custom-fields",
        json={"key": key, "label": "Order", "type": "regex", "pattern": "A-[0-9]{4}", "required_on_solve": True},
    )
    assert definition.status_code == 201, definition.text
    assert (await api.post("/api/v1/custom-fields", json={"key": key, "label": "x", "type": "text"})).status_code == 409
    bad_pattern = await api.post(
        "/api/v1/custom-fields", json={"key": "z_bad", "label": "x", "type": "regex", "pattern": "("}
    )
    assert bad_pattern.status_code == 422
    # JSON can carry a NUL or half a surrogate pair; PostgreSQL cannot store either: a 422, not a 500.
    for label in (r"Order\u0000", r"Order \ud83d"):  # as JSON escapes, the way a client sends them
        body = '{"key": "z_text", "type": "text", "label": "' + label + '"}'
        unstorable = await api.post("/api/v1/custom-fields", content=body, headers={"Content-Type": "application/json"})
        assert unstorable.status_code == 422, unstorable.text
        assert "label" in unstorable.json()["errors"][0]["message"]

    # The schema takes any value; the field's stored definition refuses this one: a 409 naming
    # the field, on create and on change, and nothing is written.
    refused = await api.post("/api/v1/cases", json={"subject": "x", "custom_fields": {key: "B-1"}})
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/state-conflict")
    assert problem_fields(refused) == [f"body.custom_fields.{key}"]
    case = await create(api)
    wrong = await patch(api, case, custom_fields={key: "B-1"})
    assert wrong.status_code == 409, wrong.text
    assert wrong.json()["type"].endswith("/state-conflict")
    assert problem_fields(wrong) == [f"body.custom_fields.{key}"]
    assert (await api.get(f"/api/v1/cases/{case['id']}")).json()["version"] == case["version"]
    # The stored definition, not the body, refuses the solve: a 409 naming the field.
    unsolved = await patch(api, case, status="solved")
    assert unsolved.status_code == 409
    assert problem_fields(unsolved) == [f"body.custom_fields.{key}"]
    solved = await patch(api, case, status="solved", custom_fields={key: "A-1234"})
    assert solved.status_code == 200, solved.text
    assert solved.json()["custom_fields"] == {key: "A-1234"}


async def test_incidents_link_to_problem_cases_only(api: httpx.AsyncClient) -> None:
    problem = await create(api, type="problem", subject="Outage")
    question = await create(api, type="question")
    incident = await create(api, type="incident", problem_id=problem["id"])
    assert incident["problem_id"] == problem["id"]
    linked = (await api.get("/api/v1/cases", params={"problem_id": problem["id"]})).json()["items"]
    assert [case["id"] for case in linked] == [incident["id"]]
    not_a_problem = await create(api, type="incident")
    # The linked case is not a problem as it stands: a 409 naming the field.
    response = await patch(api, not_a_problem, problem_id=question["id"])
    assert response.status_code == 409
    assert problem_fields(response) == ["body.problem_id"]
    # A link for a case whose stored type is not an incident: its stored type refuses, a 409.
    linked_question = await patch(api, question, problem_id=problem["id"])
    assert linked_question.status_code == 409, linked_question.text
    assert linked_question.json()["type"].endswith("/state-conflict")
    assert problem_fields(linked_question) == ["body.problem_id"]
    # A body giving both a type other than incident (null clears it) and a link breaks its own
    # schema (if/then): a 422 naming the field.
    document = (await api.get("/openapi.json")).json()
    assert document["components"]["schemas"]["CaseChanges"]["then"] == {"properties": {"type": {"const": "incident"}}}
    for kind in (None, "question"):
        refused = await patch(api, question, type=kind, problem_id=problem["id"])
        assert refused.status_code == 422, (kind, refused.text)
        assert problem_fields(refused) == ["body.problem_id"]
    assert (await api.get(f"/api/v1/cases/{question['id']}")).json() == question


async def test_list_filters_search_sorts_and_pages_stably(api: httpx.AsyncClient) -> None:
    brand = f"brand-{uuid.uuid4().hex[:6]}"
    made = [
        await create(api, brand=brand, subject=f"Invoice {index} wrong", priority="high" if index % 2 else "low")
        for index in range(5)
    ]
    await create(api, brand=brand, subject="Shipping delayed", description="the parcel is stuck in customs")

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"brand": brand, "sort": "number", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/api/v1/cases", params=params)).json()
        seen += [case["id"] for case in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6
    assert seen[:5] == [case["id"] for case in made]

    high = (await api.get("/api/v1/cases", params={"brand": brand, "priority": "high"})).json()["items"]
    assert {case["subject"] for case in high} == {"Invoice 1 wrong", "Invoice 3 wrong"}
    found = (await api.get("/api/v1/cases", params={"brand": brand, "q": "customs parcels"})).json()["items"]
    assert [case["subject"] for case in found] == ["Shipping delayed"]
    newest = (await api.get("/api/v1/cases", params={"brand": brand, "sort": "-created_at", "limit": 1})).json()
    assert newest["items"][0]["subject"] == "Shipping delayed"

    garbage = await api.get("/api/v1/cases", params={"cursor": "garbage"})
    assert garbage.status_code == 422
    assert [error["field"] for error in garbage.json()["errors"]] == ["query.cursor"]
    # A cursor of the published shape is a position even if no page handed it out: past the
    # highest number there is nothing more (an empty last page), before the lowest is everything.
    past = f"{10**17}.{uuid.UUID(int=0).hex}"
    beyond = await api.get("/api/v1/cases", params={"brand": brand, "sort": "number", "cursor": past})
    assert beyond.status_code == 200
    assert beyond.json() == {"items": [], "next_cursor": None}
    before = await api.get("/api/v1/cases", params={"brand": brand, "sort": "number", "cursor": f"-1.{past[-32:]}"})
    assert len(before.json()["items"]) == 6
    assert (await api.get("/api/v1/cases", params={"status": "sleeping"})).status_code == 422
    assert (await api.get("/api/v1/cases", params={"limit": 0})).status_code == 422


async def test_bulk_update_applies_each_case_whole_or_not_at_all(api: httpx.AsyncClient) -> None:
    good = await create(api)
    other = await create(api)
    missing = str(uuid.uuid4())
    response = await api.post(
        "/api/v1/cases/bulk",
        json={
            "items": [
                {"case_id": good["id"], "changes": {"priority": "urgent", "add_tags": ["bulk"]}},
                # Valid priority but an invalid transition: the priority must not be applied either.
                {"case_id": other["id"], "changes": {"priority": "urgent", "status": "closed"}},
                {"case_id": missing, "changes": {"priority": "low"}},
                {"case_id": good["id"], "version": 1, "changes": {"priority": "low"}},
            ]
        },
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["status"] for result in results] == [200, 409, 404, 412]
    assert results[1]["problem"]["errors"][0]["field"] == "body.items.1.changes.status"
    assert results[3]["problem"]["type"].endswith("/precondition-failed")
    assert (await api.get(f"/api/v1/cases/{good['id']}")).json()["priority"] == "urgent"
    assert (await api.get(f"/api/v1/cases/{other['id']}")).json()["priority"] == "normal"

    too_many = await api.post("/api/v1/cases/bulk", json={"items": [{"case_id": good["id"], "changes": {}}] * 101})
    assert too_many.status_code == 422


async def test_merge_moves_messages_into_the_target_and_closes_the_source(
    api: httpx.AsyncClient, published: Published
) -> None:
    target = await create(api, description="first report")
    source = await create(api, description="duplicate report")
    response = await api.post(f"/api/v1/cases/{target['id']}/merge", json={"source_case_id": source["id"]})
    assert response.status_code == 200, response.text
    texts = [m["text"] for m in (await api.get(f"/api/v1/cases/{target['id']}/messages")).json()["items"]]
    assert texts[:2] == ["first report", "duplicate report"]
    assert f"#{source['number']}" in texts[2]
    merged = (await api.get(f"/api/v1/cases/{source['id']}")).json()
    assert merged["status"] == "closed"
    assert merged["merged_into"] == target["id"]
    assert "case.updated" in [kind for kind, _ in await published(source["id"])]

    again = await api.post(f"/api/v1/cases/{target['id']}/merge", json={"source_case_id": source["id"]})
    assert again.status_code == 409
    itself = await api.post(f"/api/v1/cases/{target['id']}/merge", json={"source_case_id": target["id"]})
    assert itself.status_code == 422


async def test_unknown_cases_are_404_problems(api: httpx.AsyncClient) -> None:
    unknown = uuid.uuid4()
    for response in [
        await api.get(f"/api/v1/cases/{unknown}"),
        await api.patch(f"/api/v1/cases/{unknown}", json={"priority": "low"}, headers={"If-Match": '"1"'}),
        await api.get(f"/api/v1/cases/{unknown}/history"),
        await api.get(f"/api/v1/cases/{unknown}/messages"),
    ]:
        assert response.status_code == 404
        assert response.json()["type"].endswith("/case-not-found")
    # A path that cannot hold a case id addresses nothing either.
    not_an_id = await api.get("/api/v1/cases/not-a-uuid")
    assert not_an_id.status_code == 404
    assert problem_fields(not_an_id) == ["path.case_id"]


async def test_openapi_documents_every_route_with_an_operation_id_and_examples(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/openapi.json")).json()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert all(op.get("operationId") for op in operations)
    assert "examples" in schema["components"]["schemas"]["CaseCreate"]
    assert (
        "multipart/form-data" in schema["paths"]["/api/v1/cases/{case_id}/messages"]["post"]["requestBody"]["content"]
    )


async def test_solving_a_problem_solves_its_incidents_that_can_be_solved(api: httpx.AsyncClient) -> None:
    key = f"root_{uuid.uuid4().hex[:6]}"
    field = {"key": key, "label": "Root cause", "type": "text", "required_on_solve": True}
    assert (await api.post("/api/v1/custom-fields", json=field)).status_code == 201
    problem = await create(api, type="problem", subject="Mail server down", custom_fields={key: "disk full"})
    ready = await create(api, type="incident", problem_id=problem["id"], custom_fields={key: "same"})
    blocked = await create(api, type="incident", problem_id=problem["id"])

    solved = await patch(api, problem, status="solved")
    assert solved.status_code == 200, solved.text
    assert (await api.get(f"/api/v1/cases/{ready['id']}")).json()["status"] == "solved"
    assert (await api.get(f"/api/v1/cases/{blocked['id']}")).json()["status"] == "new"
    history = (await api.get(f"/api/v1/cases/{ready['id']}/history")).json()["items"]
    assert history[-1]["field"] == "status"
    assert history[-1]["new"] == "solved"
