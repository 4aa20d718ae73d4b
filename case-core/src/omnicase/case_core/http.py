"""ETags, which case-core routers share (page sizes and cursors are the kit's: omnicase.kit.pagination)."""

from __future__ import annotations

import re

from omnicase.case_core.errors import PreconditionRequired
from omnicase.kit.errors import BadRequest, FieldError

# What an If-Match of this API looks like (a version in quotes, weak or not): published as the
# header's pattern and checked by expected_version, from this one constant.
ETAG_PATTERN = r'^(?:W/)?"([0-9]{1,9})"$'


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int:
    """The version an ``If-Match`` names; a write without one could overwrite someone's change unseen."""
    if if_match is None:
        raise PreconditionRequired(
            "Send If-Match with the case's ETag (its version) so no one else's change is overwritten.",
            errors=[FieldError(field="header.If-Match", message="required", code="missing")],
        )
    match = re.fullmatch(ETAG_PATTERN, if_match.strip(" \t"))
    if match is None:
        raise BadRequest(
            'If-Match must be the ETag the case was read with, e.g. "3".',
            errors=[FieldError(field="header.If-Match", message="not an ETag of this API", code="etag")],
        )
    return int(match.group(1))
