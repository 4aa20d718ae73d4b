"""Pieces every routing schema shares."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from omnicase.kit.inputs import StrictInput

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class Input(StrictInput):
    """Request bodies: unknown fields are an error, not silently dropped."""
