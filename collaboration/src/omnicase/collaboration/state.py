"""What collaboration holds while it runs, built in one place at start: its services, Slack's client and worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from omnicase.collaboration.cases.desk import CaseDesk
from omnicase.collaboration.experts.peers import Peers
from omnicase.collaboration.experts.service import ExpertFinder
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.collaboration.slack.client import SlackClient
from omnicase.collaboration.slack.service import SlackService
from omnicase.collaboration.slack.worker import SlackWorker
from omnicase.collaboration.swarms.service import SwarmService
from omnicase.kit.app import Runtime, Stop
from omnicase.kit.periodic import periodic


@dataclass(frozen=True)
class CollaborationState:
    swarms: SwarmService
    slack: SlackService
    slack_worker: SlackWorker
    experts: ExpertFinder
    peers: Peers


CollaborationRuntime = Runtime[CollaborationSettings, CollaborationState]


@asynccontextmanager
async def collaboration_state(runtime: Runtime[CollaborationSettings, Any]) -> AsyncIterator[CollaborationState]:
    settings = runtime.settings
    slack = SlackService(settings, settings.sealer())
    client = SlackClient(settings.slack_allowed_networks, timeout_seconds=settings.slack_timeout_seconds)
    peers = Peers(
        settings.routing_url or settings.service_url("routing"),
        settings.knowledge_url or settings.service_url("knowledge"),
        settings.internal_secret,
        timeout_seconds=settings.peer_timeout_seconds,
    )
    desk = CaseDesk(
        settings.case_core_url or settings.service_url("case-core"),
        settings.sla_engine_url or settings.service_url("sla-engine"),
        settings.internal_secret,
        timeout_seconds=settings.peer_timeout_seconds,
    )
    try:
        yield CollaborationState(
            swarms=SwarmService(runtime.outbox, slack, peers, desk),
            slack=slack,
            slack_worker=SlackWorker(runtime.database, settings, slack, client, peers),
            experts=ExpertFinder(peers, desk),
            peers=peers,
        )
    finally:
        await client.aclose()
        await peers.aclose()
        await desk.aclose()


async def start_slack_worker(runtime: CollaborationRuntime) -> Stop:
    worker = runtime.state.slack_worker
    loop = periodic(
        "slack-calls",
        runtime.settings.slack_poll_seconds,
        worker.run_once,
        busy=lambda claimed: claimed >= runtime.settings.slack_batch_size,
        jitter=0.1,
    )
    return loop.stop
