"""``omnicase openapi``: the merged document written without a running suite."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from omnicase.cli import main


def test_the_command_writes_every_service_operation_as_the_gateway_merges_them(tmp_path: Path) -> None:
    output = tmp_path / "nested" / "openapi.json"
    assert main(["openapi", "--output", str(output)]) == 0
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["info"]["title"] == "Omnicase API"
    assert "x-omnicase-missing-services" not in document
    paths = document["paths"]
    # The gateway's own, and one of each service's.
    assert {
        "/api/v1/auth/token",
        "/api/v1/cases",
        "/api/v1/mailboxes",
        "/public/forms/{form_id}/submissions",
        "/api/v1/agents",
        "/api/v1/sla/policies",
    } <= set(paths)
    limit = next(p for p in paths["/api/v1/cases"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 100, "the gateway's page cap, not the service's"


def test_writing_it_leaves_the_environment_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["openapi", "--output", str(tmp_path / "openapi.json")]) == 0
    assert "DATABASE_URL" not in os.environ


def _patterns(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return found.union(*(_patterns(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(value) for value in node))
    return set()


def test_a_published_pattern_that_takes_any_character_but_some_refuses_nul(tmp_path: Path) -> None:
    # Text PostgreSQL stores holds no NUL and every body refuses one; a pattern's own negated
    # class ([^/\s] of an allowed origin) let schemathesis send one the document allowed.
    output = tmp_path / "openapi.json"
    assert main(["openapi", "--output", str(output)]) == 0
    patterns = _patterns(json.loads(output.read_text(encoding="utf-8")))
    assert [pattern for pattern in patterns if "[^" in pattern and "\\u0000" not in pattern] == []
