"""HTML of messages as it may be shown to an agent: no script, no handlers, no trackers.

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


def sanitize_html(html: str | None) -> str | None:
    if html is None:
        return None
    return nh3.clean(
        html,
        url_schemes=_ALLOWED_SCHEMES,
        attribute_filter=_drop_remote_sources,
        link_rel="noopener noreferrer nofollow",
    )
