"""Synonyms applied to queries (query expansion), cached per process.

A synonym set is words or phrases meaning one thing (``refund``, ``money back``,
``reimbursement``). Each entry is cut as an article's text in its language (stemmed English,
Korean morphemes, Chinese words) into *lexemes*, and its plain *words* are kept beside them. An
entry is found in a query when the query holds all of its lexemes and, where the cut dropped
some of its words (``where is my order``: only ``order`` is a lexeme), all of its words too, in
any order. The query is then also searched for every other entry's lexemes, each weighing
:data:`SYNONYM_WEIGHT` of a word the customer wrote (search/repository.py).

The sets are read once per configuration version (``knowledge.config_version``, moved by every
write to ``knowledge.synonyms``, in any process), and each language's entries are cut the first
time a query in that language needs them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.config_version import VersionedCache
from omnicase.knowledge.models import config_version
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.synonyms.repository import SynonymRepository

# What a synonym weighs beside a word of the query itself.
SYNONYM_WEIGHT = 0.6


@dataclass(frozen=True)
class Entry:
    lexemes: frozenset[str]
    # The entry's words when its cut dropped some (stop words), else empty: they must be in the query too.
    words: frozenset[str]


@dataclass(frozen=True)
class Thesaurus:
    """The synonym sets of one language, cut as its queries are."""

    groups: tuple[tuple[Entry, ...], ...] = ()

    def expand(self, lexemes: Iterable[str], words: Iterable[str]) -> set[str]:
        """The lexemes the query's synonyms add (none it holds already)."""
        held, written = set(lexemes), set(words)
        added: set[str] = set()
        for group in self.groups:
            if any(entry.lexemes <= held and entry.words <= written for entry in group):
                for entry in group:
                    added |= entry.lexemes
        return added - held


@dataclass(frozen=True)
class SynonymSets:
    """Every synonym set's terms, by language, as of one configuration version."""

    version: int
    by_language: dict[str, list[list[str]]] = field(default_factory=dict)


class SynonymCache:
    """The synonyms of each language as its queries need them; one per process."""

    def __init__(self, analyzer: TextAnalyzer) -> None:
        self.analyzer = analyzer
        self._sets = VersionedCache(config_version, _load_sets)
        self._thesauri: dict[tuple[int, str], Thesaurus] = {}

    async def thesaurus(self, session: AsyncSession, language: str) -> Thesaurus:
        """``language``'s synonyms as of now (one primary-key read when nothing changed)."""
        sets = await self._sets.current(session)
        key = (sets.version, language)
        thesaurus = self._thesauri.get(key)
        if thesaurus is None:
            groups = sets.by_language.get(language, [])
            thesaurus = await self._cut(session, language, groups) if groups else Thesaurus()
            # Older versions' thesauri are never asked for again.
            self._thesauri = {k: v for k, v in self._thesauri.items() if k[0] == sets.version}
            self._thesauri[key] = thesaurus
        return thesaurus

    async def _cut(self, session: AsyncSession, language: str, groups: list[list[str]]) -> Thesaurus:
        entries = [term for group in groups for term in group]

        def analyse() -> tuple[list[str], list[str], list[frozenset[str]]]:
            cut = [self.analyzer.terms(term, language) for term in entries]
            words = [frozenset(self.analyzer.query_words(term, language)) for term in entries]
            return [terms.config for terms in cut], [terms.text for terms in cut], words

        configs, texts, words = await asyncio.to_thread(analyse)
        lexemes = await SynonymRepository(session).lexemes(configs, texts)
        cut_entries = iter(
            Entry(frozenset(found), frozenset() if len(found) >= len(written) else written)
            for found, written in zip(lexemes, words, strict=True)
        )
        built = tuple(
            tuple(entry for entry in (next(cut_entries) for _ in group) if entry.lexemes or entry.words)
            for group in groups
        )
        return Thesaurus(tuple(group for group in built if len(group) > 1))


async def _load_sets(session: AsyncSession, version: int) -> SynonymSets:
    return SynonymSets(version, await SynonymRepository(session).by_language())
