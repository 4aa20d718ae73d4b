"""Webhook API shapes: subscriptions, allowed networks, deliveries and their attempts."""

from __future__ import annotations

import ipaddress
import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StrictBool

from omnicase.case_core.webhooks.repository import AllowedNetworkRow, DeliveryRow, SubscriptionRow
from omnicase.kit.inputs import EmailAddress, StrictInput


class WebhookEventType(StrEnum):
    """What an integrator can subscribe to (``data`` is the case event's data, snapshot included)."""

    CASE_CREATED = "case.created"
    CASE_UPDATED = "case.updated"
    CASE_SOLVED = "case.solved"
    MESSAGE_ADDED = "case.message_added"
    SATISFACTION_RATED = "case.satisfaction_rated"
    SLA_BREACHED = "sla.breached"
    # Another subscription was disabled automatically (an integrator's monitoring endpoint hears of it).
    WEBHOOK_DISABLED = "webhook.disabled"


def _unique(values: list[WebhookEventType]) -> list[WebhookEventType]:
    return sorted(set(values))


EventTypes = Annotated[list[WebhookEventType], Field(min_length=1, max_length=20), AfterValidator(_unique)]
NotifyEmail = Annotated[
    EmailAddress,
    Field(
        description="Who is emailed when the subscription is disabled automatically.",
        examples=["integrations@example.com"],
    ),
]
WebhookUrl = Annotated[
    HttpUrl, Field(description="http(s) endpoint receiving POSTs.", examples=["https://hooks.example.com/omnicase"])
]


class WebhookCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/omnicase",
                    "event_types": ["case.created", "case.solved"],
                    "notify_email": "integrations@example.com",
                }
            ]
        }
    )

    url: WebhookUrl
    event_types: EventTypes
    description: str = Field(default="", max_length=500)
    notify_email: NotifyEmail | None = Field(
        default=None,
        description="Required unless the operator set CASE_CORE_WEBHOOK_NOTIFY_EMAIL (then that is the default).",
    )


class WebhookUpdate(StrictInput):
    """Fields to change; ``active: true`` re-enables a disabled subscription and clears its failure count."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": True}]})

    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    description: str | None = Field(default=None, max_length=500)
    notify_email: NotifyEmail | None = None
    active: StrictBool | None = None


class Webhook(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    active: bool
    disabled_reason: str | None = Field(description="Why delivery stopped (410 Gone, sustained failure).")
    disabled_at: datetime | None
    notify_email: str | None = Field(description="Who is emailed when it is disabled automatically.")
    consecutive_failures: int
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "WebhookPage"


class WebhookWithSecret(Webhook):
    secret: str = Field(
        description="Signing secret (Standard Webhooks, `whsec_` + base64); verify `webhook-signature` with it.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}(?:/(?:3[0-2]|[12]?[0-9]))?"
_HEX = r"[0-9A-Fa-f]{1,4}"
_IPV6_ADDRESS = "|".join(
    [
        rf"(?:{_HEX}:){{7}}{_HEX}",
        rf"(?:{_HEX}:){{1,7}}:",
        *(rf"(?:{_HEX}:){{1,{6 - n}}}(?::{_HEX}){{1,{n + 1}}}" for n in range(6)),
        rf":(?::{_HEX}){{1,7}}",
        "::",
    ]
)
_IPV6 = rf"(?:{_IPV6_ADDRESS})(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?"
# An address or a network in CIDR notation, IPv4 or IPv6 (no netmask or zone forms): what the
# schema publishes and _network holds a value to before ipaddress reads it.
NETWORK_PATTERN = rf"^(?:{_IPV4}|{_IPV6})$"


def _network(value: str) -> str:
    try:
        if re.fullmatch(NETWORK_PATTERN, value) is None:
            raise ValueError(value)
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ValueError("not an IP network in CIDR notation, e.g. 10.20.0.0/16 or 127.0.0.1/32") from None


class AllowedNetworkCreate(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"network": "10.20.0.0/16"}]})

    network: Annotated[
        str, Field(max_length=64, json_schema_extra={"pattern": NETWORK_PATTERN}), AfterValidator(_network)
    ]
    note: str = Field(default="", max_length=500)


class AllowedNetwork(BaseModel):
    id: uuid.UUID
    network: str
    note: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: AllowedNetworkRow) -> AllowedNetwork:
        return cls(
            id=row.id, network=str(row.network), note=row.note, created_by=row.created_by, created_at=row.created_at
        )


class AllowedNetworkList(BaseModel):
    items: list[AllowedNetwork]


DeliveryStatus = Literal["pending", "succeeded", "failed"]


class Delivery(BaseModel):
    id: uuid.UUID = Field(description="Also the `webhook-id` header: the same on every retry.")
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    page_name: ClassVar[str] = "DeliveryPage"


class Attempt(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    response_body: str | None = Field(description="The first KiB of the receiver's answer.")
    duration_ms: int


class DeliveryDetail(Delivery):
    payload: dict[str, Any]
    attempt_log: list[Attempt]


def to_webhook(row: SubscriptionRow) -> Webhook:
    return Webhook.model_validate(row, from_attributes=True)


def to_delivery(row: DeliveryRow) -> Delivery:
    return Delivery.model_validate(row, from_attributes=True)
