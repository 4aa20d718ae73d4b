"""The SSRF guard: webhooks never reach loopback, private, link-local or other internal addresses
unless an admin allow-listed the network.

Every address a host name resolves to must be public (or allow-listed): a name with one
public and one private address is refused, so DNS cannot smuggle an internal target in.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

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


async def guard(url: str, allowed: Iterable[IPNetwork]) -> None:
    """Raise :class:`BlockedAddress` unless every address of ``url``'s host may be called."""
    host = urlsplit(url).hostname
    if not host:
        raise BlockedAddress("the URL has no host")
    networks = list(allowed)
    for address in await resolve(host):
        check_address(address, networks)
