"""A stored form as the rest of the service sees it, and the rules an admin's definition must follow."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omnicase.intake_web.forms.autoresponse import PLACEHOLDERS, unknown_placeholders
from omnicase.intake_web.forms.schemas import (
    CAPTCHA_RESPONSE_FIELDS,
    RESERVED_NAMES,
    STANDARD_FIELDS,
    CaptchaSettingsOut,
    FieldType,
    Form,
    FormField,
    FormIn,
    SpamSettingsOut,
)
from omnicase.intake_web.forms.secrets import open_definition
from omnicase.kit.errors import FieldError
from omnicase.kit.sealing import Sealer


@dataclass(frozen=True)
class StoredForm:
    id: uuid.UUID
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime
    spec: FormIn

    @classmethod
    def from_row(cls, row: Any, sealer: Sealer) -> StoredForm:
        """The form as stored, its captcha secret opened."""
        return cls(
            id=row.id,
            enabled=row.enabled,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            spec=FormIn.model_validate(open_definition(sealer, row.definition, row.id)),
        )

    @property
    def siteverify_url(self) -> str | None:
        captcha = self.spec.spam.captcha
        if captcha is None:
            return None
        return captcha.verify_url

    @property
    def captcha_response_field(self) -> str | None:
        captcha = self.spec.spam.captcha
        return None if captcha is None else CAPTCHA_RESPONSE_FIELDS[captcha.provider]

    def public(self) -> Form:
        spec = self.spec
        captcha = None
        if spec.spam.captcha is not None:
            captcha = CaptchaSettingsOut(
                provider=spec.spam.captcha.provider,
                site_key=spec.spam.captcha.site_key,
                siteverify_url=self.siteverify_url or "",
            )
        return Form(
            id=self.id,
            name=spec.name,
            enabled=self.enabled,
            default_locale=spec.default_locale,
            title=spec.title,
            fields=spec.fields,
            defaults=spec.defaults,
            thank_you_url=str(spec.thank_you_url),
            spam=SpamSettingsOut(
                honeypot_field=spec.spam.honeypot_field, min_fill_seconds=spec.spam.min_fill_seconds, captcha=captcha
            ),
            daily_cap=spec.daily_cap,
            rate_limits=spec.rate_limits,
            allowed_origins=spec.allowed_origins,
            max_attachment_bytes=spec.max_attachment_bytes,
            max_attachments=spec.max_attachments,
            auto_response=spec.auto_response,
            auto_response_subject=spec.auto_response_subject,
            auto_response_text=spec.auto_response_text,
            suggest_articles=spec.suggest_articles,
            version=self.version,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def effective_type(field: FormField) -> FieldType:
    if field.kind == "standard":
        return STANDARD_FIELDS.get(field.key, FieldType.TEXT)
    return field.type or FieldType.TEXT


def definition_errors(form: FormIn) -> list[FieldError]:
    """Rules across fields that pydantic's per-field validation cannot see."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, field in enumerate(form.fields):
        path = f"body.fields.{index}"
        if field.key in seen:
            errors.append(FieldError(field=f"{path}.key", message=f"'{field.key}' appears twice.", code="duplicate"))
        seen.add(field.key)
        if field.kind == "standard":
            if field.key not in STANDARD_FIELDS:
                known = ", ".join(STANDARD_FIELDS)
                errors.append(
                    FieldError(
                        field=f"{path}.key",
                        message=f"'{field.key}' is not a standard field ({known}); use kind 'custom'.",
                        code="unknown_standard_field",
                    )
                )
            elif field.type is not None and field.type != STANDARD_FIELDS[field.key]:
                errors.append(
                    FieldError(
                        field=f"{path}.type",
                        message=f"The standard field '{field.key}' is always of type {STANDARD_FIELDS[field.key]}.",
                        code="fixed_type",
                    )
                )
        elif field.type == FieldType.FILE:
            errors.append(
                FieldError(
                    field=f"{path}.type",
                    message="Files are collected by the standard 'attachments' field.",
                    code="unsupported_type",
                )
            )
        if field.key in RESERVED_NAMES or field.key == form.spam.honeypot_field:
            errors.append(FieldError(field=f"{path}.key", message=f"'{field.key}' is reserved.", code="reserved"))
        if form.default_locale not in field.labels:
            errors.append(
                FieldError(
                    field=f"{path}.labels",
                    message=f"A label in the default locale '{form.default_locale}' is required.",
                    code="missing_label",
                )
            )
        if effective_type(field) == FieldType.SELECT and not field.options:
            errors.append(FieldError(field=f"{path}.options", message="A select needs options.", code="missing"))
        if field.options and effective_type(field) != FieldType.SELECT:
            errors.append(FieldError(field=f"{path}.options", message="Only select fields have options.", code="extra"))
    for part in ("auto_response_subject", "auto_response_text"):
        for locale, template in getattr(form, part).items():
            unknown = unknown_placeholders(template)
            if unknown:
                known = ", ".join("{{" + name + "}}" for name in sorted(PLACEHOLDERS))
                errors.append(
                    FieldError(
                        field=f"body.{part}.{locale}",
                        message=f"Unknown placeholder {', '.join(sorted(unknown))}; use {known}.",
                        code="unknown_placeholder",
                    )
                )
    if form.spam.honeypot_field in STANDARD_FIELDS:
        errors.append(
            FieldError(
                field="body.spam.honeypot_field",
                message="The honeypot must not share a standard field's name.",
                code="reserved",
            )
        )
    return errors
