"""Every bound in every service's document is one JSON Schema readers know (``minimum``, not ``ge``).

A client generator or validator ignores keywords it does not know: a bound published as
pydantic's ``ge``/``le`` is no bound to a frontend, which then sends what the service refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from omnicase.kit.service import discover_services, load_app_factory

PYDANTIC_BOUNDS = {"ge", "le", "gt", "lt"}


def _numeric_schemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            yield node
        for child in node.values():
            yield from _numeric_schemas(child)
    elif isinstance(node, list):
        for child in node:
            yield from _numeric_schemas(child)


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    with pytest.MonkeyPatch.context() as patch:
        # Building an app reads settings but connects to nothing.
        patch.setenv("DATABASE_URL", "postgresql://omnicase@127.0.0.1:1/omnicase")
        return {spec.name: load_app_factory(spec)().openapi() for spec in discover_services()}


def test_no_schema_publishes_pydantic_bound_names(documents: dict[str, dict[str, Any]]) -> None:
    raw = [
        (service, sorted(PYDANTIC_BOUNDS & schema.keys()))
        for service, document in documents.items()
        for schema in _numeric_schemas(document)
        if PYDANTIC_BOUNDS & schema.keys()
    ]
    assert raw == []


def test_an_optional_bounded_integer_publishes_its_bounds(documents: dict[str, dict[str, Any]]) -> None:
    # Null clears a group's offer timeout: the bounds sit on the integer branch beside null.
    timeout = documents["routing"]["components"]["schemas"]["GroupUpdate"]["properties"]["offer_timeout_seconds"]
    integer = next(branch for branch in timeout["anyOf"] if branch.get("type") == "integer")
    assert (integer["minimum"], integer["maximum"]) == (1, 3600)
    # A field that may only be left out, never null, is the integer alone.
    position = documents["case-core"]["components"]["schemas"]["MacroUpdate"]["properties"]["position"]
    assert (position["type"], position["minimum"], position["maximum"]) == ("integer", 0, 1_000_000)


def test_every_file_download_says_its_answer_is_binary(documents: dict[str, dict[str, Any]]) -> None:
    files = [
        (service, path, media_type, content.get("schema"))
        for service, document in documents.items()
        for path, item in document["paths"].items()
        for operation in item.values()
        for answer in operation.get("responses", {}).values()
        for media_type, content in answer.get("content", {}).items()
        if "json" not in media_type and not media_type.startswith("text/")
    ]
    assert len(files) >= 3, "attachments of cases and of form submissions, and a mail's source"
    assert {str(schema) for *_, schema in files} == {str({"type": "string", "format": "binary"})}, files
