"""How long a text is as SMS, counted the way networks and providers bill it (3GPP TS 23.038 / 23.040).

A text is GSM-7 when every character is in the GSM 03.38 basic table or its
extension table (``^{}\\[~]|€`` and form feed, each sent as ESC + character: two
septets); anything else makes the whole text UCS-2, counted in UTF-16 code units
(a character outside the BMP, an emoji, is a surrogate pair: two units).

One SMS carries 160 septets (GSM-7) or 70 units (UCS-2). A longer text is sent
as concatenated segments whose user-data header leaves 153 septets or 67 units
each; a segment never ends inside an escape sequence or a surrogate pair (the
character moves whole to the next segment, as providers do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

Encoding = Literal["GSM-7", "UCS-2"]

# (units in one SMS, units per segment of a concatenated SMS)
CAPACITY: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsLength:
    encoding: Encoding
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text."""
    segments: list[str]
    """The text as the network carries it: one part, or the concatenated segments in order."""


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def _cost(character: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if character in GSM7_EXTENSION else 1
    return 2 if ord(character) > 0xFFFF else 1


def _chunks(text: str, encoding: Encoding, limit: int) -> list[str]:
    """Whole characters packed into parts of at most ``limit`` units."""
    parts: list[str] = []
    start = used = 0
    for index, character in enumerate(text):
        cost = _cost(character, encoding)
        if used + cost > limit:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return parts


def measure(text: str) -> SmsLength:
    """The encoding, length and segments of ``text`` as one (possibly concatenated) SMS."""
    encoding = encoding_of(text)
    units = sum(_cost(c, encoding) for c in text)
    single, per_segment = CAPACITY[encoding]
    segments = [text] if units <= single else _chunks(text, encoding, per_segment)
    return SmsLength(encoding=encoding, units=units, segments=segments)


def split_standalone(text: str) -> list[str]:
    """``text`` as separate single SMS for a provider that does not concatenate.

    Each part fills one SMS (160 septets or 70 units: no concatenation header) and
    ends at a space or line break when one falls in its last quarter, so a reader
    does not see a word cut in two across messages.
    """
    encoding = encoding_of(text)
    single, _ = CAPACITY[encoding]
    parts: list[str] = []
    rest = text
    while rest:
        [head, *tail] = _chunks(rest, encoding, single)
        if tail:
            cut = max(head.rfind(" "), head.rfind("\n"))
            if cut >= len(head) * 3 // 4:
                head = head[: cut + 1]
        parts.append(head.rstrip() or head)
        rest = rest[len(head) :]
    return parts
