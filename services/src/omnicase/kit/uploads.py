"""Messages with files: one JSON-or-multipart body reader, the blob refs it stores, the download answer.

A message route (case-core's replies and notes, collaboration's swarm thread) takes its fields as
``application/json``, or as ``multipart/form-data`` with files in ``attachments``; each file at most
``max_file_bytes`` (413 ``payload-too-large``), at most ``max_files`` of them (400 from the form
parser), anything else 415 ``unsupported-media-type``. The bytes go to the kit's blob store
(:mod:`omnicase.kit.blobs`) before the rows naming them commit; a download is always an attachment
(never rendered by the browser: the file is whoever sent it's, not ours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from omnicase.kit.blobs import BlobStore
from omnicase.kit.errors import FieldError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from omnicase.kit.events import AttachmentRef
from omnicase.kit.inputs import body_schema

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str | None
    content: bytes


def upload_filename(upload: UploadFile) -> str:
    # Browsers may send a full client path; keep the last component only.
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:255] or "attachment"


def invalid_body(error: ValidationError, title: str) -> ValidationFailed:
    fields = [
        FieldError(
            field=".".join(["body", *(str(part) for part in item["loc"])]), message=item["msg"], code=item["type"]
        )
        for item in error.errors()
    ]
    return ValidationFailed(title, errors=fields)


async def read_message_body(
    request: Request,
    model: type[ModelT],
    *,
    max_file_bytes: int,
    max_files: int,
    title: str = "The message is not valid.",
) -> tuple[ModelT, list[Upload]]:
    """The body's fields as ``model`` and its files (none for JSON), refused as the module says."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    files: list[Upload] = []
    if content_type == "application/json":
        try:
            return model.model_validate_json(await request.body()), files
        except ValidationError as error:
            raise invalid_body(error, title) from None
    if content_type not in {"multipart/form-data", "application/x-www-form-urlencoded"}:
        raise UnsupportedMediaType("Send application/json, or multipart/form-data to attach files.")
    # Refuse an oversized upload before the form parser spools it to disk.
    limit = max_file_bytes * max_files + 2 * 1024 * 1024
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request is larger than {limit} bytes.")
    fields: dict[str, Any] = {}
    errors: list[FieldError] = []
    # The context closes the spooled upload files however this ends.
    async with request.form(max_files=max_files, max_fields=_most_fields(model)) as form:
        for name, value in form.multi_items():
            if not isinstance(value, UploadFile):
                fields.setdefault(name, []).append(value)
            elif name != "attachments":
                errors.append(FieldError(field=f"body.{name}", message="files go in `attachments`", code="file"))
            else:
                data = await value.read(max_file_bytes + 1)
                if len(data) > max_file_bytes:
                    raise PayloadTooLarge(
                        f"{value.filename or 'An attachment'} is larger than {max_file_bytes} bytes.",
                        errors=[FieldError(field="body.attachments", message="file too large", code="too_large")],
                    )
                files.append(Upload(upload_filename(value), value.content_type, data))
    if errors:
        raise ValidationFailed(title, errors=errors)
    # A form field given once is a value; given again (a list field, e.g. mentions), a list.
    values = {
        name: items[0] if len(items) == 1 and not _is_list(model, name) else items for name, items in fields.items()
    }
    try:
        return model.model_validate(values), files
    except ValidationError as error:
        raise invalid_body(error, title) from None


# Form fields beyond the model's own that still reach its validation (a 422 naming them), not the parser's 400.
_UNKNOWN_FIELDS = 10
# A list field's share when the model bounds it not.
_UNBOUNDED_LIST = 50


def _most_fields(model: type[BaseModel]) -> int:
    """How many form fields a body of ``model`` may have: one a field, a list field as many as it takes."""
    most = _UNKNOWN_FIELDS
    for name, field in model.model_fields.items():
        if _is_list(model, name):
            bounds = [bound for item in field.metadata if (bound := getattr(item, "max_length", None)) is not None]
            most += min(bounds, default=_UNBOUNDED_LIST)
        else:
            most += 1
    return most


def _is_list(model: type[BaseModel], name: str) -> bool:
    field = model.model_fields.get(name)
    return field is not None and getattr(field.annotation, "__origin__", None) is list


async def store_uploads(blobs: BlobStore, files: list[Upload]) -> list[AttachmentRef]:
    """Store the files' bytes (before the rows naming them commit); their refs, in order."""
    digests = await blobs.put_many([upload.content for upload in files])
    return [
        AttachmentRef(
            sha256=digest,
            filename=upload.filename,
            content_type=(upload.content_type or "application/octet-stream")[:255],
            size=len(upload.content),
        )
        for upload, digest in zip(files, digests, strict=True)
    ]


def message_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a message route: ``model`` as JSON, or as a form with its files."""
    json_body = body_schema(model)
    properties = {
        # A form field cannot be null: a nullable field is its non-null type.
        name: schema["anyOf"][0] if "anyOf" in schema else schema
        for name, schema in json_body["properties"].items()
    }
    form_body = {
        **json_body,
        "properties": {
            **properties,
            "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
        },
    }
    return {
        "required": True,
        "content": {"application/json": {"schema": json_body}, "multipart/form-data": {"schema": form_body}},
    }


def files_request_body() -> dict[str, Any]:
    """The OpenAPI request body of an upload of files alone: a form with at least one in ``attachments``."""
    files = {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1}
    form = {
        "type": "object",
        "properties": {"attachments": files},
        "required": ["attachments"],
        "additionalProperties": False,
    }
    return {"required": True, "content": {"multipart/form-data": {"schema": form}}}


def publish_attachment_limit(app: FastAPI, path: str, most: int) -> None:
    """The files a message takes at ``path`` (POST), at most ``most``: said in its multipart schema
    (``maxItems``), as this deployment refuses more (400 from the form parser)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        form = document["paths"][path]["post"]["requestBody"]["content"]
        schema = form["multipart/form-data"]["schema"]
        files = {**schema["properties"]["attachments"], "maxItems": most}
        form["multipart/form-data"]["schema"] = {**schema, "properties": {**schema["properties"], "attachments": files}}
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def download_response(content: bytes, filename: str, content_type: str) -> Response:
    """The file as a download, never rendered inline, whatever its type says."""
    fallback = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return Response(
        content,
        media_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )
