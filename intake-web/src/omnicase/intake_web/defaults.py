"""What a form or channel applies to each case it opens, as a request body takes it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from omnicase.kit.brands import SLUG_PATTERN, BrandDirectory
from omnicase.kit.events import CaseDefaults
from omnicase.kit.inputs import StrictInput

# A brand by its slug (case-core's brands, /api/v1/brands): a slug no brand has is refused where a
# body names it (the kit's BrandDirectory.check), a string that is no slug by the schema.
BrandSlug = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SLUG_PATTERN)]


class RouteDefaults(StrictInput, CaseDefaults):
    """The event contract's :class:`CaseDefaults` held to a request body's rules: no other field, and
    texts, keys and custom values that can be stored, all said in its schema."""

    brand: BrandSlug | None = Field(
        default=None,
        description="The slug of a brand of `/api/v1/brands`: every case the route opens carries it.",
        examples=["acme"],
    )

    language: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=20)] | None
    ) = Field(
        default=None,
        description="The language of every case the route opens (`ko`, `zh-CN`): case-core takes it as "
        "stated instead of detecting one. A form's page language, when the customer chose it, comes first.",
    )


async def check_brands(brands: BrandDirectory | None, references: dict[str, str | None]) -> None:
    """Refuse a route naming a brand nobody has (``references``: each field, such as
    ``body.defaults.brand``, to the slug it names): the kit's 404 ``unknown-reference``, or a 503
    when case-core cannot answer, before anything is written. ``brands`` is None only in a service
    built to read (a webhook finding its channel), which never writes a route."""
    if brands is None:
        raise RuntimeError("a route is written by a service built without the brand directory")
    await brands.check(references)
