"""An article's Markdown as the HTML readers see and the plain text search reads.

markdown-it-py (CommonMark, plus tables and strikethrough) renders it; the kit's one
sanitiser cleans the result, so raw HTML an author wrote is held to the same allow-list as
everything else the suite shows. The plain text is taken from the same parse (text, code),
one line per block, so search never indexes markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from omnicase.kit.sanitize import sanitize_html

_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@dataclass(frozen=True)
class RenderedBody:
    html: str
    text: str


def render(body: str) -> RenderedBody:
    tokens = _MARKDOWN.parse(body)
    html = sanitize_html(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {}), remote_images=True)
    assert html is not None
    return RenderedBody(html=html, text=_plain_text(tokens))


def _plain_text(tokens: list[Token]) -> str:
    lines: list[str] = []
    for token in tokens:
        if token.type == "inline":
            lines.append("".join(_inline_text(child) for child in token.children or ()))
        elif token.type in ("code_block", "fence"):
            lines.append(token.content.rstrip("\n"))
    return "\n".join(line for line in lines if line.strip())


def _inline_text(token: Token) -> str:
    if token.type in ("text", "code_inline"):
        return token.content
    return " " if token.type in ("softbreak", "hardbreak") else ""
