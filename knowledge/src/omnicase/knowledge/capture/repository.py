"""Every query of the links between articles and cases."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert

from omnicase.kit.pagination import Page
from omnicase.kit.repository import Repository
from omnicase.knowledge.capture.schemas import ArticleCase, CaseRelation
from omnicase.knowledge.models import article_cases


class ArticleCaseRepository(Repository):
    async def link(
        self,
        article_id: uuid.UUID,
        case_id: uuid.UUID,
        relation: CaseRelation,
        by: str,
        at: datetime,
        *,
        swarm_id: uuid.UUID | None = None,
    ) -> None:
        """Link the article to the case (once per relation), naming the swarm it was captured with."""
        values = {"relation": relation, "linked_by": by, "linked_at": at, "swarm_id": swarm_id}
        await self.session.execute(
            insert(article_cases).values(article_id=article_id, case_id=case_id, **values).on_conflict_do_nothing()
        )

    async def page(self, article_id: uuid.UUID, after: tuple[uuid.UUID, str] | None, limit: int) -> Page[ArticleCase]:
        query = (
            select(
                article_cases.c.case_id,
                article_cases.c.relation,
                article_cases.c.linked_by,
                article_cases.c.linked_at,
                article_cases.c.swarm_id,
            )
            .where(article_cases.c.article_id == article_id)
            .order_by(article_cases.c.case_id, article_cases.c.relation)
        )
        if after is not None:
            query = query.where(tuple_(article_cases.c.case_id, article_cases.c.relation) > tuple_(*after))
        return await self.paginate(
            Page[ArticleCase],
            query,
            limit,
            key=lambda row: [row.case_id, row.relation],
            item=lambda row: ArticleCase.model_validate(row._mapping),
        )
