"""Decode text parts whose declared charset may be wrong, unknown or missing."""

from __future__ import annotations

import codecs

# Labels that senders put on mail that is really UTF-8 more often than not.
_WEAK_LABELS = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252", ""}


def _known(charset: str) -> bool:
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    return True


def decode_text(payload: bytes, declared: str | None) -> tuple[str, str | None]:
    """Text of ``payload`` and a note when the declared charset could not be trusted.

    Order: the declared charset if it decodes strictly (UTF-8 first when the label is a
    weak one like us-ascii or latin-1 and the bytes are valid UTF-8), then UTF-8, then
    windows-1252, which maps every byte, so decoding never fails.
    """
    label = (declared or "").strip().strip('"').lower()
    if label in _WEAK_LABELS and not payload.isascii():
        try:
            return payload.decode("utf-8"), (f"declared {label or 'no charset'}, decoded as utf-8" if label else None)
        except UnicodeDecodeError:
            pass
    if label and _known(label):
        try:
            return payload.decode(label), None
        except UnicodeDecodeError:
            pass
    note = f"declared charset {label!r} did not decode; " if label else ""
    try:
        return payload.decode("utf-8"), (note + "decoded as utf-8") if label else None
    except UnicodeDecodeError:
        return payload.decode("cp1252", errors="replace"), note + "decoded as windows-1252"
