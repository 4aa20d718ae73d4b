"""knowledge's rows in ``omnicase bench``: indexing, search latency and relevance at size.

On the run's PostgreSQL (a database of its own with knowledge's schema migrated), the
project's relevance set (relevance.py: 20 articles in English, Korean and Chinese, 40
questions per language) is written through the service's own path (``ArticleService``:
Markdown rendered and sanitised, the text cut for its language, a version and an event per
publication), then filler articles until ``BENCH_KNOWLEDGE_TRANSLATIONS`` (100,000)
translations, a third per language: generic shop words, a tenth of them with one word of the
relevance set's, so the answers must be found among many near misses. Rows:

- indexing: translations written per second, latency per article;
- search: ``BENCH_KNOWLEDGE_SEARCHES`` (1,000) agents' searches without a locale (the language
  detected, as the API does), one after another, each in its own session: p50/p95/p99;
- relevance per language: recall@3 (the answering article among the first three distinct
  articles) and MRR (mean of 1 / its rank within the first ten), in the row's name; once for the
  relevance set's questions and once, "held out", for relevance_held_out.py's (written apart from
  the synonym vocabulary).

Then the same rows again for search by words and meaning (search/embeddings.py, the model
``BENCH_KNOWLEDGE_EMBEDDING_MODEL``, multilingual-e5-small; ``none`` skips it) in a second brand
of the same database, at ``BENCH_KNOWLEDGE_SEMANTIC_TRANSLATIONS`` (6,000) translations, every
one embedded as it is written: the model costs about a millisecond of CPU per token on two
cores (a filler, 40 to 60 tokens, about 50 ms), so embedding 100,000 would take over an hour.
The first brand's translations have no vectors, so the second's nearest neighbours are its own.

``BENCH_KNOWLEDGE_TRANSLATIONS=60 BENCH_KNOWLEDGE_SEMANTIC_TRANSLATIONS=60`` writes the relevance
set's articles alone (no filler): the relevance rows in about a minute.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text

from omnicase.devtools.bench.measure import CpuMeter, Measurement
from omnicase.devtools.bench.services import BenchTarget
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database, create_engine
from omnicase.kit.identity import Identity
from omnicase.kit.outbox import Outbox
from omnicase.knowledge.articles.schemas import ArticleCreate, TranslationWrite
from omnicase.knowledge.articles.service import ArticleService
from omnicase.knowledge.models import outbox
from omnicase.knowledge.relevance import LANGUAGES, TOPICS
from omnicase.knowledge.relevance_held_out import HELD_OUT
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.search.embeddings import embedder_for
from omnicase.knowledge.search.service import SearchService
from omnicase.knowledge.search.synonyms import SynonymCache
from omnicase.knowledge.settings import KnowledgeSettings

BRAND = "bench"
# The second run's model (``BENCH_KNOWLEDGE_EMBEDDING_MODEL``; ``none`` skips that run).
SEMANTIC_MODEL = "multilingual-e5-small"
LOCALES = {"en": "en", "ko": "ko", "zh": "zh-CN"}
BATCH = 200
WARMUP_SEARCHES = 50
TOP = 10

FILLER = {
    "en": [
        "product",
        "catalog",
        "season",
        "collection",
        "colour",
        "size",
        "fabric",
        "cotton",
        "wool",
        "leather",
        "garden",
        "kitchen",
        "table",
        "chair",
        "lamp",
        "sofa",
        "outdoor",
        "camping",
        "tent",
        "backpack",
        "bottle",
        "coffee",
        "tea",
        "recipe",
        "gift",
        "wrapping",
        "store",
        "opening",
        "event",
        "newsletter",
        "review",
        "rating",
        "warranty",
        "battery",
        "charger",
        "cable",
        "speaker",
        "headphones",
        "screen",
        "laptop",
        "phone",
        "case",
        "sticker",
        "poster",
    ],
    "ko": [
        "상품",
        "카탈로그",
        "시즌",
        "컬렉션",
        "색상",
        "사이즈",
        "원단",
        "면",
        "울",
        "가죽",
        "정원",
        "주방",
        "테이블",
        "의자",
        "조명",
        "소파",
        "야외",
        "캠핑",
        "텐트",
        "배낭",
        "물병",
        "커피",
        "차",
        "레시피",
        "선물",
        "포장",
        "매장",
        "오픈",
        "행사",
        "소식지",
        "후기",
        "평점",
        "보증",
        "배터리",
        "충전기",
        "케이블",
        "스피커",
        "헤드폰",
        "화면",
        "노트북",
        "휴대폰",
        "케이스",
        "스티커",
        "포스터",
    ],
    "zh": [
        "商品",
        "目录",
        "季节",
        "系列",
        "颜色",
        "尺码",
        "面料",
        "棉",
        "羊毛",
        "皮革",
        "花园",
        "厨房",
        "桌子",
        "椅子",
        "台灯",
        "沙发",
        "户外",
        "露营",
        "帐篷",
        "背包",
        "水杯",
        "咖啡",
        "茶叶",
        "食谱",
        "礼品",
        "包装",
        "门店",
        "开业",
        "活动",
        "简报",
        "评价",
        "评分",
        "保修",
        "电池",
        "充电器",
        "数据线",
        "音箱",
        "耳机",
        "屏幕",
        "笔记本",
        "手机",
        "手机壳",
        "贴纸",
        "海报",
    ],
}


@dataclass(frozen=True)
class Run:
    """One measured knowledge base: its brand, and the embedding model its analyzer has (None: words alone)."""

    brand: str
    model: str | None = None

    @property
    def key(self) -> str:
        return ".semantic" if self.model else ""

    @property
    def label(self) -> str:
        return f" (words and meaning, {self.model})" if self.model else ""

    @property
    def writes(self) -> str:
        return ", embed" if self.model else ""


def _topic_words(language: str) -> list[str]:
    words: list[str] = []
    for topic in TOPICS:
        title = topic.articles[language][0]
        words += title.split() if language != "zh" else [title[i : i + 2] for i in range(0, len(title) - 1, 2)]
    return words


def _fillers(language: str, count: int, seed: int) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed)
    pool, near = FILLER[language], _topic_words(language)
    joiner = "" if language == "zh" else " "
    for _ in range(count):
        title_words = rng.sample(pool, rng.randint(3, 5))
        if rng.random() < 0.1:
            title_words.insert(rng.randrange(len(title_words) + 1), rng.choice(near))
        body = joiner.join(rng.choice(pool) for _ in range(rng.randint(20, 40)))
        yield joiner.join(title_words).capitalize(), body


async def _index(
    database: Database, analyzer: TextAnalyzer, total: int, run: Run
) -> tuple[Measurement, dict[str, str]]:
    """Write the relevance set and fillers up to ``total`` translations in ``run``'s brand; the
    relevance articles' ids by topic."""
    author = Identity(subject="bench", role="admin", expires_at=utcnow() + timedelta(days=1))
    box = Outbox(outbox)
    ids: dict[str, str] = {}
    latencies: list[float] = []
    meter = CpuMeter()
    started = time.perf_counter()
    async with database.unit_of_work() as session:
        articles = ArticleService(session, box, analyzer)
        for topic in TOPICS:
            begun = time.perf_counter()
            first, *others = LANGUAGES
            title, body = topic.articles[first]
            draft = ArticleCreate(locale=LOCALES[first], title=title, body=body, status="published", brand=run.brand)
            created = await articles.create(draft, author)
            for language in others:
                title, body = topic.articles[language]
                write = TranslationWrite(title=title, body=body, status="published")
                await articles.put_translation(created.id, LOCALES[language], write, author)
            ids[topic.key] = str(created.id)
            latencies.append((time.perf_counter() - begun) * 1000)
    written = len(TOPICS) * len(LANGUAGES)
    fillers = max(0, total - written)
    streams = [_fillers(language, fillers // 3 + (1 if index < fillers % 3 else 0), index) for index, language in
               enumerate(LANGUAGES)]  # fmt: skip
    pending = [(LANGUAGES[index], item) for index, stream in enumerate(streams) for item in stream]
    random.Random(7).shuffle(pending)
    for start in range(0, len(pending), BATCH):
        async with database.unit_of_work() as session:
            articles = ArticleService(session, box, analyzer)
            for language, (title, body) in pending[start : start + BATCH]:
                begun = time.perf_counter()
                draft = ArticleCreate(
                    locale=LOCALES[language], title=title, body=body, status="published", brand=run.brand
                )
                await articles.create(draft, author)
                latencies.append((time.perf_counter() - begun) * 1000)
    seconds = time.perf_counter() - started
    written += len(pending)
    async with database.unit_of_work() as session:
        await session.execute(text("ANALYZE knowledge.articles, knowledge.translations"))
    return Measurement(
        key=f"knowledge{run.key}.index",
        name=f"knowledge{run.label}: index {written:,} translations (render, cut{run.writes}, store, version, event)",
        count=written,
        seconds=seconds,
        latencies_ms=latencies,
        latency_from="one article written (its translations for the relevance set's)",
        cpu=meter.usage(),
    ), ids


async def _search(
    database: Database, analyzer: TextAnalyzer, synonyms: SynonymCache, question: str, run: Run
) -> tuple[list[str], float]:
    """The distinct articles found for ``question``, best first, and how long the search took (ms)."""
    begun = time.perf_counter()
    async with database.unit_of_work() as session:
        page = await SearchService(session, analyzer, synonyms).search(question, None, run.brand, None, TOP)
    elapsed = (time.perf_counter() - begun) * 1000
    return list(dict.fromkeys(str(hit.article_id) for hit in page.items)), elapsed


async def _relevance(
    database: Database,
    analyzer: TextAnalyzer,
    synonyms: SynonymCache,
    language: str,
    label: str,
    asked: list[tuple[str, str]],
    run: Run,
) -> Measurement:
    """recall@3 and MRR of the labelled questions ``asked`` (question, answering article), in the row's name."""
    ranks: list[int | None] = []
    times: list[float] = []
    for question, answer in asked:
        found, elapsed = await _search(database, analyzer, synonyms, question, run)
        ranks.append(found.index(answer) + 1 if answer in found else None)
        times.append(elapsed)
    recall = sum(1 for rank in ranks if rank is not None and rank <= 3) / len(ranks)
    mrr = sum(1 / rank for rank in ranks if rank is not None) / len(ranks)
    return Measurement(
        key=f"knowledge{run.key}.relevance{label.replace(' ', '_')}.{language}",
        name=f"knowledge{run.label}: relevance{label} {language}, recall@3 {recall:.2f}, MRR {mrr:.2f}",
        count=len(asked),
        seconds=sum(times) / 1000,
        latencies_ms=times,
        latency_from="one labelled question searched",
        compare_to_ceiling=False,
    )


async def bench(target: BenchTarget) -> list[Measurement]:
    total = target.size("BENCH_KNOWLEDGE_TRANSLATIONS", 100_000)
    searches = target.size("BENCH_KNOWLEDGE_SEARCHES", 1000)
    semantic_total = target.size("BENCH_KNOWLEDGE_SEMANTIC_TRANSLATIONS", 6_000)
    model = os.environ.get("BENCH_KNOWLEDGE_EMBEDDING_MODEL", SEMANTIC_MODEL)
    database = Database(create_engine(target.database_url, pool_size=2))
    languages = KnowledgeSettings.model_fields["detect_languages"].get_default(call_default_factory=True)
    try:
        rows = await _measure(database, TextAnalyzer(languages), total, searches, Run(BRAND))
        if semantic_total and model != "none":
            analyzer = TextAnalyzer(languages, embedder_for(model))
            rows += await _measure(database, analyzer, semantic_total, searches, Run(f"{BRAND}-semantic", model))
        return rows
    finally:
        await database.dispose()


async def _measure(
    database: Database, analyzer: TextAnalyzer, total: int, searches: int, run: Run
) -> list[Measurement]:
    """Index ``total`` translations in ``run``'s brand, then time searches and measure relevance there."""
    # The synonyms the migration seeds (search/vocabulary.py), as a new knowledge base has them.
    synonyms = SynonymCache(analyzer)
    indexed, ids = await _index(database, analyzer, total, run)
    questions = [
        (language, question, ids[topic.key])
        for topic in TOPICS
        for language in LANGUAGES
        for question in topic.questions[language]
    ]
    for _, question, _ in questions[:WARMUP_SEARCHES]:
        await _search(database, analyzer, synonyms, question, run)
    rng = random.Random(11)
    latencies: list[float] = []
    meter = CpuMeter()
    started = time.perf_counter()
    for number in range(searches):
        _, question, _ = questions[number % len(questions)] if number % 2 == 0 else rng.choice(questions)
        latencies.append((await _search(database, analyzer, synonyms, question, run))[1])
    searched = Measurement(
        key=f"knowledge{run.key}.search",
        name=f"knowledge{run.label}: search at {indexed.count:,} translations (language detected, one at a time)",
        count=searches,
        seconds=time.perf_counter() - started,
        latencies_ms=latencies,
        latency_from="the query given to the search service to its ranked page",
        cpu=meter.usage(),
        compare_to_ceiling=False,
    )
    rows = [indexed, searched]
    held_out = [(language, question, ids[key]) for language, asked in HELD_OUT.items() for key, question in asked]
    for label, labelled in (("", questions), (" held out", held_out)):
        for language in LANGUAGES:
            asked = [(question, answer) for lang, question, answer in labelled if lang == language]
            rows.append(await _relevance(database, analyzer, synonyms, language, label, asked, run))
    return rows
