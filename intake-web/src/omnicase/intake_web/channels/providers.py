"""Sending one reply through a provider's HTTP API (base URLs are configuration).

Each sender returns the provider's message id or raises :class:`DeliveryError`,
``permanent`` when trying again cannot help (the provider refused the request).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import httpx

from omnicase.intake_web.channels import signatures
from omnicase.intake_web.channels.schemas import GenericConfig, MessengerConfig, SmsConfig, WhatsAppConfig
from omnicase.kit.clock import utcnow
from omnicase.kit.events import OutboundMessageRequested
from omnicase.kit.ids import uuid7

# Statuses worth trying again: timeouts, conflicts, too early, throttling.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


@dataclass
class DeliveryError(Exception):
    message: str
    permanent: bool = False
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Outgoing:
    conversation: str
    request: OutboundMessageRequested


def _url(base: object, path: str) -> str:
    return str(base).rstrip("/") + path


def _check(response: httpx.Response) -> None:
    if response.is_success:
        return
    detail = f"provider answered {response.status_code}: {response.text[:300]}"
    retry_after: float | None = None
    header = response.headers.get("retry-after", "")
    if header.isdigit():
        retry_after = float(header)
    permanent = 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_4XX
    raise DeliveryError(detail, permanent=permanent, retry_after=retry_after)


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError as error:
        raise DeliveryError("provider answered something other than JSON") from error
    if not isinstance(body, dict):
        raise DeliveryError("provider answered an unexpected JSON shape")
    return body


async def send_sms(http: httpx.AsyncClient, config: SmsConfig, out: Outgoing, wait_seconds: float) -> str:
    response = await http.post(
        _url(config.api_base_url, f"/2010-04-01/Accounts/{config.account_sid}/Messages.json"),
        data={"To": out.conversation, "From": config.from_number, "Body": out.request.text},
        auth=(config.account_sid, config.auth_token),
        timeout=wait_seconds,
    )
    _check(response)
    return str(_json(response).get("sid") or "")


async def send_whatsapp(http: httpx.AsyncClient, config: WhatsAppConfig, out: Outgoing, wait_seconds: float) -> str:
    response = await http.post(
        _url(config.api_base_url, f"/{config.phone_number_id}/messages"),
        json={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": out.conversation,
            "type": "text",
            "text": {"preview_url": False, "body": out.request.text},
        },
        headers={"Authorization": f"Bearer {config.access_token}"},
        timeout=wait_seconds,
    )
    _check(response)
    messages = _json(response).get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return str(messages[0].get("id") or "")
    return ""


async def send_messenger(http: httpx.AsyncClient, config: MessengerConfig, out: Outgoing, wait_seconds: float) -> str:
    response = await http.post(
        _url(config.api_base_url, "/me/messages"),
        json={
            "recipient": {"id": out.conversation},
            "messaging_type": "RESPONSE",
            "message": {"text": out.request.text},
        },
        headers={"Authorization": f"Bearer {config.access_token}"},
        timeout=wait_seconds,
    )
    _check(response)
    return str(_json(response).get("message_id") or "")


async def send_generic(http: httpx.AsyncClient, config: GenericConfig, out: Outgoing, wait_seconds: float) -> str:
    if config.outbound_url is None:
        raise DeliveryError("this integrator channel has no outbound_url", permanent=True)
    request = out.request
    body = json.dumps(
        {
            "type": "message.reply",
            "outbound_id": str(request.outbound_id),
            "case_id": str(request.case_id),
            "conversation_id": out.conversation,
            "subject": request.subject,
            "text": request.text,
            "html": request.html,
            "attachments": [a.model_dump(mode="json") for a in request.attachments],
        },
        separators=(",", ":"),
    ).encode()
    webhook_id = f"msg_{uuid7().hex}"
    timestamp = math.floor(utcnow().timestamp())
    response = await http.post(
        str(config.outbound_url),
        content=body,
        headers={
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures.standard_signature(config.secrets[0], webhook_id, timestamp, body),
        },
        timeout=wait_seconds,
    )
    _check(response)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    return str(answer.get("id")) if isinstance(answer, dict) and answer.get("id") else webhook_id
