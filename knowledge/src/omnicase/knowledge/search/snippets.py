"""Highlighted snippets of search hits, as HTML: the text escaped, each matching word in ``<mark>``.

The words to mark are the query's lexemes as PostgreSQL parsed them (``'reset' | 'password'``):
stems for the stemmed languages (``configur`` marks ``configuration``), so a word of the text
is marked when it begins with one; Korean morphemes and Chinese words sit inside words with no
space between, so they are marked wherever they occur.
"""

from __future__ import annotations

import html
import re

WIDTH = 200
LEAD = 60
_LEXEME = re.compile(r"'((?:[^']|'')+)'")
_SPACE = re.compile(r"\s+")


def lexemes(tsquery_text: str) -> list[str]:
    """The lexemes of a tsquery written out by PostgreSQL."""
    return list(dict.fromkeys(found.replace("''", "'") for found in _LEXEME.findall(tsquery_text)))


def _unspaced(word: str) -> bool:
    # Hangul, Han and kana are written without spaces between words (Korean between morphemes).
    return any(ord(char) >= 0x1100 and char.isalpha() for char in word)


def _pattern(words: list[str]) -> re.Pattern[str] | None:
    parts = [
        re.escape(word) if _unspaced(word) else rf"\b{re.escape(word)}\w*"
        for word in sorted(words, key=len, reverse=True)
        if word
    ]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def snippet(text: str, words: list[str]) -> str:
    """About :data:`WIDTH` characters of ``text`` around its first match of ``words``, marked."""
    text = _SPACE.sub(" ", text).strip()
    pattern = _pattern(words)
    first = pattern.search(text) if pattern else None
    start = 0
    if first is not None and first.start() > LEAD:
        start = first.start() - LEAD
        space = text.find(" ", start, first.start())
        start = space + 1 if space != -1 and not _unspaced(text[start : first.start()]) else start
    end = min(len(text), start + WIDTH)
    if end < len(text):
        space = text.rfind(" ", start + WIDTH // 2, end)
        end = space if space != -1 else end
    window = text[start:end]
    marked = _mark(window, pattern) if pattern else html.escape(window)
    return ("…" if start > 0 else "") + marked + ("…" if end < len(text) else "")


def _mark(window: str, pattern: re.Pattern[str]) -> str:
    out: list[str] = []
    at = 0
    for found in pattern.finditer(window):
        out += [html.escape(window[at : found.start()]), "<mark>", html.escape(found.group()), "</mark>"]
        at = found.end()
    out.append(html.escape(window[at:]))
    # A word cut into several marked morphemes reads as one mark.
    return "".join(out).replace("</mark><mark>", "")
