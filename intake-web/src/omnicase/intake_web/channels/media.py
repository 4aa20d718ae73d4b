"""Files customers send over messaging channels, fetched from the provider before the message is acknowledged.

A fetch that fails makes the webhook answer 503, so the provider delivers the
message again later instead of it arriving without its files.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass

import httpx

from omnicase.intake_web.channels.schemas import MessengerConfig, SmsConfig, WhatsAppConfig


@dataclass(frozen=True)
class MediaRef:
    """Where a provider keeps one file: a URL (SMS, Messenger) or a media id (WhatsApp)."""

    url: str | None = None
    media_id: str | None = None
    content_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Media:
    filename: str
    content_type: str
    data: bytes


class MediaUnavailable(Exception):
    """The provider did not hand over a file; the sender should retry the webhook."""


class MediaTooLarge(Exception):
    """A file over the size limit: the message is kept without it (retrying cannot help)."""


ChannelConfigWithMedia = SmsConfig | WhatsAppConfig | MessengerConfig


async def fetch(
    http: httpx.AsyncClient, config: ChannelConfigWithMedia, ref: MediaRef, index: int, limit: int, wait: float
) -> Media:
    if isinstance(config, WhatsAppConfig):
        # The Cloud API first resolves a media id to a short-lived URL, both behind the access token.
        auth = {"Authorization": f"Bearer {config.access_token}"}
        meta = await _get(http, f"{str(config.api_base_url).rstrip('/')}/{ref.media_id}", auth, limit, wait)
        try:
            info = json.loads(meta.content)
            url = str(info["url"])
        except (ValueError, KeyError, TypeError) as error:
            raise MediaUnavailable("the media lookup did not return a URL") from error
        answer = await _get(http, url, auth, limit, wait)
    elif isinstance(config, SmsConfig):
        answer = await _get(http, ref.url or "", {}, limit, wait, auth=(config.account_sid, config.auth_token))
    else:
        answer = await _get(http, ref.url or "", {}, limit, wait)
    content_type = (ref.content_type or answer.headers.get("content-type") or "application/octet-stream").split(";")[0]
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return Media(
        filename=ref.filename or f"attachment-{index + 1}{extension}", content_type=content_type, data=answer.content
    )


async def _get(
    http: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    limit: int,
    wait: float,
    auth: tuple[str, str] | None = None,
) -> Fetched:
    if not url.startswith(("https://", "http://")):
        raise MediaUnavailable("no usable media URL")
    try:
        async with http.stream("GET", url, headers=headers, auth=auth, timeout=wait, follow_redirects=True) as response:
            if not response.is_success:
                raise MediaUnavailable(f"media fetch answered {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise MediaTooLarge(f"a file is larger than {limit} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as error:
        raise MediaUnavailable(f"media fetch failed: {error!r}") from error
    return Fetched(content=b"".join(chunks), headers=response.headers)


@dataclass(frozen=True)
class Fetched:
    content: bytes
    headers: httpx.Headers
