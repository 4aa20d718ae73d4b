"""Which address a request is limited by: the peer, or the client behind a trusted balancer."""

from __future__ import annotations

from omnicase.gateway.access.clientip import client_ip, parse_networks

BALANCERS = parse_networks(["10.0.0.0/8"])


def test_a_client_cannot_choose_its_own_address_by_sending_the_header() -> None:
    assert client_ip("203.0.113.7", "198.51.100.1", BALANCERS) == "203.0.113.7"
    assert client_ip("203.0.113.7", "198.51.100.1", ()) == "203.0.113.7"


def test_behind_a_trusted_balancer_the_client_is_the_last_untrusted_hop() -> None:
    assert client_ip("10.0.0.5", "198.51.100.1", BALANCERS) == "198.51.100.1"
    # The client may prepend lies; only the hop the balancer appended counts.
    assert client_ip("10.0.0.5", "1.1.1.1, 198.51.100.1, 10.2.3.4", BALANCERS) == "198.51.100.1"


def test_a_balancer_without_the_header_is_its_own_client() -> None:
    assert client_ip("10.0.0.5", None, BALANCERS) == "10.0.0.5"
    assert client_ip(None, None, BALANCERS) == "unknown"
