"""Solved cases whose text is like a case's, from the case projection, with who solved them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Text, cast, func, literal, select
from sqlalchemy.dialects.postgresql import REGCONFIG

from omnicase.collaboration.models import cases
from omnicase.kit.repository import Repository

# PostgreSQL's stemmed text search configurations by language code; any other language is cut
# into words as they are ("simple").
TEXT_SEARCH_CONFIG = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "hu": "hungarian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nl": "dutch", "no": "norwegian", "nb": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sv": "swedish", "tr": "turkish",
}  # fmt: skip


def text_config(language: str | None) -> str:
    return TEXT_SEARCH_CONFIG.get((language or "").split("-")[0].lower(), "simple")


@dataclass(frozen=True)
class SimilarCase:
    case_id: uuid.UUID
    number: int
    subject: str
    solved_by: uuid.UUID
    score: float


class ExpertRepository(Repository):
    async def similar_solved(
        self, case_id: uuid.UUID, words: str, language: str | None, limit: int = 50
    ) -> list[SimilarCase]:
        """Cases solved by someone, in ``language``, sharing words with ``words`` (any of them), best first."""
        config = text_config(language)
        regconfig = cast(literal(config), REGCONFIG)
        # Any of the words (OR), not all of them: plainto_tsquery's terms with & turned into |.
        anded = func.plainto_tsquery(regconfig, words)
        query_ts = func.to_tsquery(regconfig, func.replace(cast(anded, Text), "&", "|"))
        document = func.to_tsvector(regconfig, cases.c.subject + " " + cases.c.description)
        score = func.ts_rank(document, query_ts)
        statement = (
            select(cases.c.id, cases.c.number, cases.c.subject, cases.c.solved_by, score.label("score"))
            .where(
                cases.c.solved_by.is_not(None),
                cases.c.id != case_id,
                cases.c.language.is_not_distinct_from(language),
                document.op("@@")(query_ts),
            )
            .order_by(score.desc(), cases.c.id)
            .limit(limit)
        )
        rows = (await self.session.execute(statement)).all()
        return [SimilarCase(row.id, row.number, row.subject, row.solved_by, float(row.score)) for row in rows]
