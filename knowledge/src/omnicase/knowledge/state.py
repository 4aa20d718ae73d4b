"""What knowledge holds while it runs, built in one place at start: its text analyzer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from omnicase.kit.app import Runtime, state_of
from omnicase.knowledge.capture.desk import CaseDesk
from omnicase.knowledge.deflection.service import Links
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.settings import KnowledgeSettings


@dataclass(frozen=True)
class KnowledgeState:
    # Loads its models on first use (search/analysis.py), so start-up stays light.
    analyzer: TextAnalyzer
    # The help center's links with their sealed tokens (deflection/service.py).
    links: Links
    # Cases as case-core knows them (capture/desk.py).
    desk: CaseDesk


KnowledgeRuntime = Runtime[KnowledgeSettings, KnowledgeState]


@asynccontextmanager
async def knowledge_state(runtime: Runtime[KnowledgeSettings, Any]) -> AsyncIterator[KnowledgeState]:
    settings = runtime.settings
    desk = CaseDesk(
        settings.case_core_url or settings.service_url("case-core"),
        settings.internal_secret,
        timeout_seconds=settings.case_core_timeout_seconds,
    )
    try:
        yield KnowledgeState(
            analyzer=TextAnalyzer(settings.detect_languages),
            links=Links(settings.public_base_url, settings.sealer()),
            desk=desk,
        )
    finally:
        await desk.aclose()


def current_state(request: Request) -> KnowledgeState:
    return state_of(request, KnowledgeState)


StateDep = Annotated[KnowledgeState, Depends(current_state)]
