"""Auto-response API shapes: the template (the shared templated text) and what is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from omnicase.case_core.templates import TemplatedText

_EXAMPLE: dict[str, Any] = {
    "text": "Thank you, {{requester.first_name}}. Your request is case #{{case.number}}.",
    "variants": [
        {"locale": "de", "text": "Danke, {{requester.first_name}}. Ihre Anfrage ist Fall #{{case.number}}."},
        {"brand": "acme", "text": "Acme got your request: case #{{case.number}}."},
    ],
}


class AutoResponseTemplate(TemplatedText):
    """The acknowledgement a new email case (when its mailbox sends one) or web-form case gets."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class AutoResponse(AutoResponseTemplate):
    built_in: bool = Field(description="True: no admin has set one; this is the default every install starts with.")
    updated_by: str | None = None
    updated_at: datetime | None = None
