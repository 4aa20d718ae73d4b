"""Pieces every routing schema shares."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from omnicase.kit.inputs import Trimmed

# A name is trimmed and must keep a character, and its published pattern says so (as a rule's terms).
Name = Annotated[str, Trimmed(200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
