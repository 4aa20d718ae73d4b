"""How like a case's text other cases' texts are, by PostgreSQL's text search: on the terms knowledge cut
them into (its Korean and Chinese tokenisation, its stemming), or in the language's own configuration
when knowledge cannot answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Text, Uuid, bindparam, cast, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, REGCONFIG

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
class Similarity:
    case_id: uuid.UUID
    score: float


class ExpertRepository(Repository):
    async def similarity(self, words: str, config: str, texts: dict[uuid.UUID, str]) -> list[Similarity]:
        """Each of ``texts`` sharing a word with ``words`` (any of them) in the text search configuration
        ``config``, with its ``ts_rank``, best first (no table: the texts are case-core's, read now)."""
        if not texts or not words.strip():
            return []
        regconfig = cast(literal(config), REGCONFIG)
        # Any of the words (OR), not all of them: plainto_tsquery's terms with & turned into |.
        anded = func.plainto_tsquery(regconfig, words)
        query_ts = func.to_tsquery(regconfig, func.replace(cast(anded, Text), "&", "|"))
        ids = bindparam("ids", list(texts), type_=ARRAY(Uuid))
        given = (
            func.unnest(ids, bindparam("texts", list(texts.values()), type_=ARRAY(Text)))
            .table_valued("id", "text")
            .render_derived(name="given")
        )
        document = func.to_tsvector(regconfig, given.c.text)
        score = func.ts_rank(document, query_ts)
        statement = (
            select(given.c.id, score.label("score"))
            .where(document.op("@@")(query_ts))
            .order_by(score.desc(), given.c.id)
        )
        rows = (await self.session.execute(statement)).all()
        return [Similarity(row.id, float(row.score)) for row in rows]
