"""The suite's merged OpenAPI document without running it, for the generated clients (``omnicase openapi``).

Every installed service's app is built (which reads settings and connects to nothing) and
asked for its own document; the gateway's merge joins them as the running gateway does at
``/openapi.json``. ``tests/test_e2e_typescript_client.py`` holds the two to the same
result: the TypeScript types generated from this document must equal those generated from
the live suite's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from omnicase.kit.service import discover_services, load_app_factory

GATEWAY = "gateway"
# Building an app validates its settings; a URL that is never dialled satisfies them.
_PLACEHOLDER_DATABASE_URL = "postgresql://omnicase@127.0.0.1:1/omnicase"


def merged_document() -> dict[str, Any]:
    """``GET /openapi.json`` of a suite whose services all answer."""
    from omnicase.gateway.openapi import merge

    placeholder = "DATABASE_URL" not in os.environ
    if placeholder:
        os.environ["DATABASE_URL"] = _PLACEHOLDER_DATABASE_URL
    try:
        apps = {spec.name: load_app_factory(spec)() for spec in discover_services()}
    finally:
        if placeholder:
            del os.environ["DATABASE_URL"]
    gateway = apps.pop(GATEWAY)
    documents = {name: app.openapi() for name, app in apps.items()}
    return merge(gateway.openapi(), documents, missing=[], max_page_size=gateway.state.settings.max_page_size)


def write(path: Path) -> None:
    """Write the document as the gateway serves it (same key order), for generators to read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged_document(), ensure_ascii=False), encoding="utf-8")
