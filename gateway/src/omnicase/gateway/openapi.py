"""One OpenAPI 3.1 document for the whole suite, served at ``/openapi.json`` (``/docs`` renders it).

Built from the gateway's own operations plus each service's ``/openapi.json``,
keeping only the paths that service owns at the gateway (``routes.py``), so
the document shows exactly what a client can call here. Along the way:

- schema names two services both define differently are prefixed with the
  service (``RoutingAgent``) and their ``$ref``s rewritten, so nothing is
  silently replaced; a clashing operationId is prefixed the same way;
- parameters the gateway sets itself (``X-Omnicase-*``) are removed;
- every ``/api/v1`` operation gets the security schemes (OAuth2 password flow
  with the scopes, and bearer API tokens) and the 401, 403 and 429 problems;
  ``/public`` operations are marked unauthenticated;
- a list's ``limit`` says the gateway's page cap (``max_page_size``) where that
  is below the service's own, since the gateway refuses more before proxying.

A service that does not answer leaves its operations out and is named in
``x-omnicase-missing-services``; such a document is cached briefly only.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import time
from typing import Any

import httpx

from omnicase.gateway.identity.principal import SCOPES
from omnicase.gateway.routes import owner_of
from omnicase.kit.app import HTTP_METHODS, operations_of, rename_schemas
from omnicase.kit.errors import PROBLEM_MEDIA_TYPE
from omnicase.kit.pagination import PAGINATION

logger = logging.getLogger(__name__)

UNAUTHENTICATED_OPERATIONS = {"issue_token", "revoke_token"}
MISSING_RETRY_SECONDS = 5.0
SECURITY_SCHEMES = {
    "oauth2": {
        "type": "oauth2",
        "description": "People: log in with email and password; send the access token as a bearer token.",
        "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "refreshUrl": "/api/v1/auth/token", "scopes": SCOPES}},
    },
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "Integrations: an API token (`oct_…`) created by an admin, limited to its scopes.",
    },
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_UNAVAILABLE = {
    "description": "The owning service is unreachable or did not answer in time; nothing was retried.",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
}
_VALIDATION_PROBLEM = {
    "description": "The request is not valid; `errors` names each field.",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
}
_COMMON_PROBLEMS = {
    "401": "Missing, invalid, expired or revoked bearer token.",
    "403": "The role or the token's scopes do not allow this.",
    "429": "Rate limit exceeded; see Retry-After.",
}


def _pascal(service: str) -> str:
    return "".join(part.capitalize() for part in service.replace("_", "-").split("-"))


def merge(
    own: dict[str, Any],
    services: dict[str, dict[str, Any]],
    missing: list[str],
    *,
    max_page_size: int | None = None,
) -> dict[str, Any]:
    """The suite's document: ``own`` (the gateway's) plus the owned paths of each service's document."""
    merged = copy.deepcopy(own)
    merged["openapi"] = "3.1.0"
    merged["info"] = {
        "title": "Omnicase API",
        "version": own.get("info", {}).get("version", "0.1.0"),
        "description": (
            "Every Omnicase service behind one gateway. Errors are RFC 9457 problem+json; lists use "
            f"{PAGINATION}; timestamps are RFC 3339 UTC."
        ),
    }
    components = merged.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    tags = {tag["name"]: tag for tag in merged.get("tags", [])}
    operation_ids = {op.get("operationId") for _, _, op in operations_of(merged)}
    for service, document in sorted(services.items()):
        owned = {path: item for path, item in document.get("paths", {}).items() if owner_of(path) == service}
        if not owned:
            continue
        theirs = document.get("components", {}).get("schemas", {})
        renames = {
            name: f"{_pascal(service)}{name}"
            for name, schema in theirs.items()
            if name in schemas and schemas[name] != schema
        }
        document = rename_schemas({"paths": owned, "components": {"schemas": theirs}}, renames)
        for name, schema in document["components"]["schemas"].items():
            schemas.setdefault(name, schema)
        for path, item in document["paths"].items():
            merged.setdefault("paths", {})[path] = item
            for method in HTTP_METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict):
                    continue
                operation_id = operation.get("operationId") or f"{method}_{path}"
                if operation_id in operation_ids:
                    operation_id = f"{service.replace('-', '_')}_{operation_id}"
                operation["operationId"] = operation_id
                operation_ids.add(operation_id)
                operation.setdefault("responses", {}).setdefault("503", _UNAVAILABLE)
                for tag in operation.get("tags", []):
                    tags.setdefault(tag, {"name": tag})
    for tag in (t for d in services.values() for t in d.get("tags", []) or []):
        if tag.get("name") in tags and "description" in tag:
            tags[tag["name"]].setdefault("description", tag["description"])
    merged["tags"] = sorted(tags.values(), key=lambda tag: tag["name"])
    components["securitySchemes"] = SECURITY_SCHEMES
    _conventions(merged)
    _link_created_ids(merged)
    if max_page_size is not None:
        _cap_page_size(merged, max_page_size)
    _secure(merged)
    if missing:
        merged["x-omnicase-missing-services"] = sorted(missing)
    return merged


def _uses_fastapi_validation_error(response: dict[str, Any]) -> bool:
    return "HTTPValidationError" in json.dumps(response)


def _conventions(document: dict[str, Any]) -> None:
    """Say what the suite really answers: problem+json for every 422, plain text for metrics."""
    for path, _, operation in operations_of(document):
        responses = operation.get("responses", {})
        if "422" in responses and _uses_fastapi_validation_error(responses["422"]):
            responses["422"] = _VALIDATION_PROBLEM
        if path == "/metrics" and "200" in responses:
            responses["200"] = {
                "description": "Prometheus text exposition format.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
    schemas = document.get("components", {}).get("schemas", {})
    if "HTTPValidationError" in schemas and '"#/components/schemas/HTTPValidationError"' not in json.dumps(
        document.get("paths", {})
    ):
        schemas.pop("HTTPValidationError")
        if '"#/components/schemas/ValidationError"' not in json.dumps(document):
            schemas.pop("ValidationError", None)


_PATH_PARAMETER = re.compile(r"\{([^}]+)\}")


def _link_created_ids(document: dict[str, Any]) -> None:
    """A create's answer links to every operation on what it created, its id as their path parameter.

    ``POST /api/v1/cases`` answers a case whose ``id`` is the ``{case_id}`` of
    ``GET /api/v1/cases/{case_id}``, ``POST /api/v1/cases/{case_id}/messages`` …: OpenAPI links
    say so, for clients and for stateful testing that chains a created id into the next call.
    """
    paths: dict[str, dict[str, Any]] = document.get("paths", {})
    schemas = document.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        create = item.get("post")
        answer = _created_answer(create, schemas) if isinstance(create, dict) else None
        if answer is None or _answers_the_parent(path, answer, paths):
            continue
        # A nested collection's own parameters (``{schedule_id}`` of its holidays) pass on as they were sent.
        passed = {name: f"$request.path.{name}" for name in _PATH_PARAMETER.findall(path)}
        links: dict[str, Any] = {}
        for target_path, target in paths.items():
            parameter = _only_parameter_after(path, target_path)
            if parameter is None:
                continue
            for method, operation in target.items():
                if method in HTTP_METHODS and isinstance(operation, dict) and "operationId" in operation:
                    links[operation["operationId"]] = {
                        "operationId": operation["operationId"],
                        "parameters": {**passed, parameter: "$response.body#/id"},
                    }
        if links:
            answer["links"] = links


def _created_answer(operation: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any] | None:
    """The 201 answer of a create whose body has an ``id``, if ``operation`` is one."""
    answer = operation.get("responses", {}).get("201")
    schema = (answer or {}).get("content", {}).get("application/json", {}).get("schema", {})
    reference = schema.get("$ref", "")
    if reference.startswith("#/components/schemas/"):
        schema = schemas.get(reference.removeprefix("#/components/schemas/"), {})
    return answer if "id" in schema.get("properties", {}) else None


def _answers_the_parent(path: str, answer: dict[str, Any], paths: dict[str, dict[str, Any]]) -> bool:
    """Whether a nested create answers the resource it is nested in (adding a holiday answers its
    schedule): the ``id`` in its body is then the parent's, not the created thing's, and links none."""
    parent = paths.get(path.rpartition("/")[0], {}).get("get", {})
    shown = parent.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    created = answer.get("content", {}).get("application/json", {}).get("schema")
    return "{" in path and created is not None and created == shown.get("schema")


def _only_parameter_after(collection: str, path: str) -> str | None:
    """``case_id`` for ``/api/v1/cases`` and ``/api/v1/cases/{case_id}[/…]`` when it is the path's one parameter."""
    rest = path.removeprefix(collection + "/")
    if rest == path or not rest.startswith("{"):
        return None
    parameter, _, tail = rest[1:].partition("}")
    return parameter if "{" not in tail else None


def _cap_page_size(document: dict[str, Any], cap: int) -> None:
    for _, _, operation in operations_of(document):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter.get("in") != "query" or parameter.get("name") != "limit" or schema.get("maximum", cap) <= cap:
                continue
            schema["maximum"] = cap
            if schema.get("default", 0) > cap:
                schema["default"] = cap
            parameter["description"] = schema["description"] = f"Items per page, at most {cap}."


def _secure(document: dict[str, Any]) -> None:
    for path, _, operation in operations_of(document):
        parameters = [
            parameter
            for parameter in operation.get("parameters", [])
            if not (
                parameter.get("in") == "header" and str(parameter.get("name", "")).lower().startswith("x-omnicase-")
            )
        ]
        if "parameters" in operation:
            operation["parameters"] = parameters
        responses = operation.setdefault("responses", {})
        public = path.startswith("/public/") or operation.get("operationId") in UNAUTHENTICATED_OPERATIONS
        if not path.startswith(("/api/", "/public/")):
            continue
        if public:
            operation["security"] = []
        else:
            operation["security"] = [{"oauth2": []}, {"apiToken": []}]
        for status, description in _COMMON_PROBLEMS.items():
            if public and status != "429":
                continue
            responses.setdefault(
                status, {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}}
            )


class MergedSpec:
    """Fetches the services' documents and caches the merge for ``ttl`` seconds."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        service_urls: dict[str, str],
        ttl: float,
        timeout: float,
        max_page_size: int | None = None,
    ) -> None:
        self.client = client
        self.service_urls = service_urls
        self.ttl = ttl
        self.timeout = timeout
        self.max_page_size = max_page_size
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def document(self, own: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            if self._cached is not None and self._cached[0] > time.monotonic():
                return self._cached[1]
            names = sorted(self.service_urls)
            fetched = await asyncio.gather(*(self._fetch(name) for name in names))
            services = {name: doc for name, doc in zip(names, fetched, strict=True) if doc is not None}
            missing = [name for name, doc in zip(names, fetched, strict=True) if doc is None]
            document = merge(own, services, missing, max_page_size=self.max_page_size)
            ttl = min(self.ttl, MISSING_RETRY_SECONDS) if missing else self.ttl
            self._cached = (time.monotonic() + ttl, document)
            return document

    async def _fetch(self, service: str) -> dict[str, Any] | None:
        url = self.service_urls[service].rstrip("/") + "/openapi.json"
        try:
            response = await self.client.get(url, timeout=self.timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("service OpenAPI unavailable", extra={"upstream": service, "error": repr(error)})
            return None
        return document if isinstance(document, dict) else None
