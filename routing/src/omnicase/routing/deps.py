"""FastAPI dependencies routing's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from omnicase.kit.db import SessionDep
from omnicase.routing.state import RoutingRuntime
from omnicase.routing.work.service import RoutingService


def _routing_service(request: Request, session: SessionDep) -> RoutingService:
    runtime: RoutingRuntime = request.app.state.runtime
    return RoutingService(session, runtime.outbox, runtime.settings)


# The same request session as SessionDep (FastAPI caches a dependency per request).
RoutingDep = Annotated[RoutingService, Depends(_routing_service)]
