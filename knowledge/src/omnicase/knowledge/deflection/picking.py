"""Which published articles may answer a case's question: the one choice behind a customer's
suggestions, those stored for agents on ``case.created``, and an agent's look at a case."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from omnicase.knowledge.search.analysis import DEFAULT_LANGUAGE
from omnicase.knowledge.search.repository import HitRow
from omnicase.knowledge.search.service import SearchService
from omnicase.knowledge.search.snippets import lexemes

# A question is read up to this long: the subject and the start of the first message say what it is about.
MAX_QUESTION = 2000
# A customer gets only articles about as relevant as the best one: a long message shares a common
# word or two with many articles, which an agent's search may list but a customer's mail should not.
RELATIVE_SCORE = 0.5


@dataclass(frozen=True)
class Picked:
    row: HitRow
    matched: list[str]  # the question's words the article holds


async def pick(
    search: SearchService, subject: str, text: str, locale: str | None, brand: str | None, limit: int
) -> tuple[str, list[Picked]]:
    """The question's locale (``locale``, else detected) and up to ``limit`` published articles of
    ``brand`` in it, one translation each, best first, with the question's words each holds."""
    question = f"{subject}\n{text}".strip()[:MAX_QUESTION]
    if not question:
        return locale or DEFAULT_LANGUAGE, []
    if locale is None:
        locale = await asyncio.to_thread(search.detected_language, question)
    if not await search.publishes(locale, brand):
        # Nothing to find: the question is not cut (a language's model may take seconds to load).
        return locale, []
    # Translations of one article in several regions (zh-CN, zh-TW) are one suggestion.
    rows = await search.hits(question, locale, brand, 0, limit * 3, public=True)
    picked: list[Picked] = []
    seen: set[uuid.UUID] = set()
    best = rows[0].score if rows else 0.0
    for row in rows:
        if row.article_id in seen or len(picked) == limit or row.score < RELATIVE_SCORE * best:
            continue
        seen.add(row.article_id)
        text_of = f"{row.title}\n{row.body_text}".casefold()
        picked.append(Picked(row, [word for word in lexemes(row.query_text) if word.casefold() in text_of][:20]))
    return locale, picked
