"""The language a customer wrote in, offline: its script where the script says, else lingua's guess.

One detector per process, shared by every service that needs it (case-core labels each new
case; knowledge searches a query without a locale):

- Korean, Japanese and Chinese are told by their script (Hangul: Korean; kana: Japanese;
  Han alone: Chinese) when that script holds most of the text's letters; no model is needed.
- Any other text is lingua's (``lingua-language-detector``, its models offline in the wheel),
  choosing only among the languages it is given (the fewer, the faster and the surer:
  case-core gives the locales its brands support). Two candidates at least: with one, there
  is nothing to choose.
- :meth:`LanguageDetector.detect` answers a language only when it is sure: enough letters
  (:data:`MIN_LETTERS`) and lingua's confidence in its first choice at least
  ``min_confidence``; otherwise ``None``, and the caller falls back (a contact's locale, a
  brand's default). A short or mixed text is left to the fallback rather than guessed wrong.
- :meth:`LanguageDetector.guess` always answers (its best guess, else a default), for search.

Costs, measured (``make bench``'s language rows): lingua's models load once per process on
first use (about a second for eight languages: build it in a worker thread, see
:meth:`LanguageDetector.warm`), then a few tenths of a millisecond per short message.
Texts are cut to :data:`MAX_CHARS` before detection.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector as Lingua

# Told by their script, without lingua.
SCRIPT_LANGUAGES = frozenset({"ko", "ja", "zh"})
# Fewer letters than this (a script's own letters count three: one Han character is a word) is no answer.
MIN_LETTERS = 12
# Enough to tell a language; a long text's first part says as much as the whole.
MAX_CHARS = 1_000
DEFAULT_MIN_CONFIDENCE = 0.6
# The share of a text's letters its script must hold for the script to decide.
_SCRIPT_SHARE = 0.6


@dataclass(frozen=True)
class Detected:
    """A text's language (ISO 639-1, lower case), or None when the detector is not sure."""

    language: str | None
    confidence: float


# Counted by the regex engine (C), not per character in Python: the intake runs it for every new case.
_LETTER = re.compile(r"[^\W\d_]")
_HANGUL_RANGES = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
_KANA_RANGES = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_HANGUL = re.compile(f"[{_HANGUL_RANGES}]")
_KANA = re.compile(f"[{_KANA_RANGES}]")
_HAN = re.compile(f"[{_HAN_RANGES}]")
_CJK = re.compile(f"[{_HANGUL_RANGES}{_KANA_RANGES}{_HAN_RANGES}]")


def _script_counts(text: str) -> tuple[int, int, int, int]:
    """Letters of ``text``: Hangul, kana, Han, and every other script's."""
    letters = len(_LETTER.findall(text))
    if letters == 0:
        return 0, 0, 0, 0
    hangul, kana, han = (len(pattern.findall(text)) for pattern in (_HANGUL, _KANA, _HAN))
    return hangul, kana, han, max(letters - hangul - kana - han, 0)


def script_language(text: str) -> str | None:
    """Korean, Japanese or Chinese when any of their scripts is in ``text`` (Hangul first, then kana)."""
    hangul, kana, han, _ = _script_counts(text)
    if hangul:
        return "ko"
    if kana:
        return "ja"
    return "zh" if han else None


@cache
def _lingua_for(codes: tuple[str, ...]) -> Lingua:
    """lingua's detector among ``codes``, built once per process for every detector asking the same:
    its preloaded models take hundreds of megabytes, and a process that builds several detectors
    (a test session making app after app) would otherwise hold a copy each."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    # The relative distance only quiets guess(): one or two short words are often
    # ambiguous, and no answer (the default) beats a wrong one.
    return (
        LanguageDetectorBuilder.from_iso_codes_639_1(*(getattr(IsoCode639_1, code.upper()) for code in codes))
        .with_minimum_relative_distance(0.1)
        .with_preloaded_language_models()
        .build()
    )


class LanguageDetector:
    """Detects among ``languages`` (ISO 639-1 codes); thread-safe, its lingua model built on first use."""

    def __init__(self, languages: Iterable[str], *, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> None:
        self.languages = frozenset(code.split("-")[0].lower() for code in languages)
        self.modelled = tuple(sorted(self.languages - SCRIPT_LANGUAGES))
        self.min_confidence = min_confidence
        self._lock = threading.Lock()
        self._lingua: Lingua | None = None

    def warm(self) -> None:
        """Load lingua's models now (blocking, about a second: run it in a worker thread)."""
        self._model()

    def _model(self) -> Lingua | None:
        if len(self.modelled) < 2:
            return None
        if self._lingua is None:
            with self._lock:
                if self._lingua is None:
                    self._lingua = _lingua_for(self.modelled)
        return self._lingua

    def detect(self, text: str) -> Detected:
        """The language of ``text`` when the detector is sure, else ``Detected(None, confidence)``."""
        text = text[:MAX_CHARS]
        if _CJK.search(text) is None:
            # Most texts: no CJK letter to count, only whether there are letters enough at all.
            if sum(1 for _ in islice(_LETTER.finditer(text), MIN_LETTERS)) < MIN_LETTERS:
                return Detected(None, 0.0)
            return self._modelled(text)
        hangul, kana, han, other = _script_counts(text)
        cjk = hangul + kana + han
        if other + 3 * cjk < MIN_LETTERS:
            return Detected(None, 0.0)
        share = cjk / (cjk + other)
        if share < _SCRIPT_SHARE:
            # Mixed (a Chinese name in an English text, or the other way round): no guess.
            return Detected(None, share)
        return Detected("ko" if hangul > (kana + han) / 2 else ("ja" if kana else "zh"), share)

    def _modelled(self, text: str) -> Detected:
        """lingua's first choice among the modelled languages, when its confidence is high enough."""
        model = self._model()
        if model is None:
            return Detected(None, 0.0)
        ranked = model.compute_language_confidence_values(text)
        if not ranked:
            return Detected(None, 0.0)
        best = ranked[0]
        code = best.language.iso_code_639_1.name.lower()
        return Detected(code if best.value >= self.min_confidence else None, best.value)

    def guess(self, text: str, default: str) -> str:
        """The most likely language of ``text`` however short, ``default`` when nothing says one."""
        by_script = script_language(text)
        if by_script is not None:
            return by_script
        model = self._model()
        if model is None:
            return default
        found = model.detect_language_of(text[:MAX_CHARS])
        return default if found is None else found.iso_code_639_1.name.lower()


def lingua_codes() -> frozenset[str]:
    """The ISO 639-1 codes lingua can detect (for settings that name languages)."""
    from lingua import Language

    return frozenset(language.iso_code_639_1.name.lower() for language in Language.all())
