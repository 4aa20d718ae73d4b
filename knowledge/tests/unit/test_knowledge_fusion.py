"""Fusing the words' ranking with the meaning's (search/service.py): agreement wins, neither score
scale is read against the other, and a row found by meaning alone keeps the words' query for its snippet."""

from __future__ import annotations

import uuid

from omnicase.knowledge.articles.schemas import TranslationStatus
from omnicase.knowledge.search.repository import HitRow
from omnicase.knowledge.search.service import fused


def row(name: uuid.UUID, score: float, query_text: str = "") -> HitRow:
    return HitRow(name, "en", str(name), TranslationStatus.PUBLISHED, "body", score, query_text)


A, B, C, D = (uuid.uuid4() for _ in range(4))


def test_a_translation_both_rankings_find_comes_before_one_ranking_s_first() -> None:
    by_words = [row(A, 9.0, "'refund'"), row(B, 5.0, "'refund'")]
    by_meaning = [row(C, 0.9), row(B, 0.88)]
    ranked = fused(by_words, by_meaning)
    assert [hit.article_id for hit in ranked] == [B, *sorted([A, C], key=str)]
    assert ranked[0].score > ranked[1].score == ranked[2].score


def test_scores_are_the_fused_ones_and_meaning_alone_keeps_the_words_query() -> None:
    ranked = fused([row(A, 1000.0, "'refund'")], [row(D, 0.99)])
    assert {hit.article_id: hit.query_text for hit in ranked} == {A: "'refund'", D: "'refund'"}
    assert all(hit.score < 1 for hit in ranked)


def test_without_words_the_meaning_ranking_stands_alone() -> None:
    ranked = fused([], [row(C, 0.9), row(D, 0.85)])
    assert [hit.article_id for hit in ranked] == [C, D]
    assert [hit.query_text for hit in ranked] == ["", ""]
