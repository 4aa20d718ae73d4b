"""A form's captcha secret at rest: sealed by the kit's master keys inside the stored definition.

The definition is kept whole as JSON; its ``spam.captcha.secret`` is a sealed token bound to
the form (:mod:`omnicase.kit.sealing`), so a database dump holds no secret, and the API
never returns it. A secret stored before sealing still works; the reseal pass (hourly, and
at start) seals it and re-wraps tokens under a master key that is no longer current.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.models import forms
from omnicase.kit.sealing import Sealer


def _context(form_id: uuid.UUID) -> str:
    return f"intake_web.forms.captcha_secret:{form_id}"


def _with_secret(definition: dict[str, Any], form_id: uuid.UUID, change: Callable[[str, str], str]) -> dict[str, Any]:
    captcha = (definition.get("spam") or {}).get("captcha")
    if not captcha or not captcha.get("secret"):
        return definition
    spam = definition["spam"] | {"captcha": captcha | {"secret": change(captcha["secret"], _context(form_id))}}
    return definition | {"spam": spam}


def seal_definition(sealer: Sealer, definition: dict[str, Any], form_id: uuid.UUID) -> dict[str, Any]:
    """The definition as stored: its captcha secret sealed."""
    return _with_secret(definition, form_id, sealer.seal)


def open_definition(sealer: Sealer, definition: dict[str, Any], form_id: uuid.UUID) -> dict[str, Any]:
    """The definition as the form uses it (a secret stored before sealing is used as it is)."""
    return _with_secret(definition, form_id, sealer.open_stored)


async def reseal_captcha_secrets(session: AsyncSession, sealer: Sealer) -> int:
    """Seal plain captcha secrets and re-wrap those under an old master key; how many forms changed."""
    rows = (await session.execute(select(forms.c.id, forms.c.definition).with_for_update(skip_locked=True))).all()
    changed = 0
    for row in rows:
        resealed = _with_secret(row.definition, row.id, sealer.reseal)
        if resealed != row.definition:
            await session.execute(update(forms).where(forms.c.id == row.id).values(definition=resealed))
            changed += 1
    return changed
