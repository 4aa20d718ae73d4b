"""HTML to readable plain text (for messages that only have HTML), stdlib only."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "table", "tr", "ul", "ol", "h1", "h2",
    "h3", "h4", "h5", "h6", "pre", "address", "hr", "form", "fieldset",
}  # fmt: skip
_SKIP = {"script", "style", "head", "title", "template", "noscript"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.pre_depth = 0
        self.links: list[str | None] = []

    def _break(self) -> None:
        text = "".join(self.current)
        if self.pre_depth == 0:
            text = re.sub(r"[ \t\r\n\f\v\u00a0]+", " ", text).strip()
        prefix = "> " * self.quote_depth
        for line in text.split("\n") if self.pre_depth else [text]:
            self.lines.append(prefix + line if line or prefix else line)
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag == "br":
            self._break()
        elif tag in _BLOCK or tag == "li" or tag == "blockquote":
            if self.current:
                self._break()
            if tag == "blockquote":
                self.quote_depth += 1
            elif tag == "li":
                self.current.append("- ")
            elif tag == "pre":
                self.pre_depth += 1
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")
        elif tag in ("td", "th") and self.current:
            self.current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK or tag in ("li", "blockquote"):
            if self.current:
                self._break()
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            elif tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            if tag in ("p", "div", "table", "blockquote") and self.lines and self.lines[-1].strip("> "):
                self.lines.append("> " * self.quote_depth)
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and href.startswith(("http://", "https://")) and href not in "".join(self.current):
                self.current.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skip_depth == 0:
            self.current.append(data)


def html_to_text(html: str) -> str:
    """Readable text: blocks on their own lines, lists as ``- ``, blockquotes as ``> `` quotes."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; this guards against pathological input only
        return re.sub(r"<[^>]+>", " ", html)
    if parser.current:
        parser._break()
    text = "\n".join(line.rstrip() for line in parser.lines)
    return re.sub(r"\n(?:[> ]*\n){2,}", "\n\n", text).strip()
