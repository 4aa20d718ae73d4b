"""FastAPI dependencies collaboration's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from omnicase.collaboration.experts.peers import Peers
from omnicase.collaboration.experts.service import ExpertFinder
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.collaboration.slack.service import SlackService
from omnicase.collaboration.state import CollaborationRuntime
from omnicase.collaboration.swarms.service import SwarmService


def _runtime(request: Request) -> CollaborationRuntime:
    runtime: CollaborationRuntime = request.app.state.runtime
    return runtime


def _swarm_service(request: Request) -> SwarmService:
    return _runtime(request).state.swarms


def _slack_service(request: Request) -> SlackService:
    return _runtime(request).state.slack


def _settings(request: Request) -> CollaborationSettings:
    return _runtime(request).settings


def _peers(request: Request) -> Peers:
    return _runtime(request).state.peers


def _expert_finder(request: Request) -> ExpertFinder:
    return _runtime(request).state.experts


SwarmsDep = Annotated[SwarmService, Depends(_swarm_service)]
SlackDep = Annotated[SlackService, Depends(_slack_service)]
SettingsDep = Annotated[CollaborationSettings, Depends(_settings)]
PeersDep = Annotated[Peers, Depends(_peers)]
ExpertsDep = Annotated[ExpertFinder, Depends(_expert_finder)]
