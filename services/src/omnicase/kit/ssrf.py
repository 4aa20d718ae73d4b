"""The SSRF guard: outbound calls (case-core's webhooks, collaboration's chat integrations) never
reach loopback, private, link-local or other internal addresses unless an admin allow-listed the
network.

Every address a host name resolves to must be public (or allow-listed): a name with one
public and one private address is refused, so DNS cannot smuggle an internal target in.
:func:`guard` returns the addresses it vetted, and the sender connects to one of them
(:func:`pinned`, :func:`post_pinned`), so a name that resolves differently a moment later (DNS rebinding)
cannot lead the connection elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddress(Exception):
    """The URL leads somewhere webhooks may not go."""


class Unresolvable(BlockedAddress):
    """The host name does not resolve (now; DNS may recover, so a delivery retries)."""


def is_internal(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_internal(address.ipv4_mapped)
    return not address.is_global or address.is_multicast


def check_address(address: IPAddress, allowed: Iterable[IPNetwork]) -> None:
    if is_internal(address) and not any(address in network for network in allowed):
        raise BlockedAddress(
            f"{address} is an internal address (loopback, private, link-local or reserved); "
            "an admin must allow-list its network first"
        )


async def resolve(host: str) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Unresolvable(f"{host} does not resolve: {error.strerror}") from error
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


Resolver = Callable[[str], Awaitable[list[IPAddress]]]


async def guard(url: str, allowed: Iterable[IPNetwork], resolver: Resolver = resolve) -> list[IPAddress]:
    """The addresses of ``url``'s host, every one of them allowed; else :class:`BlockedAddress`."""
    host = urlsplit(url).hostname
    if not host:
        raise BlockedAddress("the URL has no host")
    networks = list(allowed)
    addresses = await resolver(host)
    if not addresses:
        raise Unresolvable(f"{host} has no address")
    for address in addresses:
        check_address(address, networks)
    return addresses


def pinned(url: str, address: IPAddress) -> tuple[str, dict[str, str], dict[str, str]]:
    """``(url, headers, extensions)`` to reach ``url`` at the vetted ``address`` without resolving again.

    The URL names the address; the ``Host`` header keeps the name (virtual hosts still
    answer), and for https the ``sni_hostname`` extension makes TLS ask for and verify
    the certificate of the name, not of the address.
    """
    parts = httpx.URL(url)
    host = parts.host
    headers = {"host": host if parts.port is None else f"{host}:{parts.port}"}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return str(parts.copy_with(host=str(address))), headers, extensions


async def post_pinned(
    client: httpx.AsyncClient, url: str, addresses: Sequence[IPAddress], content: bytes, headers: dict[str, str]
) -> httpx.Response:
    """POST to the first vetted address that takes the connection (an IPv6 address first on a host
    without IPv6 routes must not fail every call); only vetted addresses, never a new lookup."""
    for address in addresses[:-1]:
        pinned_url, host, extensions = pinned(url, address)
        try:
            # Redirects are not followed: a redirect could lead past the guard.
            return await client.post(
                pinned_url, content=content, headers=headers | host, extensions=extensions, follow_redirects=False
            )
        except httpx.ConnectError:
            continue
    pinned_url, host, extensions = pinned(url, addresses[-1])
    return await client.post(
        pinned_url, content=content, headers=headers | host, extensions=extensions, follow_redirects=False
    )
