"""One operationId convention for the merged document: ``verb_object`` in snake_case, unique across the suite.

A generated client turns operationIds into method names (``listCases``, ``createUser``), so
they read as a verb and what it acts on, carry no service prefix (which service serves a
route is the gateway's business), and never clash: a clash would make the gateway prefix
one with its service, a name a frontend team would not guess.
"""

from __future__ import annotations

import re

import pytest

from omnicase.kit.service import discover_services, load_app_factory

VERBS = {
    "accept", "add", "analyse", "apply", "archive", "attach", "bulk", "change", "count", "create", "decline", "delete",
    "download", "dry", "end", "export", "get", "issue", "list", "map", "merge", "post", "preflight", "preview",
    "promote", "receive", "recover", "redeliver", "remove", "replace", "reset", "revoke", "rotate", "search", "set",
    "show", "start", "submit", "test", "unmap", "update", "verify",
}  # fmt: skip
SNAKE_CASE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")


def _public_operations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str, str]]:
    """(service, operationId, method, path) of every route the gateway publishes, from each service's own app."""
    # Building an app reads settings but connects to nothing.
    monkeypatch.setenv("DATABASE_URL", "postgresql://omnicase@127.0.0.1:1/omnicase")
    operations = []
    for spec in discover_services():
        document = load_app_factory(spec)().openapi()
        for path, item in document["paths"].items():
            if path.startswith(("/api/", "/public/")):
                operations += [(spec.name, op["operationId"], method, path) for method, op in item.items()]
    return operations


def test_every_operation_id_is_a_verb_and_its_object(monkeypatch: pytest.MonkeyPatch) -> None:
    operations = _public_operations(monkeypatch)
    assert len({service for service, *_ in operations}) == len(discover_services()), "every service publishes routes"
    odd = [
        (service, operation_id, method, path)
        for service, operation_id, method, path in operations
        if not SNAKE_CASE.match(operation_id) or operation_id.split("_")[0] not in VERBS
    ]
    assert odd == []


def test_no_two_routes_of_the_suite_share_an_operation_id(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, tuple[str, str, str]] = {}
    clashes = []
    for service, operation_id, method, path in _public_operations(monkeypatch):
        if operation_id in seen:
            clashes.append((operation_id, seen[operation_id], (service, method, path)))
        seen[operation_id] = (service, method, path)
    assert clashes == []


def test_the_operations_routes_the_merged_document_shows_follow_it_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://omnicase@127.0.0.1:1/omnicase")
    gateway = next(spec for spec in discover_services() if spec.name == "gateway")
    paths = load_app_factory(gateway)().openapi()["paths"]
    operation_ids = [op["operationId"] for path in ("/healthz", "/readyz", "/metrics") for op in paths[path].values()]
    assert operation_ids == ["get_health", "get_readiness", "get_metrics"]
