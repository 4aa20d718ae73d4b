"""The snippet an admin pastes into a site: one script tag loading the channel's widget."""

from __future__ import annotations

import html
import uuid

from omnicase.intake_web.channels.definition import StoredChannel
from omnicase.intake_web.channels.schemas import WidgetConfig
from omnicase.kit.errors import Conflict


class NotAWidget(Conflict):
    slug, title = "not-a-widget", "Not a chat widget"


def widget_script_path(channel_id: uuid.UUID) -> str:
    return f"/public/messaging/{channel_id}/widget.js"


def render_snippet(channel: StoredChannel, script_url: str, locale: str | None) -> str:
    """``<script async src=… data-locale=…>``: the widget adds itself to the page once it loads."""
    if not isinstance(channel.config, WidgetConfig):
        raise NotAWidget(
            f"Channel {channel.id} is a {channel.kind.value} channel; only widget channels have a snippet."
        )
    language = f' data-locale="{html.escape(locale)}"' if locale else ""
    return (
        f"<!-- Omnicase chat: {html.escape(channel.name)} -->\n"
        f'<script async src="{html.escape(script_url)}"{language}></script>\n'
    )
