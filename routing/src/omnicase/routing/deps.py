"""FastAPI dependencies routing's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from omnicase.kit.app import Runtime
from omnicase.kit.db import SessionDep
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.work.service import RoutingService


def _routing_service(request: Request, session: SessionDep) -> RoutingService:
    runtime: Runtime = request.app.state.runtime
    assert runtime.outbox is not None, "routing runs with its outbox"
    assert isinstance(runtime.settings, RoutingSettings)
    return RoutingService(session, runtime.outbox, runtime.settings)


# The same request session as SessionDep (FastAPI caches a dependency per request).
RoutingDep = Annotated[RoutingService, Depends(_routing_service)]
