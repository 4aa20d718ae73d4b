"""The search query: translations ranked by the query's terms (tsvector), rare terms above common ones."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from functools import reduce
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Float,
    Select,
    Text,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.dialects.postgresql import REGCLASS, REGCONFIG, TSQUERY

from omnicase.kit.db import any_of
from omnicase.kit.repository import Repository
from omnicase.knowledge.articles.schemas import TranslationStatus
from omnicase.knowledge.models import search_terms, translations, vector_value
from omnicase.knowledge.search.analysis import Terms
from omnicase.knowledge.search.embeddings import Embedding
from omnicase.knowledge.search.synonyms import SYNONYM_WEIGHT, Thesaurus

# A term found in the title counts 1, in the body 0.5 (both: 1.5); a title of many terms counts
# less than a short one (BM25's length normalisation, for titles: k1 1.2, b 0.75, around 4 terms).
TITLE_WEIGHT = 1.0
BODY_WEIGHT = 0.5
TITLE_K1 = 1.2
TITLE_B = 0.75
TITLE_TERMS = 4.0
# PostgreSQL's rank (how often and how close the terms are) beside the terms' weights (each 0 to 1).
TEXT_RANK = 0.3
# Candidates: the translations holding the query's rarest terms, as long as those terms are held
# by at most this many translations together (see SearchRepository.search).
CANDIDATES = 1000
# When every term is common: at most this many translations holding them all are ranked.
COMMON_CANDIDATES = 500
# A word no translation holds is read as the terms closest to it by trigrams (a typo, a partial
# word), at most this many, each at least this similar and weighed by its similarity.
CLOSE_TERMS = 3
CLOSE_SIMILARITY = 0.5
CLOSE_MIN_LENGTH = 5
# The semantic half (search/embeddings.py): a translation at least this alike to the question
# (cosine) may be found without a word in common. multilingual-e5's similarities are bunched: the
# answering article of each question of the relevance set (relevance.py) scores 0.833 to 0.93
# (median 0.89), the best other article 0.87 at the median, questions about nothing in the set
# ("who won the match", small talk) 0.79 to 0.86; so this drops most of those, not all.
MIN_SIMILARITY = 0.83


@dataclass(frozen=True)
class SearchQuery:
    text: str
    # Each part is a configuration and its words; a translation matching any word of any part is found.
    parts: list[Terms]
    brand: str | None
    locale: str | None
    language: str | None
    # The public's searches and the customers' suggestions: published translations of exactly one
    # brand (``brand`` None: the default brand), where agents' searches take None as every brand.
    public: bool = False
    # The synonyms of each language the query is read in, with its words as that language cuts them.
    synonyms: tuple[tuple[Thesaurus, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class HitRow:
    article_id: uuid.UUID
    locale: str
    title: str
    status: TranslationStatus
    body_text: str
    score: float
    query_text: str


@dataclass(frozen=True)
class Unembedded:
    """A translation the backfill gives a vector: its key and the texts the vector is made of."""

    article_id: uuid.UUID
    locale: str
    title: str
    body_text: str


@dataclass(frozen=True)
class QueryTerm:
    """A lexeme searched for, how many translations hold it, and how much it weighs (0 to 1: a close term)."""

    lexeme: str
    translations: int
    closeness: float = 1.0


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery(lexemes: list[str], operator: str = " | ", weight: str = "") -> ColumnElement[Any]:
    """A tsquery of lexemes as they are (already normalised: no configuration parses them again)."""
    return cast(literal(operator.join(_quoted(lexeme) + weight for lexeme in lexemes)), TSQUERY)


def _query_vector(parts: list[Terms]) -> ColumnElement[Any]:
    vectors = [func.to_tsvector(cast(literal(part.config), REGCONFIG), literal(part.text)) for part in parts]
    return reduce(lambda left, right: left.op("||")(right), vectors)


# PostgreSQL's catalogue: the planner's estimate of the translations (for inverse document frequencies).
pg_class = table("pg_class", column("oid"), column("reltuples", Float), schema="pg_catalog")


class SearchRepository(Repository):
    async def languages(self) -> list[str]:
        """The languages the translations are written in."""
        return list(await self.session.scalars(select(translations.c.language).distinct()))

    async def publishes(self, language: str | None, brand: str | None) -> bool:
        """Whether ``brand`` (None: the default brand) has a published translation in ``language``
        (None: in any language); an index probe (``ix_translations_published``)."""
        found = select(translations.c.article_id).where(
            translations.c.status == TranslationStatus.PUBLISHED.value,
            translations.c.brand.is_not_distinct_from(brand),
        )
        if language is not None:
            found = found.where(translations.c.language == language)
        return await self.session.scalar(found.limit(1)) is not None

    async def terms(
        self, parts: list[Terms], synonyms: tuple[tuple[Thesaurus, tuple[str, ...]], ...] = ()
    ) -> tuple[list[QueryTerm], int]:
        """The query's lexemes (as each part's configuration cuts them), each with how many translations
        hold it, the terms close to a word none holds in its place, the lexemes its synonyms add
        (weighing :data:`SYNONYM_WEIGHT`), and how many translations there are."""
        lexeme = func.unnest(func.tsvector_to_array(_query_vector(parts))).table_valued("lexeme").render_derived()
        # The planner's count of translations (kept by autovacuum): enough for inverse document frequencies.
        total = (
            select(func.greatest(pg_class.c.reltuples, 1))
            .where(pg_class.c.oid == cast(literal(f"{translations.schema}.{translations.name}"), REGCLASS))
            .scalar_subquery()
        )
        statement = select(lexeme.c.lexeme, func.coalesce(search_terms.c.translations, 0), total).outerjoin(
            search_terms, search_terms.c.lexeme == lexeme.c.lexeme
        )
        rows = [(row[0], int(row[1]), int(row[2] or 1)) for row in await self.session.execute(statement)]
        found = [QueryTerm(word, held) for word, held, _ in rows if held > 0]
        unknown = [word for word, held, _ in rows if held == 0 and len(word) >= CLOSE_MIN_LENGTH]
        if unknown:
            found += await self._close_terms(unknown, {term.lexeme for term in found})
        written = [word for word, _, _ in rows]
        added = set[str]().union(*(thesaurus.expand(written, words) for thesaurus, words in synonyms))
        added -= {term.lexeme for term in found}
        if added:
            held_by = select(search_terms.c.lexeme, search_terms.c.translations).where(
                any_of(search_terms.c.lexeme, sorted(added)), search_terms.c.translations > 0
            )
            found += [
                QueryTerm(row.lexeme, row.translations, SYNONYM_WEIGHT) for row in await self.session.execute(held_by)
            ]
        most = max((term.translations for term in found), default=1)
        return found, max(rows[0][2] if rows else 1, most)

    async def _close_terms(self, words: list[str], known: set[str]) -> list[QueryTerm]:
        word = func.unnest(literal(words, ARRAY(Text))).table_valued("word").render_derived()
        similarity = func.similarity(search_terms.c.lexeme, word.c.word, type_=Float)
        close = (
            select(search_terms.c.lexeme, search_terms.c.translations, similarity.label("closeness"))
            .where(search_terms.c.lexeme.op("%", is_comparison=True)(word.c.word), search_terms.c.translations > 0)
            .where(similarity >= CLOSE_SIMILARITY)
            .order_by(similarity.desc())
            .limit(CLOSE_TERMS)
            .lateral()
        )
        statement = (
            select(close.c.lexeme, close.c.translations, close.c.closeness).select_from(word).join(close, literal(True))
        )
        terms: dict[str, QueryTerm] = {}
        for row in await self.session.execute(statement):
            if row.lexeme not in known and row.closeness > terms.get(row.lexeme, QueryTerm("", 0, 0)).closeness:
                terms[row.lexeme] = QueryTerm(row.lexeme, row.translations, float(row.closeness))
        return list(terms.values())

    async def search(self, query: SearchQuery, offset: int, limit: int) -> list[HitRow]:
        """``limit + 1`` hits from ``offset`` on, best first.

        Ranked in three steps, so a word thousands of translations hold (a common English word, a
        Chinese word inside longer ones) never makes a search read thousands of rows:

        1. the query's terms with how many translations hold each (``search_terms``), a word nobody
           holds replaced by the terms closest to it by trigrams (typos, partial words);
        2. the candidates: the translations holding any of the rarest terms, taken while those are
           held by at most ``CANDIDATES`` translations together (found in the tsvector index); the
           common terms only add to the score. When even the rarest term is that common, at most
           ``COMMON_CANDIDATES`` translations holding every term (like Elasticsearch's common terms
           query: a search for common words alone samples among equals);
        3. each candidate's score: the share of the query's weight it holds, each term weighing its
           inverse document frequency, in the title in full (less in a long title), in the body
           half (0 to 1), plus PostgreSQL's rank (``ts_rank_cd``, 0 to 1).
        """
        terms, total = await self.terms(query.parts, query.synonyms)
        if not terms:
            return []
        weights = [math.log(1 + total / term.translations) * term.closeness for term in terms]
        by_rarity = sorted(terms, key=lambda term: term.translations)
        chosen: list[str] = []
        held = 0
        for term in by_rarity:
            if chosen and held + term.translations > CANDIDATES:
                break
            chosen.append(term.lexeme)
            held += term.translations
        every = _tsquery([term.lexeme for term in terms])
        columns = [translations.c[name] for name in ("article_id", "locale", "title", "status", "body_text")]
        matches = translations.c.search_vector.op("@@", is_comparison=True)
        found: Any = translations
        where: ColumnElement[bool]
        if held <= CANDIDATES:
            where = matches(_tsquery(chosen))
        else:
            found = (
                self._scoped(select(*columns, translations.c.search_vector), query)
                .where(matches(_tsquery([term.lexeme for term in terms], " & ")))
                .limit(COMMON_CANDIDATES)
                .subquery()
            )
            where = literal(True)
        vector = found.c.search_vector
        held_by = vector.op("@@", is_comparison=True)
        in_title: ColumnElement[Any] = literal(0.0)
        in_body: ColumnElement[Any] = literal(0.0)
        for term, weight in zip(terms, weights, strict=True):
            in_title = in_title + weight * case((held_by(_tsquery([term.lexeme], weight=":A")), 1.0), else_=0.0)
            in_body = in_body + weight * case((held_by(_tsquery([term.lexeme], weight=":B")), 1.0), else_=0.0)
        title_terms = func.length(func.ts_filter(vector, literal_column("'{a}'::\"char\"[]")))
        title_norm = (1 + TITLE_K1) / (1 + TITLE_K1 * (1 - TITLE_B + TITLE_B * title_terms / TITLE_TERMS))
        share = (TITLE_WEIGHT * title_norm * in_title + BODY_WEIGHT * in_body) / (
            (TITLE_WEIGHT * (1 + TITLE_K1) + BODY_WEIGHT) * sum(weights)
        )
        # 32: rank / (rank + 1), between 0 and 1.
        score = (share + TEXT_RANK * func.ts_rank_cd(vector, every, 32, type_=Float)).label("score")
        statement = select(
            *(found.c[column.name] for column in columns), score, cast(every, Text).label("query_text")
        ).where(where)
        if found is translations:
            statement = self._scoped(statement, query)
        statement = statement.order_by(score.desc(), found.c.article_id, found.c.locale).offset(offset).limit(limit + 1)
        return [HitRow(**row._mapping) for row in await self.session.execute(statement)]

    async def nearest(self, query: SearchQuery, meaning: Embedding, limit: int) -> list[HitRow]:
        """Up to ``limit`` translations ``query`` may find whose vectors (of ``meaning``'s model) are
        closest to ``meaning``, at least ``MIN_SIMILARITY`` alike, closest first; score: the cosine
        similarity. An exact scan of the scope's vectors (see the README's "By meaning too")."""
        # A scalar subquery, so the question's text is read into a vector once per statement: a
        # cast of the bound text in the expression is redone for every row once PostgreSQL
        # switches the prepared statement to its generic plan (75 ms against 6.6 for 500 rows).
        question = select(vector_value(meaning.vector)).scalar_subquery()
        distance = translations.c.embedding.op("<=>", return_type=Float)(question)
        columns = [translations.c[name] for name in ("article_id", "locale", "title", "status", "body_text")]
        statement = (
            self._scoped(select(*columns, (1 - distance).label("score"), literal("").label("query_text")), query)
            .where(translations.c.embedding_model == meaning.model)
            .order_by(distance)
            .limit(limit)
        )
        rows = [HitRow(**row._mapping) for row in await self.session.execute(statement)]
        return [row for row in rows if row.score >= MIN_SIMILARITY]

    async def unembedded(self, limit: int) -> list[Unembedded]:
        """Up to ``limit`` translations (archived aside) without a vector, locked for their backfill;
        those another replica is filling are skipped."""
        statement = (
            select(translations.c.article_id, translations.c.locale, translations.c.title, translations.c.body_text)
            .where(translations.c.embedding.is_(None), translations.c.status != TranslationStatus.ARCHIVED.value)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [Unembedded(**row._mapping) for row in await self.session.execute(statement)]

    async def embed(self, article_id: uuid.UUID, locale: str, meaning: Embedding) -> None:
        await self.session.execute(
            update(translations)
            .where(translations.c.article_id == article_id, translations.c.locale == locale)
            .values(embedding=vector_value(meaning.vector), embedding_model=meaning.model)
        )

    @staticmethod
    def _scoped(statement: Select[Any], query: SearchQuery) -> Select[Any]:
        """``statement`` over the translations ``query`` may find: never archived; its brand, locale or language."""
        statement = statement.where(translations.c.status != TranslationStatus.ARCHIVED.value)
        if query.public:
            statement = statement.where(
                translations.c.status == TranslationStatus.PUBLISHED.value,
                translations.c.brand.is_(None) if query.brand is None else translations.c.brand == query.brand,
            )
        elif query.brand is not None:
            statement = statement.where(translations.c.brand == query.brand)
        if query.locale is not None:
            statement = statement.where(translations.c.locale == query.locale)
        elif query.language is not None:
            statement = statement.where(translations.c.language == query.language)
        return statement
