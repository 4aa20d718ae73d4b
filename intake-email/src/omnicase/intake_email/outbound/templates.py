"""Jinja2 templates of outbound mail, per brand, in plain text and HTML.

Lookup order for ``<name>.txt.j2`` / ``<name>.html.j2``: ``<templates_dir>/<brand>/``,
then ``<templates_dir>/default/``, then the built-in ``templates/default/``. An
operator overrides one template for one brand without copying the rest.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, TemplateNotFound

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
BUILT_IN = PackageLoader("omnicase.intake_email", "templates/default")


class TemplateRenderer:
    def __init__(self, overrides_dir: str | None) -> None:
        self.overrides_dir = Path(overrides_dir) if overrides_dir else None

    @lru_cache(maxsize=64)  # noqa: B019 (one renderer per process; brands are few)
    def _environment(self, brand: str | None) -> Environment:
        loaders: list[Any] = []
        if self.overrides_dir is not None:
            folders = [self.overrides_dir / brand] if brand else []
            folders.append(self.overrides_dir / "default")
            loaders.append(FileSystemLoader([str(folder) for folder in folders]))
        loaders.append(BUILT_IN)
        # Text templates must not be escaped; HTML ones must be.
        return Environment(
            loader=ChoiceLoader(loaders),
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, name: str, brand: str | None, context: dict[str, Any]) -> tuple[str, str | None]:
        """``(text, html)``; ``html`` is None when the template set has no HTML version."""
        environment = self._environment(brand)
        values = {
            "logo_url": None,
            "brand_name": brand or "",
            "signature": None,
            "brand_color": None,
            "locale": None,
            **context,
        }
        # Written into a style attribute: only a plain #rrggbb colour, whatever the event said.
        if not (isinstance(values["brand_color"], str) and _COLOUR.fullmatch(values["brand_color"])):
            values["brand_color"] = None
        text = environment.get_template(f"{name}.txt.j2").render(values).strip("\n") + "\n"
        try:
            html_template = environment.get_template(f"{name}.html.j2")
        except TemplateNotFound:
            return text, None
        return text, html_template.render(values)


def paragraphs(text: str) -> list[str]:
    """Plain text split into paragraphs for the HTML version of a text-only reply."""
    return [block.strip("\n") for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
