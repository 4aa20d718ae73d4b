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
from omnicase.intake_web.channels.sms import Encoding, measure, split_standalone
from omnicase.kit.clock import utcnow
from omnicase.kit.events import OutboundMessageRequested
from omnicase.kit.ids import uuid7

# Statuses worth trying again: timeouts, conflicts, too early, throttling.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


# Longest text one message may carry, as the providers document it.
WHATSAPP_MAX_TEXT = 4096
MESSENGER_MAX_TEXT = 2000


@dataclass
class DeliveryError(Exception):
    message: str
    permanent: bool = False
    retry_after: float | None = None
    # An SMS reply split into messages here: how many went out before the error (a retry resumes there).
    parts_sent: int = 0

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


@dataclass(frozen=True)
class SmsPlan:
    """How an SMS reply goes out on a channel: one body per API call, what it costs, or why it cannot."""

    encoding: Encoding
    segments: int
    bodies: list[str]
    refusal: str | None


def plan_sms(config: SmsConfig, text: str) -> SmsPlan:
    length = measure(text)
    refusal: str | None = None
    if config.concatenation == "provider":
        # The provider concatenates: one call, but it bills (and we record) every segment.
        bodies, segments = [text], len(length.segments)
        if len(text) > config.max_body_chars:
            refusal = (
                f"reply too long for SMS: {len(text)} characters ({length.encoding}, {segments} segments); "
                f"this provider accepts at most {config.max_body_chars} characters in one message"
            )
    else:
        bodies = split_standalone(text)
        segments = len(bodies)
    if refusal is None and segments > config.max_segments:
        refusal = (
            f"reply too long for SMS: {len(text)} characters would be {segments} SMS ({length.encoding}); "
            f"this channel allows at most {config.max_segments}"
        )
    return SmsPlan(encoding=length.encoding, segments=segments, bodies=bodies, refusal=refusal)


async def send_sms(
    http: httpx.AsyncClient, config: SmsConfig, out: Outgoing, wait_seconds: float, *, parts_sent: int = 0
) -> str:
    """Send the reply (resuming after ``parts_sent`` messages); the provider's id of the last message."""
    plan = plan_sms(config, out.request.text)
    if plan.refusal is not None:
        raise DeliveryError(plan.refusal, permanent=True)
    message_id = ""
    for index in range(parts_sent, len(plan.bodies)):
        try:
            response = await http.post(
                _url(config.api_base_url, f"/2010-04-01/Accounts/{config.account_sid}/Messages.json"),
                data={"To": out.conversation, "From": config.from_number, "Body": plan.bodies[index]},
                auth=(config.account_sid, config.auth_token),
                timeout=wait_seconds,
            )
            _check(response)
        except DeliveryError as error:
            error.parts_sent = index
            raise
        except httpx.HTTPError as error:
            raise DeliveryError(f"provider unreachable: {error!r}", parts_sent=index) from error
        message_id = str(_json(response).get("sid") or "")
    return message_id


def _refuse_longer_than(limit: int, provider: str, text: str) -> None:
    if len(text) > limit:
        raise DeliveryError(
            f"reply too long for {provider}: {len(text)} characters; it accepts at most {limit} in one message",
            permanent=True,
        )


async def send_whatsapp(http: httpx.AsyncClient, config: WhatsAppConfig, out: Outgoing, wait_seconds: float) -> str:
    _refuse_longer_than(WHATSAPP_MAX_TEXT, "WhatsApp", out.request.text)
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
    _refuse_longer_than(MESSENGER_MAX_TEXT, "Messenger", out.request.text)
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
