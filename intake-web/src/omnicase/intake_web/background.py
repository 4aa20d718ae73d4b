"""Work intake-web does beside serving requests, started after the kit's parts."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from omnicase.intake_web.channels.delivery import DeliveryWorker
from omnicase.intake_web.forms import ratelimit
from omnicase.intake_web.forms.secrets import reseal_captcha_secrets
from omnicase.intake_web.messages.republish import republish_unacknowledged
from omnicase.intake_web.state import IntakeWebRuntime
from omnicase.kit.clock import utcnow
from omnicase.kit.periodic import periodic, stop_all

logger = logging.getLogger(__name__)

Stop = Callable[[], Awaitable[None]]


async def start(runtime: IntakeWebRuntime) -> Stop:
    settings, outbox, state = runtime.settings, runtime.outbox, runtime.state

    async def prune_rate_windows() -> None:
        async with runtime.database.unit_of_work() as session:
            await ratelimit.prune(session, utcnow())

    delivery = DeliveryWorker(runtime.database, outbox, state.http, settings, state.channel_secrets)

    async def reseal_secrets() -> int:
        async with runtime.database.unit_of_work() as session:
            return await state.channel_secrets.reseal(session) + await reseal_captcha_secrets(session, state.sealer)

    older_than = timedelta(seconds=settings.republish_after_seconds)
    return stop_all(
        [
            periodic(
                "intake-web:republish",
                settings.republish_interval_seconds,
                lambda: republish_unacknowledged(runtime.database, outbox, older_than),
            ),
            periodic("intake-web:prune-rate-windows", 60.0, prune_rate_windows),
            periodic("intake-web:check-forms", settings.form_cache_check_seconds, state.forms.check),
            periodic("intake-web:deliver", settings.delivery_interval_seconds, delivery.run_once),
            periodic("intake-web:widget-answers", settings.widget_answers_interval_seconds, state.answers.run_once),
            periodic(
                "intake-web:widget-unread-mail",
                settings.widget_email_interval_seconds,
                state.widget.mail_unread_replies,
            ),
            # Secrets stored before sealing, or under a master key that is no longer current.
            periodic("intake-web:reseal-secrets", 3600.0, reseal_secrets),
        ]
    )
