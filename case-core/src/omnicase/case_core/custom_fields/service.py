"""Custom field definitions: the typed fields every case may carry."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.custom_fields.repository import CustomFieldRepository, CustomFieldRow
from omnicase.case_core.custom_fields.schemas import CustomFieldCreate, CustomFieldUpdate
from omnicase.case_core.errors import CustomFieldNotFound
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import Conflict, FieldError, ValidationFailed
from omnicase.kit.ids import uuid7


class CustomFieldKeyTaken(Conflict):
    slug = "custom-field-key-taken"


class CustomFieldTypeConflict(Conflict):
    """A change the field's stored type does not allow (options for a text field, a regex field without its pattern)."""

    slug = "custom-field-type-conflict"


def _missing(field_id: uuid.UUID) -> CustomFieldNotFound:
    return CustomFieldNotFound(f"Custom field {field_id} does not exist.")


class CustomFieldService:
    async def all(self, session: AsyncSession) -> list[CustomFieldRow]:
        return await CustomFieldRepository(session).all()

    async def get(self, session: AsyncSession, field_id: uuid.UUID) -> CustomFieldRow:
        return await CustomFieldRepository(session).get_or_raise(field_id, _missing)

    async def create(self, session: AsyncSession, data: CustomFieldCreate) -> CustomFieldRow:
        now = utcnow()
        row = await CustomFieldRepository(session).insert(
            CustomFieldRow(
                id=uuid7(),
                key=data.key,
                label=data.label,
                type=data.type,
                options=tuple(data.options),
                pattern=data.pattern,
                required_on_solve=data.required_on_solve,
                active=data.active,
                created_at=now,
                updated_at=now,
            ),
        )
        if row is None:
            raise CustomFieldKeyTaken(f"A custom field with key {data.key!r} exists already.")
        return row

    async def update(self, session: AsyncSession, field_id: uuid.UUID, data: CustomFieldUpdate) -> CustomFieldRow:
        current = await self.get(session, field_id)
        sent = data.model_fields_set
        values: dict[str, Any] = {name: getattr(data, name) for name in sent}
        errors: list[FieldError] = []
        kind = current.type
        if "options" in sent and values["options"] is not None:
            if len(set(values["options"])) != len(values["options"]):
                errors.append(FieldError(field="body.options", message="must be unique", code="options"))
            elif kind != "dropdown":
                errors.append(FieldError(field="body.options", message="only a dropdown has options", code="type"))
        if "pattern" in sent:
            if kind != "regex":
                errors.append(FieldError(field="body.pattern", message="only a regex field has a pattern", code="type"))
            elif not values["pattern"]:
                errors.append(FieldError(field="body.pattern", message="a regex field needs a pattern", code="type"))
            else:
                re.compile(values["pattern"])  # validated by the schema already
        # What the field's stored type refuses (options of a text field, no pattern for a regex
        # field) is a 409; what the values alone break (the schema says it too) a 422.
        if any(error.code != "type" for error in errors):
            raise ValidationFailed(f"Custom field {field_id} cannot be changed as asked.", errors=errors)
        if errors:
            raise CustomFieldTypeConflict(
                f"Custom field {field_id} is a {kind} field; it cannot take that.", errors=errors
            )
        values["updated_at"] = utcnow()
        return await CustomFieldRepository(session).update(field_id, values)

    async def delete(self, session: AsyncSession, field_id: uuid.UUID) -> None:
        """Values already stored on cases stay in their history; the field stops being accepted."""
        await self.get(session, field_id)
        await CustomFieldRepository(session).delete(field_id)
