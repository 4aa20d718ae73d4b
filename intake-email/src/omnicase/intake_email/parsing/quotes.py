"""Separate the new text of a reply from the quoted history and the signature."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lines that open quoted history in the common clients (Gmail, Apple Mail, Outlook,
# Thunderbird), in a few languages.
_ATTRIBUTION = re.compile(
    r"^\s*(?:On\s.+\swrote:|Le\s.+\sa\s+écrit\s*:|Am\s.+\sschrieb\s.*:|El\s.+\sescribió:|Op\s.+\sschreef\s.*:)\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(?:On|Le|Am|El|Op)\s.+", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"(?:wrote|a\s+écrit|schrieb|escribió|schreef)\s*:\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Forwarded message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}"
    r"|_{20,}|Begin forwarded message:)\s*$",
    re.IGNORECASE,
)
_OUTLOOK_HEADER = re.compile(r"^\s*\*?(?:From|De|Von|Van)\s*:\*?\s.+", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(?:Sent|Date|Envoyé|Gesendet|To|Subject|À|An)\s*:", re.IGNORECASE)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:Sent from my \w+.*|Sent from (?:Mail|Outlook) for .+|Get Outlook for .+|Envoyé de mon .+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SplitText:
    new: str
    quoted: str
    signature: str


def _quote_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _ATTRIBUTION.match(line) or _SEPARATORS.match(line):
            return index
        # Gmail wraps long attributions onto two lines.
        if (
            _ATTRIBUTION_START.match(line)
            and index + 1 < len(lines)
            and _ATTRIBUTION_END.search(lines[index + 1])
            and len(line) + len(lines[index + 1]) < 300
        ):
            return index
        if _OUTLOOK_HEADER.match(line) and any(_OUTLOOK_NEXT.match(nxt) for nxt in lines[index + 1 : index + 4]):
            return index
        if line.startswith(">"):
            rest = [other for other in lines[index:] if other.strip()]
            # A block of quoted lines to the end (interleaved replies keep their text).
            if rest and sum(other.startswith(">") for other in rest) >= 0.8 * len(rest):
                return index
    return None


def split_reply(text: str) -> SplitText:
    """``new`` is what the sender wrote this time; ``quoted`` and ``signature`` are kept apart."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quoted = ""
    start = _quote_start(lines)
    if start is not None and any(line.strip() for line in lines[:start]):
        quoted = "\n".join(lines[start:]).strip("\n")
        lines = lines[:start]
    signature = ""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index] in ("-- ", "--") and index > 0:
            signature = "\n".join(lines[index + 1 :]).strip()
            lines = lines[:index]
            break
    else:
        tail = [index for index, line in enumerate(lines) if line.strip()]
        if tail and _MOBILE_SIGNATURE.match(lines[tail[-1]]) and len(tail) > 1:
            signature = lines[tail[-1]].strip()
            lines = lines[: tail[-1]]
    new = "\n".join(line.rstrip() for line in lines).strip("\n")
    return SplitText(new=new.strip(), quoted=quoted, signature=signature)
