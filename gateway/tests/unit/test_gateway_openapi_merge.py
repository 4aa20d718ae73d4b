"""Merging the services' OpenAPI documents into the suite's one document."""

from __future__ import annotations

from typing import Any

from omnicase.gateway.openapi import merge

OWN: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Omnicase gateway", "version": "0.1.0"},
    "paths": {
        "/api/v1/auth/token": {"post": {"operationId": "issue_token", "responses": {"200": {"description": "ok"}}}},
        "/api/v1/users": {"get": {"operationId": "list_users", "responses": {"200": {"description": "ok"}}}},
    },
    "components": {"schemas": {"Agent": {"type": "object", "title": "gateway's"}}},
}


def service_doc(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "svc", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def op(operation_id: str, ref: str | None = None, **extra: Any) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}} if ref else {}
    return {"operationId": operation_id, "responses": {"200": {"description": "ok", "content": content}}, **extra}


def test_only_paths_a_service_owns_at_the_gateway_are_taken() -> None:
    routing = service_doc(
        {"/api/v1/agents": {"get": op("agents_list")}, "/api/v1/cases": {"get": op("sneaky")}, "/healthz": {}},
        {},
    )
    merged = merge(OWN, {"routing": routing}, [])
    assert "/api/v1/agents" in merged["paths"]
    assert "/api/v1/cases" not in merged["paths"]
    assert "/healthz" not in merged["paths"]


def test_a_clashing_schema_name_is_prefixed_and_its_references_follow() -> None:
    routing = service_doc(
        {"/api/v1/agents": {"get": op("agents_list", "Agent")}}, {"Agent": {"type": "object", "title": "routing's"}}
    )
    merged = merge(OWN, {"routing": routing}, [])
    schemas = merged["components"]["schemas"]
    assert schemas["Agent"]["title"] == "gateway's"
    assert schemas["RoutingAgent"]["title"] == "routing's"
    ref = merged["paths"]["/api/v1/agents"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ref == {"$ref": "#/components/schemas/RoutingAgent"}


def test_a_clashing_operation_id_is_prefixed_with_the_service() -> None:
    routing = service_doc({"/api/v1/agents": {"get": op("list_users")}}, {})
    merged = merge(OWN, {"routing": routing}, [])
    assert merged["paths"]["/api/v1/agents"]["get"]["operationId"] == "routing_list_users"


def test_security_and_common_problems_are_declared_where_they_apply() -> None:
    intake = service_doc({"/public/forms/{slug}/submissions": {"post": op("forms_submit")}}, {})
    merged = merge(OWN, {"intake-web": intake}, [])
    assert set(merged["components"]["securitySchemes"]) == {"oauth2", "apiToken"}
    users = merged["paths"]["/api/v1/users"]["get"]
    assert users["security"] == [{"oauth2": []}, {"apiToken": []}]
    assert {"401", "403", "429"} <= set(users["responses"])
    token = merged["paths"]["/api/v1/auth/token"]["post"]
    assert token["security"] == []
    public = merged["paths"]["/public/forms/{slug}/submissions"]["post"]
    assert public["security"] == []
    assert "401" not in public["responses"]
    assert {"429", "503"} <= set(public["responses"])


def test_headers_the_gateway_sets_are_not_offered_to_clients() -> None:
    parameters = [
        {"name": "X-Omnicase-User", "in": "header", "schema": {"type": "string"}},
        {"name": "status", "in": "query", "schema": {"type": "string"}},
    ]
    core = service_doc({"/api/v1/cases": {"get": op("cases_list", parameters=parameters)}}, {})
    merged = merge(OWN, {"case-core": core}, [])
    assert [p["name"] for p in merged["paths"]["/api/v1/cases"]["get"]["parameters"]] == ["status"]


def test_fastapi_422_is_documented_as_the_problem_it_really_is() -> None:
    operation = op("cases_list")
    operation["responses"]["422"] = {
        "description": "Validation Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
    }
    core = service_doc({"/api/v1/cases": {"get": operation}}, {"HTTPValidationError": {"type": "object"}})
    merged = merge(OWN, {"case-core": core}, [])
    assert merged["paths"]["/api/v1/cases"]["get"]["responses"]["422"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert "HTTPValidationError" not in merged["components"]["schemas"]


def test_services_that_did_not_answer_are_named() -> None:
    merged = merge(OWN, {}, ["sla-engine"])
    assert merged["x-omnicase-missing-services"] == ["sla-engine"]


def test_a_list_limit_says_the_gateway_page_cap_where_it_is_lower() -> None:
    def listing(maximum: int) -> dict[str, Any]:
        limit = {"type": "integer", "minimum": 1, "maximum": maximum, "default": 50}
        parameter = {"name": "limit", "in": "query", "schema": limit, "description": f"at most {maximum}"}
        return op("list_things", parameters=[parameter])

    core = service_doc({"/api/v1/cases": {"get": listing(200)}, "/api/v1/views": {"get": listing(20)}}, {})
    merged = merge(OWN, {"case-core": core}, [], max_page_size=100)
    [capped] = merged["paths"]["/api/v1/cases"]["get"]["parameters"]
    assert capped["schema"] == {
        "type": "integer", "minimum": 1, "maximum": 100, "default": 50, "description": "Items per page, at most 100."
    }  # fmt: skip
    assert capped["description"] == "Items per page, at most 100."
    [own_cap] = merged["paths"]["/api/v1/views"]["get"]["parameters"]
    assert own_cap["schema"]["maximum"] == 20


def test_a_create_links_its_new_id_to_every_operation_on_what_it_created() -> None:
    created = {
        "201": {
            "description": "created",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}},
        }
    }
    case_core = service_doc(
        {
            "/api/v1/cases": {"post": {"operationId": "create_case", "responses": created}, "get": op("list_cases")},
            "/api/v1/cases/{case_id}": {"get": op("get_case"), "patch": op("update_case")},
            "/api/v1/cases/{case_id}/messages": {"post": op("add_message")},
            "/api/v1/cases/{case_id}/messages/{message_id}": {"get": op("get_message")},
            "/api/v1/cases/bulk": {"post": op("bulk_update_cases")},
        },
        {"Case": {"type": "object", "properties": {"id": {"type": "string"}, "subject": {"type": "string"}}}},
    )
    sla_engine = service_doc(
        {
            "/api/v1/business-hours/{schedule_id}/holidays": {
                "post": {"operationId": "add_holiday", "responses": created}
            },
            "/api/v1/business-hours/{schedule_id}/holidays/{holiday_id}": {"delete": op("remove_holiday")},
        },
        {"Case": {"type": "object", "properties": {"id": {"type": "string"}}}},
    )
    merged = merge(OWN, {"case-core": case_core, "sla-engine": sla_engine}, [])
    links = merged["paths"]["/api/v1/cases"]["post"]["responses"]["201"]["links"]
    assert sorted(links) == ["add_message", "get_case", "update_case"]
    assert links["get_case"] == {"operationId": "get_case", "parameters": {"case_id": "$response.body#/id"}}
    holidays = merged["paths"]["/api/v1/business-hours/{schedule_id}/holidays"]["post"]["responses"]["201"]["links"]
    assert holidays["remove_holiday"]["parameters"] == {
        "schedule_id": "$request.path.schedule_id",
        "holiday_id": "$response.body#/id",
    }
    # A nested create that answers the resource it is nested in (adding a note answers the case)
    # has the parent's id in its body, not the new thing's: it links nothing.
    parent_answer = {
        "201": {
            "description": "the case",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}},
        }
    }
    case_core["paths"]["/api/v1/cases/{case_id}/notes"] = {
        "post": {"operationId": "add_note", "responses": parent_answer}
    }
    case_core["paths"]["/api/v1/cases/{case_id}/notes/{note_id}"] = {"delete": op("delete_note")}
    case_core["paths"]["/api/v1/cases/{case_id}"]["get"] = op("get_case", "Case")
    merged = merge(OWN, {"case-core": case_core, "sla-engine": sla_engine}, [])
    assert "links" not in merged["paths"]["/api/v1/cases/{case_id}/notes"]["post"]["responses"]["201"]
    nested = merged["paths"]["/api/v1/cases/{case_id}/messages"]["post"]
    assert "links" not in nested["responses"]["200"]  # answers 200 here: not a create
    # Nothing to link from an answer without an id, nor from a list.
    assert "links" not in merged["paths"]["/api/v1/cases"]["get"]["responses"]["200"]
