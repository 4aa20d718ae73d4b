"""The hidden case reference carried by every outbound message.

Each case has an unguessable ``ref_token``. Outbound mail carries it as a marker
in the body, ``[ref:oc-<token>]`` (hidden in HTML); an intake that passes inbound
headers in ``metadata["headers"]`` may also carry it in ``X-Omnicase-Ref``.
A customer who edits the subject, or forwards the mail (the marker travels inside
the quoted text, ``>`` prefixes and all), still lands on the case. Being unguessable, unlike the ``[#1234]``
subject token, it can be trusted from any sender.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterable
from typing import Any

HEADER = "X-Omnicase-Ref"
_MARKER = re.compile(r"ref:oc-([0-9a-f]{20})", re.IGNORECASE)
_SUBJECT_NUMBER = re.compile(r"\[#(\d{1,18})\]")


def new_token() -> str:
    return secrets.token_hex(10)


def marker(token: str) -> str:
    return f"[ref:oc-{token}]"


def add_to_text(text: str, token: str) -> str:
    return f"{text.rstrip()}\n\n{marker(token)}\n"


def add_to_html(body: str, token: str) -> str:
    hidden = (
        '<div style="display:none;max-height:0;overflow:hidden;font-size:1px;color:transparent">'
        f"{html.escape(marker(token))}</div>"
    )
    return body + hidden


def tokens_in(texts: Iterable[str | None], metadata: dict[str, Any]) -> list[str]:
    """Reference tokens found in the bodies, the quoted history or the ``X-Omnicase-Ref`` header.

    intake-email hands the quoted and forwarded history separately (``quoted_text``),
    and a forwarded answer of ours often carries its marker only there.
    """
    found: list[str] = []
    quoted = metadata.get("quoted_text")
    if isinstance(quoted, str):
        texts = [*texts, quoted]
    headers = metadata.get("headers")
    if isinstance(headers, dict):
        for name, value in headers.items():
            if str(name).lower() == HEADER.lower() and isinstance(value, str):
                found += [match.lower() for match in _MARKER.findall(value)] or [value.strip().lower()]
    for text in texts:
        if text:
            found += [match.lower() for match in _MARKER.findall(text)]
    return list(dict.fromkeys(token for token in found if re.fullmatch(r"[0-9a-f]{20}", token)))


def subject_numbers(subject: str | None) -> list[int]:
    return [int(number) for number in _SUBJECT_NUMBER.findall(subject or "")]


def reply_subject(subject: str, number: int) -> str:
    base = subject if re.match(r"^\s*re:", subject, re.IGNORECASE) else f"Re: {subject}"
    return base if f"[#{number}]" in base else f"{base} [#{number}]"
