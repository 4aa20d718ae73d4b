"""Case actions that span domains: an agent- or API-created case finds or creates its requester."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseRow
from omnicase.case_core.cases.schemas import CaseCreate
from omnicase.case_core.cases.service import MessageDraft, NewCase
from omnicase.case_core.identity import Actor
from omnicase.case_core.wiring import Services
from omnicase.kit.errors import FieldError, Forbidden, ValidationFailed, refusal
from omnicase.kit.events import Channel, Party

# What a customer may say when opening a case from a portal; the rest is for agents.
CUSTOMER_FIELDS = frozenset({"subject", "description"})


async def create_case(session: AsyncSession, services: Services, data: CaseCreate, actor: Actor) -> CaseRow:
    if actor.customer is not None:
        return await _create_for_customer(session, services, data, actor)
    requester_id = data.requester_id
    if data.requester is not None:
        errors = services.contacts.requester_errors(data.requester.email, data.requester.phone)
        if errors:
            raise refusal("The requester cannot be found or created as given.", errors)
        party = Party(email=data.requester.email, phone=data.requester.phone, name=data.requester.name)
        contact = await services.contacts.resolve(session, party, data.channel.value)
        if contact is None:
            raise ValidationFailed(
                "The requester has no usable email address or phone number.",
                errors=[FieldError(field="body.requester", message="no valid email or phone number", code="identity")],
            )
        requester_id = contact.id
    new = NewCase(
        subject=data.subject,
        channel=data.channel.value,
        description=data.description,
        status=data.status.value,
        priority=data.priority.value,
        type=data.type,
        requester_id=requester_id,
        assignee_id=data.assignee_id,
        group_id=data.group_id,
        brand=data.brand,
        tags=data.tags,
        custom_fields=data.custom_fields,
        problem_id=data.problem_id,
        language=data.language,
    )
    first = None
    if data.description:
        first = MessageDraft(
            direction="inbound",
            public=True,
            author=actor.name,
            author_role=actor.role,
            channel=data.channel.value,
            text=data.description,
        )
    return await services.cases.create(session, new, actor, first_message=first)


async def _create_for_customer(session: AsyncSession, services: Services, data: CaseCreate, actor: Actor) -> CaseRow:
    assert actor.customer is not None
    refused = sorted(data.model_fields_set - CUSTOMER_FIELDS)
    if refused:
        raise Forbidden(
            "Customers open a case with a subject and a description only.",
            errors=[FieldError(field=f"body.{name}", message="set by agents", code="forbidden") for name in refused],
        )
    contact_id = actor.customer.contact_id
    new = NewCase(
        subject=data.subject, channel=Channel.WEB.value, description=data.description, requester_id=contact_id
    )
    first = None
    if data.description:
        first = MessageDraft(
            direction="inbound",
            public=True,
            author=actor.name,
            author_role="customer",
            channel=Channel.WEB.value,
            text=data.description,
        )
    return await services.cases.create(session, new, actor, first_message=first)
