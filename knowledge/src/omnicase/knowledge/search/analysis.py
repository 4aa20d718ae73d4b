"""How a text becomes search terms, per language.

- Korean is cut into morphemes by kiwipiepy (``비밀번호를 바꾸려면`` → ``비밀 번호 바꾸``): the
  content morphemes (nouns, verb and adjective stems, roots, foreign words, numbers) are kept,
  particles and endings dropped; a noun of three syllables or more also gives its syllable
  pairs, as Kiwi leaves a compound whole in one context and cuts it in another.
- Chinese is cut into words by jieba in its search mode (long words and the words inside
  them), punctuation and a few function words dropped.
- Both are stored as a ``simple`` tsvector of those terms, so PostgreSQL only lower-cases them.
- Languages PostgreSQL has a Snowball stemmer for are left to it (``english``, ``german`` …):
  their terms are the words, stemmed by the same configuration on both sides.
- Any other language is searched by its words (``simple``).

The language of a query without a locale is its script's when the script says (Hangul:
Korean, kana: Japanese, Han alone: Chinese), else lingua's guess among the configured
languages, and English besides it (English is the suite's default; lingua often takes two
English words for Italian).

Memory: kiwipiepy's model (about 300 MB), jieba's dictionary (about 80 MB) and lingua's
models are each loaded the first time a text needs them, once per process, so a knowledge
base without Korean never holds the Korean model. Loading and cutting are CPU work: callers
run them in a worker thread (:meth:`TextAnalyzer.terms` is blocking).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from omnicase.kit.languages import LanguageDetector
from omnicase.knowledge.search.embeddings import Embedder

# Languages with a Snowball stemmer in every supported PostgreSQL (12+), by ISO 639-1 code.
STEMMED = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}
SIMPLE = "simple"
DEFAULT_LANGUAGE = "en"

# Kiwi's tags of the morphemes that carry meaning (Sejong tag set; -I/-R mark irregular stems).
_KOREAN_CONTENT = {"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "SL", "SN", "SH", "MAG"}
_KOREAN_NOUNS = {"NNG", "NNP"}
_KOREAN_STOP = {
    "하", "되", "있", "없", "것", "수", "등", "어떻", "이렇", "그렇", "저", "그", "이", "무엇", "왜", "어디", "좀",
}  # fmt: skip
_CHINESE_STOP = {
    "的", "了", "在", "是", "我", "你", "他", "她", "它", "我们", "你们", "他们", "和", "与", "或", "中", "吗", "呢",
    "吧", "啊", "如何", "怎么", "怎样", "什么", "为什么", "哪里", "可以", "能", "要", "把", "被", "这", "那", "这个",
    "那个", "一个", "有", "也", "就", "都", "而", "及", "着", "给", "让", "请", "对", "从", "到", "将",
}  # fmt: skip
_WORD = re.compile(r"\w+", re.UNICODE)

# The tokenizers, loaded once per process (TextAnalyzer._once).
_LOADED: dict[str, Any] = {}
_LOADING = threading.Lock()


@dataclass(frozen=True)
class Terms:
    """What PostgreSQL is given for one text: a text search configuration and the text it parses."""

    config: str
    text: str


class TextAnalyzer:
    """Terms of texts and queries; one per process (:func:`omnicase.knowledge.state.knowledge_state`)."""

    def __init__(self, detect_languages: Sequence[str], embedder: Embedder | None = None) -> None:
        self.detect_languages = tuple(detect_languages)
        # Search's semantic half, when a model is configured (search/embeddings.py).
        self.embedder = embedder
        # The suite's one detector (kit.languages): the script first, then lingua among these.
        self.detector = LanguageDetector(detect_languages)

    def config(self, language: str) -> str:
        if language in ("ko", "zh"):
            return SIMPLE
        return STEMMED.get(language, SIMPLE)

    def terms(self, text: str, language: str) -> Terms:
        """The terms of ``text`` written in ``language`` (an ISO 639-1 code), for a tsvector."""
        if language == "ko":
            return Terms(SIMPLE, " ".join(self._korean(text)))
        if language == "zh":
            return Terms(SIMPLE, " ".join(self._chinese(text)))
        return Terms(self.config(language), text)

    def query_words(self, text: str, language: str) -> list[str]:
        """The words of a query as :meth:`terms` cuts them (letters and digits only), each once."""
        if language == "ko":
            cut: Iterable[str] = self._korean(text)
        elif language == "zh":
            cut = self._chinese(text)
        else:
            cut = [text.lower()]
        return list(dict.fromkeys(word for part in cut for word in _WORD.findall(part)))

    def language(self, text: str) -> str:
        """The language ``text`` is most likely written in (ISO 639-1), English when nothing says."""
        return self.detector.guess(text, DEFAULT_LANGUAGE)

    def _korean(self, text: str) -> Iterable[str]:
        for token in self._kiwi.tokenize(text):
            tag = token.tag.split("-")[0]
            if tag in _KOREAN_CONTENT and token.form not in _KOREAN_STOP:
                yield token.form.lower()
                if tag in _KOREAN_NOUNS and len(token.form) >= 3:
                    # Kiwi cuts a compound noun by its context: 비밀번호 alone is 비밀 + 번호, in a
                    # title it may stay whole. Its syllable pairs meet either cut of the other side.
                    yield from (token.form[i : i + 2] for i in range(len(token.form) - 1))

    def _chinese(self, text: str) -> Iterable[str]:
        for word in self._jieba.lcut_for_search(text):
            word = word.strip().lower()
            if word and word not in _CHINESE_STOP and any(char.isalnum() for char in word):
                yield word

    # Loaded on first use, once per process (every analyzer shares them: Kiwi's model alone takes
    # hundreds of megabytes, and a test session makes app after app): a second request waits for
    # the first one's load.

    def warm(self, languages: Iterable[str]) -> None:
        """Load now what texts and questions in ``languages`` will need (blocking: run in a worker thread)."""
        wanted = set(languages)
        if "ko" in wanted:
            self._kiwi  # noqa: B018 (loads it)
        if "zh" in wanted:
            self._jieba  # noqa: B018
        if wanted and self.detect_languages:
            self.detector.warm()
        if wanted and self.embedder is not None:
            self.embedder.warm()

    @staticmethod
    def _once(name: str, load: Callable[[], Any]) -> Any:
        loaded = _LOADED.get(name)
        if loaded is None:
            with _LOADING:
                loaded = _LOADED.get(name)
                if loaded is None:
                    loaded = _LOADED[name] = load()
        return loaded

    @property
    def _kiwi(self) -> Any:
        def load() -> Any:
            from kiwipiepy import Kiwi  # type: ignore[import-untyped]

            return Kiwi()

        return self._once("kiwi", load)

    @property
    def _jieba(self) -> Any:
        def load() -> Any:
            import jieba  # type: ignore[import-untyped]

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            return tokenizer

        return self._once("jieba", load)
