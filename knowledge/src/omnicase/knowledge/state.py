"""What knowledge holds while it runs, built in one place at start: its text analyzer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from omnicase.kit.app import Runtime, state_of
from omnicase.kit.brands import BrandDirectory
from omnicase.knowledge.capture.desk import CaseDesk
from omnicase.knowledge.deflection.service import Links
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.search.embeddings import embedder_for
from omnicase.knowledge.search.repository import SearchRepository
from omnicase.knowledge.search.synonyms import SynonymCache
from omnicase.knowledge.settings import KnowledgeSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeState:
    # Loads its models on first use (search/analysis.py), so start-up stays light.
    analyzer: TextAnalyzer
    # The help center's links with their sealed tokens (deflection/service.py).
    links: Links
    # Cases as case-core knows them (capture/desk.py).
    desk: CaseDesk
    # case-core's brands: the slugs sections and articles may name, the help center's look.
    brands: BrandDirectory
    # The synonyms searches apply, per language, reloaded when they change (search/synonyms.py).
    synonyms: SynonymCache


KnowledgeRuntime = Runtime[KnowledgeSettings, KnowledgeState]


def new_state(
    settings: KnowledgeSettings, analyzer: TextAnalyzer | None = None, synonyms: SynonymCache | None = None
) -> KnowledgeState:
    """The state of a knowledge process (its models not loaded yet); its desk is closed at stop.

    ``analyzer`` and ``synonyms``: those the process's consumer shares (made here when not given)."""
    analyzer = analyzer or TextAnalyzer(settings.detect_languages, embedder_for(settings.embedding_model))
    return KnowledgeState(
        analyzer=analyzer,
        links=Links(settings.public_base_url, settings.sealer()),
        desk=CaseDesk(
            settings.case_core_url or settings.service_url("case-core"),
            settings.internal_secret,
            timeout_seconds=settings.case_core_timeout_seconds,
        ),
        brands=BrandDirectory.asked_by("knowledge", settings),
        synonyms=synonyms or SynonymCache(analyzer),
    )


def knowledge_state(
    analyzer: TextAnalyzer, synonyms: SynonymCache
) -> Callable[[Runtime[KnowledgeSettings, Any]], AbstractAsyncContextManager[KnowledgeState]]:
    """The app's state part, holding the ``analyzer`` and ``synonyms`` its consumer uses too."""

    @asynccontextmanager
    async def start(runtime: Runtime[KnowledgeSettings, Any]) -> AsyncIterator[KnowledgeState]:
        state = new_state(runtime.settings, analyzer, synonyms)
        warming = asyncio.create_task(_warm(runtime, state.analyzer))
        try:
            yield state
        finally:
            warming.cancel()
            await state.desk.aclose()
            await state.brands.aclose()

    return start


async def _warm(runtime: Runtime[KnowledgeSettings, Any], analyzer: TextAnalyzer) -> None:
    """Load at start the models of the languages the knowledge base is written in (a Korean model
    takes seconds to load), so the first question in one, a customer's mail whose auto-response
    waits for its suggestions, does not wait for it; a knowledge base without Korean still never
    holds the Korean model."""
    try:
        async with runtime.database.statements_alone() as session:
            languages = await SearchRepository(session).languages()
        await asyncio.to_thread(analyzer.warm, languages)
    except Exception as error:  # the first text in a language loads its model anyway
        logger.warning("language models not loaded at start", extra={"error": repr(error)})


def current_state(request: Request) -> KnowledgeState:
    return state_of(request, KnowledgeState)


StateDep = Annotated[KnowledgeState, Depends(current_state)]
