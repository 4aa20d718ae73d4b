"""What a form or channel applies to each case it opens, as a request body takes it."""

from __future__ import annotations

from omnicase.kit.events import CaseDefaults
from omnicase.kit.inputs import StrictInput


class RouteDefaults(StrictInput, CaseDefaults):
    """The event contract's :class:`CaseDefaults` held to a request body's rules: no other field, and
    texts, keys and custom values that can be stored, all said in its schema."""
