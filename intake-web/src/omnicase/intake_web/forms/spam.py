"""The forms' spam rules that refuse: the fill time and the captcha, asked of a form's submission and of a
chat's start (a widget takes the forms' rules).

A refusal is the same problem wherever it is asked, counted under the asking channel; the caller names the
field its answer came in. A filled honeypot is refused nowhere: a form stores its bait and a chat holds its
conversation, each answered as if accepted, so a bot learns nothing.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

import httpx

from omnicase.intake_web.forms import captcha, tokens
from omnicase.intake_web.forms.schemas import CaptchaSettingsIn
from omnicase.intake_web.metrics import REJECTIONS
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import BadRequest, FieldError, ServiceError, ServiceUnavailable


class SpamRefusal(ServiceError):
    reason: ClassVar[str]  # what it is counted under


class FillTokenInvalid(SpamRefusal, BadRequest):
    slug, title, reason = "form-token-invalid", "Form token missing or invalid", "token"


class SubmittedTooFast(SpamRefusal, BadRequest):
    slug, title, reason = "submitted-too-fast", "Submitted too quickly", "too_fast"


class CaptchaFailed(SpamRefusal, BadRequest):
    slug, title, reason = "captcha-failed", "Captcha failed", "captcha"


class CaptchaUnavailable(SpamRefusal, ServiceUnavailable):
    slug, title, reason = "captcha-unavailable", "Captcha check unavailable", "captcha_unavailable"


def check_fill_time(
    secret: str, subject_id: uuid.UUID, token: str, min_seconds: float, *, channel: str, field: str | None
) -> None:
    """Refused unless ``token`` (the fill-time token issued with the page, for ``subject_id``) is ours and at
    least ``min_seconds`` old; ``field``, when the caller's answer names one, is where the token came."""
    if min_seconds <= 0:
        return
    issued = tokens.issued_at(secret, subject_id, token) if token else None
    if issued is None:
        errors = [] if field is None else [FieldError(field=field, message="Missing or altered.", code="invalid")]
        raise _counted(
            channel,
            FillTokenInvalid(
                "The page's fill-time token is missing or altered; reload the page and try again.", errors=errors
            ),
        )
    elapsed = (utcnow() - issued).total_seconds()
    if elapsed < min_seconds:
        wait = max(1, int(min_seconds - elapsed + 0.999))
        raise _counted(
            channel,
            SubmittedTooFast(
                f"This was sent {max(elapsed, 0):.1f} s after it was shown; wait a moment and send it again.",
                headers={"Retry-After": str(wait)},
            ),
        )


async def check_captcha(
    http: httpx.AsyncClient,
    settings: CaptchaSettingsIn,
    response: str,
    remote_ip: str | None,
    timeout_seconds: float,
    *,
    channel: str,
    field: str,
) -> None:
    """Refused unless the provider passes ``response`` (what the captcha's widget gave, in ``field``)."""
    response = response.strip()
    if not response:
        raise _captcha_failed(channel, field, "Please complete the captcha challenge.", "Complete the challenge.")
    try:
        passed = await captcha.verify(http, settings.verify_url, settings.secret, response, remote_ip, timeout_seconds)
    except captcha.CaptchaUnavailable as error:
        raise _counted(
            channel,
            CaptchaUnavailable(
                "The captcha could not be checked right now; try again in a moment.", headers={"Retry-After": "30"}
            ),
        ) from error
    if not passed:
        raise _captcha_failed(
            channel, field, "The captcha answer was not accepted; please try again.", "The challenge was not passed."
        )


def _captcha_failed(channel: str, field: str, detail: str, message: str) -> SpamRefusal:
    return _counted(channel, CaptchaFailed(detail, errors=[FieldError(field=field, message=message, code="captcha")]))


def _counted(channel: str, refusal: SpamRefusal) -> SpamRefusal:
    REJECTIONS.labels(channel, refusal.reason).inc()
    return refusal
