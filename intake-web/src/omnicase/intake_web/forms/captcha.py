"""Captcha verification against the provider's siteverify endpoint.

reCAPTCHA, hCaptcha and Turnstile share one protocol: POST ``secret``,
``response`` and ``remoteip`` form-encoded, read ``success`` from the JSON answer.
"""

from __future__ import annotations

import logging

import httpx

logger = logging.getLogger(__name__)


class CaptchaUnavailable(Exception):
    """The provider could not be asked; the submitter should retry later."""


async def verify(
    client: httpx.AsyncClient, url: str, secret: str, response: str, remote_ip: str | None, wait_seconds: float
) -> bool:
    form = {"secret": secret, "response": response}
    if remote_ip:
        form["remoteip"] = remote_ip
    try:
        answer = await client.post(url, data=form, timeout=wait_seconds)
    except httpx.HTTPError as error:
        raise CaptchaUnavailable(str(error)) from error
    if answer.status_code >= 500:
        raise CaptchaUnavailable(f"siteverify answered {answer.status_code}")
    try:
        body = answer.json()
    except ValueError as error:
        raise CaptchaUnavailable("siteverify answered something other than JSON") from error
    success = bool(isinstance(body, dict) and body.get("success") is True)
    if not success:
        codes = body.get("error-codes") if isinstance(body, dict) else None
        logger.info("captcha refused", extra={"error_codes": codes})
    return success
