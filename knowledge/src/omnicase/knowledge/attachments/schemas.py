"""An article's files as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.inputs import StrictInput


class AttachmentUpload(StrictInput):
    """The form of an upload: its files in `attachments` (multipart/form-data), no other field."""


class ArticleAttachment(BaseModel):
    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "ArticleAttachmentPage"

    article_id: uuid.UUID
    sha256: str
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    uploaded_by: str
    uploaded_at: datetime
    url: str = Field(description="Where staff download it (`/api/v1/kb/...`).")
    public_url: str = Field(
        description="Where customers download it (the help center), while a translation of the article is published; "
        "for links and images in the article's body."
    )


class ArticleAttachments(BaseModel):
    items: list[ArticleAttachment]
