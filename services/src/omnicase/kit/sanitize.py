"""HTML as the suite shows it (messages to agents, knowledge articles): no script, no handlers, no trackers.

nh3 (the Ammonia sanitiser) parses like a browser does, which hand-written regexes
cannot. On top of its allow-list (which already drops ``<script>``, ``on*``
attributes and ``javascript:`` URLs) remote images are removed: loading them would
tell the sender when an agent opened the message (tracking pixels).
"""

from __future__ import annotations

import nh3

_ALLOWED_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}


def _drop_remote_sources(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute in {"src", "srcset"}:
        lowered = value.strip().lower()
        return value if lowered.startswith(("cid:", "data:image/")) else None
    return value


def sanitize_html(html: str | None, *, remote_images: bool = False) -> str | None:
    """``html`` with what a browser could run or load behind the reader's back removed.

    ``remote_images``: keep ``http(s)`` images, for HTML the suite's own staff wrote (a knowledge
    article) where an image is content rather than a sender's tracker.
    """
    if html is None:
        return None
    return nh3.clean(
        html,
        url_schemes=_ALLOWED_SCHEMES,
        attribute_filter=None if remote_images else _drop_remote_sources,
        link_rel="noopener noreferrer nofollow",
    )
