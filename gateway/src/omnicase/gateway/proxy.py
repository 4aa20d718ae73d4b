"""Streaming reverse proxy from the public paths to the owning service.

Order of work for each request: route to the owner (404), cap the page size
and the body (422, 413), authenticate (401, except ``/public/...``, which the
intake services verify by their own signatures), authorize (403), apply the
role's request guards (:mod:`omnicase.gateway.access.guards`), then forward
with the verified identity as a short-lived signed header. A client's own
``X-Omnicase-*`` headers never pass, and services never see its bearer token.

Bodies stream both ways (a 25 MB attachment is never held whole in memory);
only the small JSON bodies and pages a guard must read are buffered, capped.
Nothing is retried: a POST that timed out may have been applied, and only the
client can decide to send it again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from omnicase.gateway.access import guards, multipart
from omnicase.gateway.access.authn import authenticate
from omnicase.gateway.access.clientip import is_trusted, parse_networks
from omnicase.gateway.access.policy import Decision, Guard, authorize
from omnicase.gateway.identity.errors import InvalidBearer
from omnicase.gateway.identity.principal import Principal
from omnicase.gateway.metrics import REFUSED, UPSTREAM_REQUESTS, UPSTREAM_SECONDS
from omnicase.gateway.routes import is_public, owner_of
from omnicase.gateway.settings import GatewaySettings
from omnicase.gateway.state import GatewayRuntime
from omnicase.kit.clock import utcnow
from omnicase.kit.context import REQUEST_ID_HEADER, TRACE_ID_HEADER, request_id_var, trace_id_var
from omnicase.kit.errors import (
    FieldError,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
    allowed_methods,
)
from omnicase.kit.identity import IDENTITY_HEADER

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

BODY_GUARDS = {Guard.LIGHT_AGENT_NOTE, Guard.END_USER_CASE_CREATE, Guard.END_USER_REPLY}

# A body of declared length up to this size is read whole and sent with its length (one
# write, no chunked framing to add and parse, and for a response no streaming task); larger
# ones stream, as do bodies of unknown length (a live event stream).
SMALL_BODY_BYTES = 64 * 1024

QueryItems = list[tuple[str, str | int | float | bool | None]]

router = APIRouter(include_in_schema=False)


class BodyTooLarge(Exception):
    """Raised from the request stream when a body without Content-Length outgrows the cap."""


def _forward_headers(request: Request, principal: Principal | None, settings: GatewaySettings) -> httpx.Headers:
    dropped = {*HOP_BY_HOP, REQUEST_ID_HEADER.lower(), TRACE_ID_HEADER.lower()}
    if principal is not None:
        dropped.add("authorization")
    # Multi-valued, case-insensitive: repeated headers pass as sent; what the gateway sets replaces the client's.
    # As the bytes that came (a value beyond ASCII, which HTTP allows as opaque octets, passes as it is;
    # as text, httpx would encode it as ASCII and fail).
    # Without the whitespace around it, which is no part of a field's value (RFC 9110 5.5) and which
    # the upstream client refuses at a value's end.
    headers = httpx.Headers(
        [
            (name, value.strip(b" \t"))
            for name, value in request.headers.raw
            if (lowered := name.decode("latin-1").lower()) not in dropped and not lowered.startswith("x-omnicase-")
        ]
    )
    headers[REQUEST_ID_HEADER] = request_id_var.get() or ""
    headers[TRACE_ID_HEADER] = trace_id_var.get() or ""
    if request.client:
        forwarded = request.headers.get("x-forwarded-for")
        # A chain is passed on only from a trusted balancer; otherwise the peer starts a new one.
        if forwarded and is_trusted(request.client.host, parse_networks(settings.trusted_proxies)):
            headers["X-Forwarded-For"] = f"{forwarded}, {request.client.host}"
        else:
            headers["X-Forwarded-For"] = request.client.host
    headers["X-Forwarded-Proto"] = request.url.scheme
    if principal is not None:
        headers[IDENTITY_HEADER] = principal.identity_token(
            settings.internal_secret, utcnow(), settings.identity_token_seconds
        )
    return headers


def _check_limits(request: Request, settings: GatewaySettings) -> None:
    limit = request.query_params.get("limit")
    if limit is not None and limit.isdigit() and int(limit) > settings.max_page_size:
        raise ValidationFailed(
            f"limit may be at most {settings.max_page_size}.",
            errors=[
                FieldError(field="query.limit", message=f"at most {settings.max_page_size}", code="less_than_equal")
            ],
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
        raise PayloadTooLarge(f"The body is larger than {settings.max_body_bytes} bytes.")


async def _capped(stream: AsyncIterator[bytes], cap: int) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        yield chunk


async def _read_capped(request: Request, cap: int) -> bytes:
    chunks = bytearray()
    async for chunk in request.stream():
        chunks.extend(chunk)
        if len(chunks) > cap:
            raise PayloadTooLarge(f"This request's body may be at most {cap} bytes.")
    return bytes(chunks)


def _apply_guard(decision: Decision, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    if decision.guard is Guard.END_USER_CASE_CREATE:
        return guards.end_user_case_create(body)
    if decision.guard is Guard.END_USER_REPLY:
        guards.end_user_reply(body)
    elif decision.guard is Guard.LIGHT_AGENT_NOTE:
        guards.light_agent_note(body)
    return body


async def _guarded_content(
    request: Request, decision: Decision, principal: Principal, settings: GatewaySettings, headers: httpx.Headers
) -> AsyncIterator[bytes] | bytes:
    """The body to forward once the role's rule has read it: JSON (rewritten) or multipart (spooled, unchanged)."""
    boundary = None
    if decision.guard is not Guard.END_USER_CASE_CREATE:
        boundary = multipart.boundary_of(request.headers.get("content-type", ""))
    if boundary is None:
        body = guards.parse_json_object(await _read_capped(request, settings.max_inspected_body_bytes))
        headers["Content-Type"] = "application/json"
        return json.dumps(_apply_guard(decision, principal, body)).encode()
    spooled = await multipart.spool(request.stream(), settings.max_body_bytes)
    try:
        _apply_guard(decision, principal, await multipart.text_fields(spooled, boundary))
    except BaseException:
        spooled.close()
        raise
    return multipart.replay(spooled)


async def _request_content(request: Request, settings: GatewaySettings) -> AsyncIterator[bytes] | bytes | None:
    """The client's body as it goes upstream: none, whole (small, of declared length) or streamed and capped."""
    declared = request.headers.get("content-length")
    if "transfer-encoding" not in request.headers:
        if declared is None:
            return None  # RFC 9112 6.3: neither header, no body
        if declared.isdigit() and int(declared) <= SMALL_BODY_BYTES:
            return await request.body()
    return _capped(request.stream(), settings.max_body_bytes)


def _upstream_request(
    client: httpx.AsyncClient,
    request: Request,
    url: str,
    query: QueryItems | None,
    headers: httpx.Headers,
    content: AsyncIterator[bytes] | bytes | None,
) -> httpx.Request:
    """The request to send upstream; the client's own query string goes on as sent unless a guard rewrote it.

    Built directly rather than with ``client.build_request``: the URL is parsed once, and
    nothing of the shared client's own (default headers, cookies) is added to what the caller sent.
    """
    if query is not None:
        target = httpx.URL(url, params=query)
    else:
        raw_query = request.scope.get("query_string") or b""
        target = httpx.URL(f"{url}?{raw_query.decode('ascii', 'replace')}" if raw_query else url)
    return httpx.Request(
        request.method, target, headers=headers, content=content, extensions={"timeout": client.timeout.as_dict()}
    )


async def _send(
    client: httpx.AsyncClient, service: str, request: httpx.Request, *, stream: bool = True
) -> httpx.Response:
    started = time.perf_counter()
    status = "aborted"
    try:
        response = await client.send(request, stream=stream)
        status = str(response.status_code)
        UPSTREAM_SECONDS.labels(service).observe(time.perf_counter() - started)
        return response
    except httpx.TimeoutException:
        status = "timeout"
        raise
    except httpx.ConnectError:
        status = "unreachable"
        raise
    finally:
        UPSTREAM_REQUESTS.labels(service, request.method, status).inc()


async def _forward(
    client: httpx.AsyncClient, service: str, request: httpx.Request, *, stream: bool = True
) -> httpx.Response:
    """:func:`_send`, with transport failures turned into the problems a client can act on."""
    try:
        return await _send(client, service, request, stream=stream)
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        logger.warning("upstream unreachable", extra={"upstream": service, "error": repr(error)})
        raise ServiceUnavailable(f"The {service} service is unreachable; try again shortly.") from error
    except httpx.TimeoutException as error:
        raise ServiceUnavailable(f"The {service} service did not answer in time.") from error
    except BodyTooLarge as error:
        raise PayloadTooLarge("The body is larger than the gateway accepts.") from error
    except httpx.HTTPError as error:
        if isinstance(error.__cause__ or error.__context__, BodyTooLarge):
            raise PayloadTooLarge("The body is larger than the gateway accepts.") from error
        raise ServiceUnavailable(f"The {service} service failed to answer: {type(error).__name__}.") from error


def _response_headers(upstream: httpx.Response, *, rewritten: bool) -> list[tuple[bytes, bytes]]:
    dropped = HOP_BY_HOP | ({"content-encoding"} if rewritten else set())
    # As the bytes the service sent (an echoed Origin beyond ASCII is no text httpx decoded as UTF-8
    # could encode back as Latin-1; it was a 500).
    return [(name, value) for name, value in upstream.headers.raw if name.decode("latin-1").lower() not in dropped]


def _buffered(upstream: httpx.Response, content: bytes, *, media_type: str | None = None) -> Response:
    """A response whose body the gateway read (and maybe rewrote); decoded, so no content-encoding."""
    headers = _response_headers(upstream, rewritten=True)
    if media_type is not None:
        headers = [(n, v) for n, v in headers if n.lower() != b"content-type"]
    response = Response(content, status_code=upstream.status_code, media_type=media_type)
    response.raw_headers = [*headers, *response.raw_headers]
    return response


def _json_response(upstream: httpx.Response, body: Any) -> Response:
    return _buffered(upstream, json.dumps(body).encode(), media_type="application/json")


async def _owned_case(
    client: httpx.AsyncClient, service: str, base_url: str, case_id: str, headers: httpx.Headers, principal: Principal
) -> httpx.Response:
    """The case as the end user may see it, or the same 404 whether it is someone else's or nobody's."""
    probe_headers = httpx.Headers(
        [(k, v) for k, v in headers.multi_items() if k.lower() not in ("content-type", "content-encoding")]
    )
    upstream = await _forward(
        client,
        service,
        client.build_request("GET", f"{base_url}/api/v1/cases/{quote(case_id, safe='')}", headers=probe_headers),
        stream=False,
    )
    if upstream.status_code == 200:
        try:
            case = upstream.json()
        except ValueError:
            case = None
        if isinstance(case, dict) and guards.owns_case(principal, case):
            return upstream
    if upstream.status_code >= 500:
        raise ServiceUnavailable(f"The {service} service failed to answer.")
    raise guards.CaseNotFound(f"Case {case_id} does not exist.")


@router.api_route(
    "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], include_in_schema=False
)
async def proxy(request: Request, path: str) -> Response:
    target = request.url.path
    service = owner_of(target)
    # Dot segments would let a path authorized as one resource name another once a server normalizes it.
    if service is None or any(segment in (".", "..") for segment in target.split("/")):
        # A path the gateway answers itself, asked with another method.
        allowed = allowed_methods(request, besides=proxy)
        if service is None and allowed:
            raise MethodNotAllowed(
                f"{target} answers {', '.join(allowed)}, not {request.method}.", headers={"Allow": ", ".join(allowed)}
            )
        raise NotFound(f"No resource at {target}.")
    runtime: GatewayRuntime = request.app.state.runtime
    settings = runtime.settings
    _check_limits(request, settings)
    principal: Principal | None = None
    decision = Decision()
    if not is_public(target):
        try:
            principal = await authenticate(request)
        except InvalidBearer:
            REFUSED.labels("unauthenticated").inc()
            raise
        try:
            decision = authorize(principal, request.method, target)
        except Forbidden:
            REFUSED.labels("forbidden").inc()
            raise
    base_url = runtime.state.service_urls.get(service)
    if base_url is None:
        raise ServiceUnavailable(f"The {service} service is not configured.")
    base_url = base_url.rstrip("/")
    client = runtime.state.http
    headers = _forward_headers(request, principal, settings)
    query: QueryItems | None = None  # None: the client's query string, untouched
    content: AsyncIterator[bytes] | bytes | None = None

    # Ownership first: someone else's case is a 404 before anything about the body is said.
    if principal is not None and decision.case_id is not None and principal.role == "end_user":
        case = await _owned_case(client, service, base_url, decision.case_id, headers, principal)
        if decision.guard is Guard.END_USER_CASE:
            return _json_response(case, case.json())
    if principal is not None and decision.guard in BODY_GUARDS:
        content = await _guarded_content(request, decision, principal, settings, headers)
    else:
        content = await _request_content(request, settings)
    if principal is not None and decision.guard is Guard.END_USER_CASE_LIST:
        query = guards.end_user_case_query(principal, list(request.query_params.multi_items()))
    if principal is not None and decision.guard is Guard.END_USER_MESSAGES:
        # Filtered by the service so pages stay full; the response is filtered again below.
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "public_only"]
        query = [*kept, ("public_only", "true")]

    # The path goes on as the client encoded it: decoding and re-encoding could change what it names.
    raw_path = request.scope.get("raw_path") or target.encode()
    upstream_request = _upstream_request(
        client, request, base_url + raw_path.decode("ascii", "replace"), query, headers, content
    )
    upstream = await _forward(client, service, upstream_request)

    if principal is not None and decision.guard in (Guard.END_USER_CASE_LIST, Guard.END_USER_MESSAGES):
        return await _customer_page(upstream, principal, decision)
    return await _passed_on(upstream)


async def _customer_page(upstream: httpx.Response, principal: Principal, decision: Decision) -> Response:
    """A list page a customer asked for, with anything not theirs to see taken out (second lock)."""
    try:
        await upstream.aread()
    finally:
        await upstream.aclose()
    if upstream.status_code != 200:
        return _buffered(upstream, upstream.content)
    try:
        page = upstream.json()
    except ValueError:
        return _buffered(upstream, upstream.content)
    if decision.guard is Guard.END_USER_CASE_LIST:
        return _json_response(upstream, guards.keep_items(page, lambda case: guards.owns_case(principal, case)))
    return _json_response(upstream, guards.keep_items(page, guards.is_public_message))


async def _passed_on(upstream: httpx.Response) -> Response:
    """The service's response as it sent it (bytes and headers untouched, content-encoding kept)."""
    declared = upstream.headers.get("content-length", "")
    if not (declared.isdigit() and int(declared) <= SMALL_BODY_BYTES):
        return _streamed(upstream)
    try:
        body = b"".join([chunk async for chunk in upstream.aiter_raw()])
    finally:
        await upstream.aclose()
    response = Response(body, status_code=upstream.status_code)
    # The length the service declared (a HEAD's too, whose body is empty).
    response.raw_headers = [*_response_headers(upstream, rewritten=False), (b"content-length", declared.encode())]
    return response


def _streamed(upstream: httpx.Response) -> Response:
    response = StreamingResponse(
        upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
    )
    response.raw_headers = _response_headers(upstream, rewritten=False)
    return response
