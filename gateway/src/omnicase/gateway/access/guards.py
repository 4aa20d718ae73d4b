"""Request-level rules for light agents and end users: body fields, case ownership, response filtering.

Mass assignment is refused, not ignored: a field the role may not set is a 422
naming it, and nothing reaches the service. A case an end user does not own is
a 404 exactly like a case that does not exist, so guessing ids tells nothing.
"""

from __future__ import annotations

import json
from typing import Any

from omnicase.gateway.identity.principal import Principal
from omnicase.kit.errors import BadRequest, FieldError, Forbidden, NotFound, ValidationFailed

QueryValue = str | int | float | bool | None

# What a customer may say when opening a case; everything else is the service desk's to decide.
END_USER_CASE_FIELDS = frozenset({"subject", "description"})
# Fields of a message only the system sets (who wrote it, through what, when).
MESSAGE_SYSTEM_FIELDS = frozenset(
    {"id", "author", "author_id", "user_id", "contact_id", "via", "channel", "created_at"}
)


class CaseNotFound(NotFound):
    slug = "case-not-found"


class UnsupportedBody(BadRequest):
    slug = "json-body-required"


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise UnsupportedBody("The body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise UnsupportedBody("The body must be a JSON object.")
    return body


def _refuse(fields: list[str], why: str) -> None:
    if fields:
        raise ValidationFailed(
            f"These fields may not be set: {', '.join(fields)}.",
            errors=[FieldError(field=f"body.{name}", message=why, code="forbidden_field") for name in fields],
        )


def end_user_case_create(body: dict[str, Any]) -> dict[str, Any]:
    """The customer's fields only; the service makes the customer (from the identity) the requester."""
    _refuse(sorted(set(body) - END_USER_CASE_FIELDS), "customers may not set this field")
    return body


def end_user_reply(body: dict[str, Any]) -> None:
    denied = sorted(set(body) & MESSAGE_SYSTEM_FIELDS)
    if body.get("public") is False:
        denied.append("public")
    _refuse(denied, "customers may not set this field")


def light_agent_note(body: dict[str, Any]) -> None:
    _refuse(sorted(set(body) & MESSAGE_SYSTEM_FIELDS), "set by the system")
    if body.get("public") is not False:
        raise Forbidden('Light agents post internal notes only: send "public": false.')


def owns_case(principal: Principal, case: dict[str, Any]) -> bool:
    if principal.contact_id is not None and case.get("requester_id") == str(principal.contact_id):
        return True
    return (
        principal.organization_cases
        and principal.organization_id is not None
        and case.get("organization_id") == str(principal.organization_id)
    )


def end_user_case_query(principal: Principal, query: list[tuple[str, QueryValue]]) -> list[tuple[str, QueryValue]]:
    """The list query narrowed to the customer's cases; their own filters on who requested are replaced."""
    kept = [(k, v) for k, v in query if k not in ("requester_id", "organization_id")]
    if principal.organization_cases and principal.organization_id is not None:
        return [*kept, ("organization_id", str(principal.organization_id))]
    return [*kept, ("requester_id", str(principal.contact_id))]


def keep_items(page: Any, keep: Any) -> Any:
    """A page (the JSON of a ``Page``) with only the items ``keep`` admits (second lock behind the service)."""
    if isinstance(page, dict) and isinstance(page.get("items"), list):
        return {**page, "items": [item for item in page["items"] if isinstance(item, dict) and keep(item)]}
    return page


def is_public_message(message: dict[str, Any]) -> bool:
    return message.get("public") is True
