"""case-core's brands as the other services see them: asked over its API, never read from its tables.

case-core owns brands (``/api/v1/brands``, issue 22). A service whose records name a brand by its
slug (knowledge's sections and articles, intake-web's forms and channels) refuses a slug no brand
has, and a customer-facing page of a brand wears its look; both ask the :class:`BrandDirectory`,
signed as the calling service with ``cases:read``. A brand's slug is fixed once created, so a
record naming a brand by slug names it as surely as by id.

Writes ask case-core afresh (an admin creating a brand and then a form for it must not be refused
by a stale answer); pages read the directory's copy, kept for ``ttl_seconds`` (a changed logo
shows within that time), so a page view costs no call. Asked before the request's transaction
writes anything, so no transaction waits on it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from html import escape
from typing import Any, Protocol

from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, ServiceUnavailable, refusal
from omnicase.kit.events import BrandLook
from omnicase.kit.peers import PeerClient, PeerUnavailable

SCOPES = frozenset({"cases:read"})
# A brand slug's shape, as case-core's brands have it.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


def slug_of(name: str) -> str:
    """A brand string as a slug: lower case, runs of other characters as one dash, at most 100.

    Migrations turning the free brand strings of before brands into slugs use it (case-core's
    0012, knowledge's 0010): what it answers for a string never changes.
    """
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-_")[:100].rstrip("-_")
    return slug or "brand"


def look_of(brand: Mapping[str, Any]) -> BrandLook:
    """A brand of case-core's API as the look its pages and emails wear."""
    colors = brand.get("colors") or {}
    return BrandLook(
        slug=brand["slug"],
        name=brand["name"],
        signature=brand.get("email_signature") or "",
        logo_url=brand.get("logo_url"),
        primary_color=colors.get("primary"),
        locale=brand.get("default_locale"),
    )


def masthead(brand: BrandLook | None) -> tuple[str, str]:
    """How a customer-facing page wears ``brand``: its mark (HTML: the logo with the brand's name as
    its alternative text, else the name) for the page's header, and a CSS rule drawing the brand's
    primary colour as the header's top border; both empty without a brand. The colour is a rule,
    never behind text, so no brand's colour can break the page's contrast."""
    if brand is None:
        return "", ""
    mark = (
        f'<p class="brand"><img src="{escape(brand.logo_url)}" alt="{escape(brand.name)}" height="40"></p>'
        if brand.logo_url
        else f'<p class="brand">{escape(brand.name)}</p>'
    )
    rule = f"header{{border-top:.4rem solid {escape(brand.primary_color)}}}" if brand.primary_color else ""
    return mark, rule


class CaseCoreAddress(Protocol):
    """The settings of a service that asks case-core for brands: where case-core is (its own
    ``case_core_url``, else the suite's service URLs), how long it may take, the suite's secret."""

    @property
    def case_core_url(self) -> str | None: ...

    @property
    def case_core_timeout_seconds(self) -> float: ...

    @property
    def internal_secret(self) -> str: ...

    def service_url(self, name: str) -> str: ...


class BrandDirectory(PeerClient):
    def __init__(
        self, base_url: str, secret: str, *, caller: str, ttl_seconds: float = 30.0, timeout_seconds: float = 5.0
    ) -> None:
        super().__init__("case-core", base_url, secret, caller=caller, scopes=SCOPES, timeout_seconds=timeout_seconds)
        self.ttl_seconds = ttl_seconds
        self._known: dict[str, BrandLook] | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def asked_by(cls, caller: str, settings: CaseCoreAddress) -> BrandDirectory:
        """The directory service ``caller`` asks, where and as patiently as its ``settings`` say."""
        return cls(
            settings.case_core_url or settings.service_url("case-core"),
            settings.internal_secret,
            caller=caller,
            timeout_seconds=settings.case_core_timeout_seconds,
        )

    async def brands(self, *, fresh: bool = False) -> dict[str, BrandLook]:
        """Every brand by slug: case-core's answer now (``fresh``), else one at most ``ttl_seconds``
        old. :class:`~omnicase.kit.peers.PeerUnavailable` when case-core cannot answer."""
        if not fresh and self._known is not None and time.monotonic() - self._read_at < self.ttl_seconds:
            return self._known
        async with self._lock:
            if not fresh and self._known is not None and time.monotonic() - self._read_at < self.ttl_seconds:
                return self._known
            known: dict[str, BrandLook] = {}
            async for items in self.pages("/api/v1/brands"):
                known.update((item["slug"], look_of(item)) for item in items)
            self._known, self._read_at = known, time.monotonic()
            return known

    async def look(self, slug: str | None) -> BrandLook | None:
        """The look of brand ``slug`` for a page; None for no brand, one nobody has, or case-core
        not answering (the page is shown plain rather than not at all). A failed ask keeps the copy
        it had (none: no brands) for ``ttl_seconds``, so pages do not wait on a case-core that is down."""
        if slug is None:
            return None
        try:
            return (await self.brands()).get(slug)
        except PeerUnavailable:
            self._known, self._read_at = self._known or {}, time.monotonic()
            return self._known.get(slug)

    async def check(self, references: Mapping[str, str | None]) -> None:
        """Refuse a write naming a brand nobody has: ``references`` maps each field (``body.brand``)
        to the slug it names (None: no brand). A 404 ``unknown-reference`` naming each such field;
        a 503 when case-core cannot answer (nothing is written either way)."""
        named = {field: slug for field, slug in references.items() if slug is not None}
        if not named:
            return
        try:
            known = await self.brands(fresh=True)
        except PeerUnavailable as error:
            raise ServiceUnavailable("The brands cannot be checked right now; nothing was saved.") from error
        unknown = [
            FieldError(field=field, message=f"no brand has the slug {slug!r}", code=NOT_FOUND_CODE)
            for field, slug in named.items()
            if slug not in known
        ]
        if unknown:
            raise refusal("No brand has that slug: create the brand first (/api/v1/brands).", unknown)
