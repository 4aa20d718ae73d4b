"""What a form or channel applies to each case it opens, as a request body takes it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from omnicase.kit.events import CaseDefaults
from omnicase.kit.inputs import StrictInput


class RouteDefaults(StrictInput, CaseDefaults):
    """The event contract's :class:`CaseDefaults` held to a request body's rules: no other field, and
    texts, keys and custom values that can be stored, all said in its schema."""

    language: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=20)] | None
    ) = Field(
        default=None,
        description="The language of every case the route opens (`ko`, `zh-CN`): case-core takes it as "
        "stated instead of detecting one. A form's page language, when the customer chose it, comes first.",
    )
