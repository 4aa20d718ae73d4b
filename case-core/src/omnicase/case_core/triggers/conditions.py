"""Whether a trigger's conditions hold for a case and the changes of the update being processed.

Pure functions over JSON values: ``case`` is the case's fields as JSON (ids as strings),
``changes`` maps a field to ``{"old": …, "new": …}`` for everything this update changed
so far (the caller's change and earlier rules' actions).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omnicase.case_core.triggers.schemas import Condition, Conditions, Hours
from omnicase.kit.clock import utcnow


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def holds(
    condition: Condition,
    case: dict[str, Any],
    changes: dict[str, dict[str, Any]],
    *,
    is_new: bool,
    now: datetime | None = None,
) -> bool:
    operator, field, expected = condition.operator, condition.field, condition.value
    if field == "time":
        inside = Hours.model_validate(expected).contain(now or utcnow())
        return inside if operator == "within" else not inside
    if field == "update_type":
        actual_type = "created" if is_new else "updated"
        return bool((actual_type == expected) == (operator == "is"))
    current = case.get(field)
    change = changes.get(field)
    if operator == "changed":
        return change is not None
    if operator == "not_changed":
        return change is None
    if operator == "changed_to":
        return change is not None and _text(change["new"]) == _text(expected)
    if operator == "changed_from":
        return change is not None and _text(change["old"]) == _text(expected)
    if operator == "present":
        return bool(current)
    if operator == "blank":
        return not current
    if field == "tags":
        tags = set(current or [])
        wanted = {str(tag).lower() for tag in (expected if isinstance(expected, list) else [expected])}
        if operator in ("contains", "is", "in"):
            return bool(tags & wanted)
        return not tags & wanted
    if operator == "contains":
        return _text(expected).lower() in _text(current).lower()
    if operator == "not_contains":
        return _text(expected).lower() not in _text(current).lower()
    if operator == "is":
        return _text(current) == _text(expected)
    if operator == "is_not":
        return _text(current) != _text(expected)
    if operator == "in":
        return _text(current) in {_text(value) for value in expected}
    return _text(current) not in {_text(value) for value in expected}


def matches(
    conditions: Conditions,
    case: dict[str, Any],
    changes: dict[str, dict[str, Any]],
    *,
    is_new: bool,
    now: datetime | None = None,
) -> bool:
    moment = now or utcnow()
    if not all(holds(c, case, changes, is_new=is_new, now=moment) for c in conditions.all):
        return False
    return not conditions.any or any(holds(c, case, changes, is_new=is_new, now=moment) for c in conditions.any)
