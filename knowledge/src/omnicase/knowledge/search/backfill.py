"""The background part that gives vectors to translations written while no model was configured
(search/embeddings.py): a knowledge base that turns the semantic half on is found by meaning as
this catches up, a few translations at a time, in any number of replicas (rows locked, skipped by
the others)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from omnicase.kit.app import Runtime, Stop
from omnicase.kit.periodic import periodic
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.search.repository import SearchRepository
from omnicase.knowledge.settings import KnowledgeSettings

logger = logging.getLogger(__name__)

# Each batch holds its rows' locks while it embeds (tens of milliseconds a translation), so it is
# short; a full batch means more are waiting and the next starts at once.
BATCH = 8
EVERY_SECONDS = 5.0


def embeddings_backfill(analyzer: TextAnalyzer) -> Callable[[Runtime[KnowledgeSettings, Any]], Awaitable[Stop | None]]:
    async def start(runtime: Runtime[KnowledgeSettings, Any]) -> Stop | None:
        embedder = analyzer.embedder
        if embedder is None:
            return None

        async def fill() -> int:
            async with runtime.database.unit_of_work() as session:
                repository = SearchRepository(session)
                waiting = await repository.unembedded(BATCH)
                meanings = await asyncio.to_thread(
                    lambda: [embedder.passage(row.title, row.body_text) for row in waiting]
                )
                for row, meaning in zip(waiting, meanings, strict=True):
                    await repository.embed(row.article_id, row.locale, meaning)
            if waiting:
                logger.info("translations embedded", extra={"count": len(waiting), "model": embedder.model})
            return len(waiting)

        loop = periodic("embedding-backfill", EVERY_SECONDS, fill, busy=lambda count: count >= BATCH)
        return loop.stop

    return start
