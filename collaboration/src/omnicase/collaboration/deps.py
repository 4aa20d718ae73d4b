"""FastAPI dependencies collaboration's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from omnicase.collaboration.state import CollaborationRuntime
from omnicase.collaboration.swarms.service import SwarmService


def _swarm_service(request: Request) -> SwarmService:
    runtime: CollaborationRuntime = request.app.state.runtime
    return runtime.state.swarms


SwarmsDep = Annotated[SwarmService, Depends(_swarm_service)]
