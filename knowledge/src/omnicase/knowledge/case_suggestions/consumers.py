"""knowledge's consumer of case.events: suggestions stored for each new case."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Batch, BatchHandler, event_types
from omnicase.kit.events import CaseCreated
from omnicase.knowledge.case_suggestions.service import CaseSuggestionService
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.search.synonyms import SynonymCache

ACCEPTS = event_types(CaseCreated)


def case_events_handler(analyzer: TextAnalyzer, synonyms: SynonymCache) -> BatchHandler:
    """The batch handler of knowledge's consumer group on case.events."""
    service = CaseSuggestionService(analyzer, synonyms)

    async def handle(session: AsyncSession, batch: Batch) -> None:
        created: list[CaseCreated] = []
        for received in batch:
            match received.data:
                case CaseCreated() as data:
                    created.append(data)
                case _:
                    pass
        await service.on_created(session, created)

    return handle
