"""The caller behind a request's bearer token, for the gateway's routes and the proxy alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from omnicase.gateway.identity.errors import InvalidBearer
from omnicase.gateway.identity.principal import Principal
from omnicase.gateway.state import GatewayRuntime
from omnicase.kit.clock import utcnow


def bearer_token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


async def authenticate(request: Request) -> Principal:
    """The verified caller, or a 401 problem with an RFC 6750 challenge."""
    token = bearer_token(request)
    if token is None:
        raise InvalidBearer("This route needs a bearer token (an access token or an API token).", error=None)
    runtime: GatewayRuntime = request.app.state.runtime
    identity = runtime.state.identity
    database = runtime.database
    # Its own short transaction: a proxied request must not hold a connection while it streams.
    async with database.unit_of_work() as session:
        return await identity.authenticate(session, token, utcnow())


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
