"""Streaming reverse proxy from the public paths to the owning service.

Bodies stream both ways (a 25 MB attachment is never held whole in memory). The
request id and trace id go along. Nothing is retried: a POST that timed out may
have been applied, and only the client can decide to send it again.
"""

from __future__ import annotations

import logging

import httpx
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from omnicase.gateway.routes import owner_of
from omnicase.kit.context import REQUEST_ID_HEADER, TRACE_ID_HEADER, request_id_var, trace_id_var
from omnicase.kit.errors import NotFound, ServiceUnavailable

logger = logging.getLogger(__name__)

# RFC 9110 §7.6.1 connection-specific headers, never forwarded.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}

router = APIRouter(include_in_schema=False)


def build_client(connect_timeout: float, read_timeout: float, max_connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        transport=httpx.AsyncHTTPTransport(retries=0),
        follow_redirects=False,
    )


def _forward_headers(request: Request) -> list[tuple[str, str]]:
    headers = [(name, value) for name, value in request.headers.items() if name.lower() not in HOP_BY_HOP]
    headers = [(n, v) for n, v in headers if n.lower() not in (REQUEST_ID_HEADER.lower(), TRACE_ID_HEADER.lower())]
    headers.append((REQUEST_ID_HEADER, request_id_var.get() or ""))
    headers.append((TRACE_ID_HEADER, trace_id_var.get() or ""))
    if request.client:
        headers.append(("X-Forwarded-For", request.client.host))
    headers.append(("X-Forwarded-Proto", request.url.scheme))
    return headers


@router.api_route(
    "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], include_in_schema=False
)
async def proxy(request: Request, path: str) -> Response:
    service = owner_of(request.url.path)
    if service is None:
        raise NotFound(f"No resource at {request.url.path}.")
    base_url = request.app.state.runtime.extra["service_urls"].get(service)
    if base_url is None:
        raise ServiceUnavailable(f"The {service} service is not configured.")
    client: httpx.AsyncClient = request.app.state.runtime.extra["http"]
    upstream_request = client.build_request(
        request.method,
        base_url.rstrip("/") + request.url.path,
        params=request.url.query.encode(),
        headers=_forward_headers(request),
        content=request.stream(),
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        logger.warning("upstream unreachable", extra={"service": service, "error": repr(error)})
        raise ServiceUnavailable(f"The {service} service is unreachable; try again shortly.") from error
    except httpx.TimeoutException as error:
        raise ServiceUnavailable(f"The {service} service did not answer in time.") from error
    response_headers = [(n, v) for n, v in upstream.headers.multi_items() if n.lower() not in HOP_BY_HOP]
    response = StreamingResponse(
        upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
    )
    response.raw_headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response_headers]
    return response
