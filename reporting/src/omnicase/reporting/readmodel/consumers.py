"""The consumer of ``case.events``, ``sla.events``, ``swarm.events`` and ``knowledge.events`` that
keeps the read model."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Batch, BatchHandler, event_types
from omnicase.kit.events import (
    ArticleAnswered,
    CaseCreated,
    CaseMessageAdded,
    CaseSatisfactionRated,
    CaseSatisfactionSurveySent,
    CaseUpdated,
    SlaClocksStarted,
    SlaMilestonesUpdated,
    SwarmMemberJoined,
    SwarmMessagePosted,
    SwarmResolved,
    SwarmStarted,
)
from omnicase.reporting.readmodel.service import ReadModelService

ACCEPTS = event_types(
    ArticleAnswered,
    CaseCreated,
    CaseUpdated,
    CaseMessageAdded,
    CaseSatisfactionSurveySent,
    CaseSatisfactionRated,
    SlaClocksStarted,
    SlaMilestonesUpdated,
    SwarmMemberJoined,
    SwarmMessagePosted,
    SwarmResolved,
    SwarmStarted,
)


def read_model_handler(service: ReadModelService | None = None) -> BatchHandler:
    read_model = service or ReadModelService()

    async def handle(session: AsyncSession, batch: Batch) -> None:
        await read_model.apply(session, batch)

    return handle
