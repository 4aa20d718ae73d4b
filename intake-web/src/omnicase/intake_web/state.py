"""What intake-web holds while it runs, built in one place at start: its HTTP client, form cache and submissions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request

from omnicase.intake_web.channels.secrets import ChannelSecrets
from omnicase.intake_web.forms.cache import FormCache
from omnicase.intake_web.forms.submissions import SubmissionService
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.intake_web.voice.agents import CallAgents
from omnicase.intake_web.voice.outbound import CaseLookup
from omnicase.intake_web.widget.answers import WidgetAnswers
from omnicase.intake_web.widget.hub import ConversationFeed, ConversationHub
from omnicase.intake_web.widget.service import WidgetService
from omnicase.kit.app import Runtime, state_of
from omnicase.kit.brands import BrandDirectory
from omnicase.kit.schedules import ScheduleSource
from omnicase.kit.sealing import Sealer
from omnicase.kit.suggestions import ArticleSuggester


@dataclass(frozen=True)
class IntakeWebState:
    # Outbound calls: channel deliveries, provider media, captcha checks.
    http: httpx.AsyncClient
    forms: FormCache
    submissions: SubmissionService
    # Seals and opens the channels' provider tokens and signing secrets (stored sealed).
    channel_secrets: ChannelSecrets
    # Seals the forms' captcha secrets (forms.secrets).
    sealer: Sealer
    # The chat widget's conversations; their streams are woken through the hub.
    widget: WidgetService
    # The widget's answers first (knowledge's suggested articles).
    answers: WidgetAnswers
    # Which agent takes a call on hold (routing's view of its case).
    call_agents: CallAgents
    # A voice channel's business hours (sla-engine's schedules).
    schedules: ScheduleSource
    # Whether a case a call is placed from exists (case-core's case API).
    cases: CaseLookup
    # case-core's brands: those forms and channels may name, the look a hosted form wears.
    brands: BrandDirectory


IntakeWebRuntime = Runtime[IntakeWebSettings, IntakeWebState]


def intake_web_state(
    hub: ConversationHub,
) -> Callable[[Runtime[IntakeWebSettings, Any]], AbstractAsyncContextManager[IntakeWebState]]:
    """The state's factory; ``hub`` is shared with the consumer, which delivers the widget's replies."""

    @asynccontextmanager
    async def build(runtime: Runtime[IntakeWebSettings, Any]) -> AsyncIterator[IntakeWebState]:
        settings = runtime.settings
        feed = ConversationFeed(hub, settings.kafka_bootstrap_servers, settings.topic_prefix)
        await feed.start()
        try:
            async with _state(runtime, hub) as state:
                yield state
        finally:
            await feed.stop()

    return build


@asynccontextmanager
async def _state(runtime: Runtime[IntakeWebSettings, Any], hub: ConversationHub) -> AsyncIterator[IntakeWebState]:
    settings = runtime.settings
    http = httpx.AsyncClient(follow_redirects=False, headers={"User-Agent": "Omnicase intake-web"})
    sealer = settings.sealer()
    forms = FormCache(runtime.database, sealer)
    channel_secrets = ChannelSecrets(sealer)
    suggester = ArticleSuggester(
        settings.knowledge_url or settings.service_url("knowledge"),
        settings.internal_secret,
        caller="intake-web",
        timeout_seconds=settings.knowledge_timeout_seconds,
    )
    submissions = SubmissionService(runtime.database, runtime.outbox, runtime.blobs, runtime.settings, http, forms)
    call_agents = CallAgents(
        settings.routing_url or settings.service_url("routing"),
        settings.internal_secret,
        timeout_seconds=settings.routing_timeout_seconds,
    )
    cases = CaseLookup(settings.service_url("case-core"), settings.internal_secret)
    schedules = ScheduleSource(
        settings.sla_engine_url or settings.service_url("sla-engine"),
        settings.internal_secret,
        caller="intake-web",
        ttl_seconds=settings.schedule_ttl_seconds,
        timeout_seconds=settings.routing_timeout_seconds,
    )
    brands = BrandDirectory.asked_by("intake-web", settings)
    try:
        yield IntakeWebState(
            http=http,
            forms=forms,
            submissions=submissions,
            channel_secrets=channel_secrets,
            sealer=sealer,
            widget=WidgetService(runtime.database, runtime.outbox, runtime.blobs, hub, schedules),
            answers=WidgetAnswers(runtime.database, runtime.outbox, runtime.blobs, hub, suggester, channel_secrets),
            call_agents=call_agents,
            cases=cases,
            brands=brands,
            schedules=schedules,
        )
    finally:
        await schedules.aclose()
        await submissions.accepted.close()
        await cases.aclose()
        await call_agents.aclose()
        await brands.aclose()
        await suggester.aclose()
        await http.aclose()


def current_state(request: Request) -> IntakeWebState:
    return state_of(request, IntakeWebState)


StateDep = Annotated[IntakeWebState, Depends(current_state)]
