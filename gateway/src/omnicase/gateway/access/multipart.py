"""Reading the fields of a multipart body without holding its files in memory.

A guarded request may carry attachments (a light agent's note with a screenshot,
a customer's reply with a photo). To apply the role's rule the gateway needs the
small text fields (``public``), which may come after the files. The body is
spooled (memory up to 1 MiB, then a temporary file), its text fields are read
with python-multipart's streaming parser, and the spooled bytes are then
streamed on to the service unchanged.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from typing import IO, Any

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from omnicase.gateway.access.guards import UnsupportedBody
from omnicase.kit.errors import PayloadTooLarge

SPOOL_IN_MEMORY = 1 << 20
CHUNK = 1 << 16
MAX_FIELD_BYTES = 64 * 1024


def boundary_of(content_type: str) -> bytes | None:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    boundary = options.get(b"boundary")
    if not boundary:
        raise UnsupportedBody("A multipart body needs a boundary.")
    return boundary


async def spool(stream: AsyncIterator[bytes], cap: int) -> IO[bytes]:
    """The whole body, in memory up to 1 MiB and on disk past it; 413 beyond ``cap``."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by the caller
    size = 0
    try:
        async for chunk in stream:
            size += len(chunk)
            if size > cap:
                raise PayloadTooLarge(f"The body is larger than {cap} bytes.")
            await asyncio.to_thread(spooled.write, chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled


def _text_fields(spooled: IO[bytes], boundary: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    state: dict[str, Any] = {"header": b"", "value": b"", "headers": {}, "data": bytearray(), "file": False}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["header"].lower()] = state["value"]
        state["header"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["name"] = options.get(b"name", b"").decode("utf-8", "replace")
        state["file"] = b"filename" in options

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if not state["file"]:
            state["data"] += data[start:end]
            if len(state["data"]) > MAX_FIELD_BYTES:
                raise UnsupportedBody(f"The form field {state['name']!r} is too long.")

    def on_part_end() -> None:
        if not state["file"]:
            fields[state["name"]] = bytes(state["data"]).decode("utf-8", "replace")
        else:
            fields.setdefault(state["name"], None)
        state.update(headers={}, data=bytearray(), file=False)

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        while chunk := spooled.read(CHUNK):
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as error:
        raise UnsupportedBody(f"The multipart body is malformed: {error}.") from error
    finally:
        spooled.seek(0)
    return fields


async def text_fields(spooled: IO[bytes], boundary: bytes) -> dict[str, Any]:
    """The form's fields: text fields with their value (``"true"``/``"false"`` as booleans), files as None."""
    fields = await asyncio.to_thread(_text_fields, spooled, boundary)
    flags = {"true": True, "false": False}
    return {
        name: flags.get(value.lower(), value) if isinstance(value, str) else value for name, value in fields.items()
    }


async def replay(spooled: IO[bytes]) -> AsyncIterator[bytes]:
    """The spooled body again, chunk by chunk; closes it at the end."""
    try:
        while chunk := await asyncio.to_thread(spooled.read, CHUNK):
            yield chunk
    finally:
        spooled.close()
