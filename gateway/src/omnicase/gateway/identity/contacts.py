"""case-core's contacts, looked up when an end user is linked to one.

An end user's organization is the one case-core holds for their contact: it is
taken from there, and an admin who names another is refused, so nobody can
widen a customer's view by setting a field.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from omnicase.gateway.identity.errors import LinkConflict
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, ServiceUnavailable, UnknownReference
from omnicase.kit.identity import sign_identity


class ContactDirectory:
    def __init__(self, client: httpx.AsyncClient, base_url: str | None, secret: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/") if base_url else None
        self.secret = secret

    async def contact(self, contact_id: uuid.UUID) -> dict[str, Any] | None:
        """The contact, None when case-core does not know it; 503 when case-core cannot say."""
        if self.base_url is None:
            raise ServiceUnavailable("case-core is not configured; end users cannot be linked to contacts.")
        identity = sign_identity(
            subject="gateway", role="admin", scopes={"contacts:read"}, name="gateway", secret=self.secret, now=utcnow()
        )
        try:
            response = await self.client.get(
                f"{self.base_url}/api/v1/contacts/{contact_id}", headers={"X-Omnicase-Identity": identity}
            )
        except httpx.HTTPError as error:
            raise ServiceUnavailable("case-core is unreachable; the contact cannot be checked.") from error
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ServiceUnavailable(f"case-core answered {response.status_code} for the contact.")
        body: dict[str, Any] = response.json()
        return body

    async def organization_of(self, contact_id: uuid.UUID, named: uuid.UUID | None) -> uuid.UUID | None:
        """The contact's organization; a 404 if the contact is unknown, a 409 if ``named`` is another one."""
        contact = await self.contact(contact_id)
        if contact is None:
            raise UnknownReference(
                f"Contact {contact_id} does not exist.",
                errors=[FieldError(field="body.contact_id", message="no such contact", code=NOT_FOUND_CODE)],
            )
        raw = contact.get("organization_id")
        organization = uuid.UUID(raw) if raw else None
        if named is not None and named != organization:
            raise LinkConflict(
                "organization_id must be the contact's own organization.",
                errors=[
                    FieldError(field="body.organization_id", message="not the contact's organization", code="mismatch")
                ],
            )
        return organization
