"""Bytes of the files customers sent through forms and messaging, by sha256, for case-core.

A case message carries only each file's :class:`~omnicase.kit.events.AttachmentRef`; the
first time an agent downloads one, case-core fetches the bytes here (with its service
identity) and keeps its own copy. Reading needs ``cases:read``: whoever may read cases
may read what customers attached to them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from omnicase.intake_web.blobs import PostgresBlobStore
from omnicase.intake_web.forms.service import AttachmentNotFound
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import Forbidden, Unauthorized, problem_responses
from omnicase.kit.identity import Identity, area_access

router = APIRouter(prefix="/api/v1/channels/-/attachments", tags=["channels"])

CaseReader = Annotated[Identity, Depends(area_access("cases"))]


@router.get(
    "/{sha256}",
    operation_id="get_web_intake_attachment",
    summary="Bytes of a file a customer sent through a form or a messaging channel, by its sha256",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes."},
        **problem_responses(Unauthorized, Forbidden, AttachmentNotFound),
    },
)
async def get_attachment(
    session: SessionDep, sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")], _: CaseReader
) -> Response:
    content = await PostgresBlobStore(session).get(sha256)
    if content is None:
        raise AttachmentNotFound(f"No file with sha256 {sha256}.")
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"ETag": f'"{sha256}"', "Cache-Control": "private, max-age=31536000, immutable"},
    )
