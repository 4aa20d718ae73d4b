"""Webhook routes (admins only): subscriptions, allowed networks, the delivery log, redelivery."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Response

from omnicase.case_core.identity import Actor, actor_of
from omnicase.case_core.webhooks.schemas import (
    AllowedNetwork,
    AllowedNetworkCreate,
    AllowedNetworkList,
    Attempt,
    Delivery,
    DeliveryDetail,
    Webhook,
    WebhookCreate,
    WebhookUpdate,
    WebhookWithSecret,
    to_delivery,
    to_webhook,
)
from omnicase.case_core.webhooks.service import (
    AddressNotAllowed,
    AllowedNetworkNotFound,
    DeliveryNotFound,
    DeliveryPending,
    NetworkAlreadyAllowed,
    WebhookDisabled,
    WebhookNotFound,
    WebhookService,
)
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, Forbidden, UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS, CurrentIdentity
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, decode_id_cursor, paginate
from omnicase.kit.routes import Doc, resource_routes

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=AUTH_PROBLEMS)


async def _admin(identity: CurrentIdentity) -> Actor:
    # Webhooks send case data to outside systems (and allow-listing opens internal networks).
    if identity.role != "admin":
        raise Forbidden("Only admins manage webhooks.")
    return actor_of(identity)


WebhookAdmin = Annotated[Actor, Depends(_admin)]


def _webhooks(services: ServicesDep) -> WebhookService:
    return services.webhooks


WebhooksDep = Annotated[WebhookService, Depends(_webhooks)]


# --- allowed networks (before /{webhook_id}, whose path would shadow them)


@router.get(
    "/allowed-networks",
    operation_id="list_webhook_allowed_networks",
    summary="List networks webhooks may reach although internal",
    response_model=AllowedNetworkList,
)
async def list_allowed_networks(session: SessionDep, webhooks: WebhooksDep, actor: WebhookAdmin) -> AllowedNetworkList:
    rows = await webhooks.networks(session)
    return AllowedNetworkList(items=[AllowedNetwork.of(row) for row in rows])


@router.post(
    "/allowed-networks",
    operation_id="create_webhook_allowed_network",
    summary="Allow webhooks into an internal network",
    status_code=201,
    response_model=AllowedNetwork,
    responses=problem_responses(NetworkAlreadyAllowed),
)
async def create_allowed_network(
    data: AllowedNetworkCreate, session: SessionDep, webhooks: WebhooksDep, actor: WebhookAdmin
) -> AllowedNetwork:
    """Loopback, private, link-local and reserved addresses are refused unless their network is listed here."""
    return AllowedNetwork.of(await webhooks.allow_network(session, data, actor.name))


@router.delete(
    "/allowed-networks/{network_id}",
    operation_id="delete_webhook_allowed_network",
    summary="Stop allowing an internal network",
    status_code=204,
    responses=problem_responses(AllowedNetworkNotFound),
)
async def delete_allowed_network(
    network_id: uuid.UUID, session: SessionDep, webhooks: WebhooksDep, actor: WebhookAdmin
) -> Response:
    await webhooks.remove_network(session, network_id)
    return Response(status_code=204)


# --- subscriptions


@router.get(
    "",
    operation_id="list_webhooks",
    summary="List webhook subscriptions",
    response_model=Page[Webhook],
    responses=problem_responses(BadRequest),
)
async def list_webhooks(
    session: SessionDep, webhooks: WebhooksDep, actor: WebhookAdmin, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[Webhook]:
    rows = await webhooks.subscriptions(session, after=decode_id_cursor(cursor), limit=limit + 1)
    return paginate(Page[Webhook], rows, limit, key=lambda row: [row.id], item=to_webhook)


@router.post(
    "",
    operation_id="create_webhook",
    summary="Subscribe an endpoint to events",
    status_code=201,
    response_model=WebhookWithSecret,
    responses=problem_responses(ValidationFailed, UnknownReference, AddressNotAllowed),
)
async def create_webhook(
    data: WebhookCreate, session: SessionDep, webhooks: WebhooksDep, actor: WebhookAdmin, response: Response
) -> WebhookWithSecret:
    """The answer carries the signing secret, this once: it is stored sealed and never shown again
    (rotate it to get a new one)."""
    row = await webhooks.create(session, data)
    response.headers["Location"] = f"/api/v1/webhooks/{row.id}"
    return WebhookWithSecret.model_validate(row, from_attributes=True)


resource_routes(
    router,
    _webhooks,
    with_session=True,
    key="webhook_id",
    item=Webhook,
    body=WebhookCreate,
    changes=WebhookUpdate,
    get=Doc("get_webhook", "Read a webhook subscription", (WebhookNotFound,), dependencies=[WebhookAdmin]),
    update=Doc(
        "update_webhook",
        "Change or re-enable a webhook subscription",
        (WebhookNotFound, ValidationFailed, UnknownReference, AddressNotAllowed),
        dependencies=[WebhookAdmin],
    ),
    delete=Doc(
        "delete_webhook",
        "Delete a webhook subscription and its delivery log",
        (WebhookNotFound,),
        dependencies=[WebhookAdmin],
    ),
)


@router.post(
    "/{webhook_id}/secret/rotate",
    operation_id="rotate_webhook_secret",
    summary="Replace a webhook's signing secret",
    response_model=WebhookWithSecret,
    responses=problem_responses(WebhookNotFound),
)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID, session: SessionDep, webhooks: WebhooksDep, actor: WebhookAdmin
) -> WebhookWithSecret:
    """The new secret is in this answer only. For a grace period (24 h by default) deliveries carry
    signatures by both secrets, so the receiver can switch without rejecting a single delivery."""
    return WebhookWithSecret.model_validate(await webhooks.rotate_secret(session, webhook_id), from_attributes=True)


@router.post(
    "/{webhook_id}/test",
    operation_id="test_webhook",
    summary="Send a test event",
    status_code=202,
    response_model=Delivery,
    responses=problem_responses(WebhookNotFound, WebhookDisabled),
)
async def test_webhook(
    webhook_id: uuid.UUID, session: SessionDep, webhooks: WebhooksDep, actor: WebhookAdmin
) -> Delivery:
    """Queues a signed `webhook.test` event, so an integrator can check their endpoint and signature check."""
    row = await webhooks.ping(session, webhook_id, actor.name)
    return Delivery.model_validate(row, from_attributes=True)


# --- delivery log


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="list_webhook_deliveries",
    summary="A webhook's delivery log, newest first",
    response_model=Page[Delivery],
    responses=problem_responses(WebhookNotFound, BadRequest),
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    session: SessionDep,
    webhooks: WebhooksDep,
    actor: WebhookAdmin,
    status: Annotated[
        Literal["pending", "succeeded", "failed"] | None, Query(description="Only deliveries in this state.")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[Delivery]:
    await webhooks.get(session, webhook_id)
    rows = await webhooks.deliveries(
        session, webhook_id, status=status, before=decode_id_cursor(cursor), limit=limit + 1
    )
    return paginate(Page[Delivery], rows, limit, key=lambda row: [row.id], item=to_delivery)


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    operation_id="get_webhook_delivery",
    summary="One delivery with its payload and every attempt",
    response_model=DeliveryDetail,
    responses=problem_responses(DeliveryNotFound),
)
async def get_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep, webhooks: WebhooksDep, actor: WebhookAdmin
) -> DeliveryDetail:
    row = await webhooks.delivery(session, webhook_id, delivery_id)
    attempts = [Attempt.model_validate(a, from_attributes=True) for a in await webhooks.attempts(session, delivery_id)]
    return DeliveryDetail(**to_delivery(row).model_dump(), payload=dict(row.payload), attempt_log=attempts)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    operation_id="redeliver_webhook_delivery",
    summary="Send a delivery again",
    status_code=202,
    response_model=Delivery,
    responses=problem_responses(WebhookNotFound, DeliveryNotFound, DeliveryPending),
)
async def redeliver(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep, webhooks: WebhooksDep, actor: WebhookAdmin
) -> Delivery:
    """Queued at once with a fresh retry budget; the same `webhook-id` lets the receiver deduplicate."""
    return Delivery.model_validate(await webhooks.redeliver(session, webhook_id, delivery_id), from_attributes=True)


def publish_notify_email_rule(app: FastAPI) -> None:
    """A deployment without CASE_CORE_WEBHOOK_NOTIFY_EMAIL refuses a new webhook that names nobody to
    tell when it is disabled; its document says so (``notify_email`` required, not null), so the rule a
    client reads is the one this deployment holds it to."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        create = document["components"]["schemas"]["WebhookCreate"]
        if "notify_email" not in create.setdefault("required", []):
            create["required"].append("notify_email")
            named = create["properties"]["notify_email"]
            choices = [choice for choice in named.pop("anyOf", []) if choice.get("type") != "null"]
            named.pop("default", None)
            create["properties"]["notify_email"] = {**named, **(choices[0] if choices else {})}
        return document

    app.openapi = openapi  # type: ignore[method-assign]
