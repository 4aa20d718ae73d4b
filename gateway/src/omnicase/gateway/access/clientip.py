"""The client's address, seen through the load balancers the operator trusts.

``X-Forwarded-For`` is believed only when the connection comes from a trusted
proxy (``GATEWAY_TRUSTED_PROXIES``, addresses or CIDR ranges); then the client
is the right-most address of the chain that is not itself a trusted proxy. A
client cannot dodge its rate limit by sending the header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    if peer is None:
        return "unknown"
    if not trusted or not forwarded_for or not is_trusted(peer, trusted):
        return peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not is_trusted(hop, trusted):
            return hop
    return peer
