"""Every JSON answer a route publishes says what it holds, so a generated client can type it.

An empty schema (FastAPI's default for a route that returns a ``Response`` of its own and
declares no ``response_model``) is ``unknown`` in the TypeScript client: a frontend would
have to cast, and a change to the answer would break no build.
"""

from __future__ import annotations

import pytest

from omnicase.kit.service import discover_services, load_app_factory


def test_every_json_success_answer_has_a_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    # Building an app reads settings but connects to nothing.
    monkeypatch.setenv("DATABASE_URL", "postgresql://omnicase@127.0.0.1:1/omnicase")
    untyped = []
    for spec in discover_services():
        document = load_app_factory(spec)().openapi()
        for path, item in document["paths"].items():
            if not path.startswith(("/api/", "/public/")):
                continue
            for method, operation in item.items():
                for status, response in operation["responses"].items():
                    json_answer = response.get("content", {}).get("application/json")
                    if status.startswith("2") and json_answer is not None and not json_answer.get("schema"):
                        untyped.append((spec.name, operation["operationId"], method, path, status))
    assert untyped == []
