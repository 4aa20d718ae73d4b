"""Process helpers of the dev stack."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from omnicase.devtools.devstack import processes
from omnicase.devtools.devstack.processes import free_port


def _first_ephemeral_port() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


def test_a_free_port_is_never_one_the_kernel_could_hand_another_process_meanwhile() -> None:
    ports = {free_port() for _ in range(50)}
    assert max(ports) < _first_ephemeral_port(), "outside the pool bind(0) and client sockets draw from"
    assert len(ports) > 40, "drawn at random: concurrent stacks seldom pick the same one"
    for port in list(ports)[:5]:
        with socket.create_server(("127.0.0.1", port)):
            pass  # free indeed


def test_ports_drawn_by_one_process_are_all_different_even_before_anything_listens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A stack draws every port before any of its servers binds one: from a pool of 20, twenty
    # draws must still be twenty ports (drawn at random, repeats would be near certain).
    pool = range(_first_ephemeral_port() - 20, _first_ephemeral_port())
    monkeypatch.setattr(processes, "_drawn_ports", lambda: pool)
    monkeypatch.setattr(processes, "_drawn", set())
    free = [port for port in pool if not processes.port_in_use("127.0.0.1", port)]
    drawn = [free_port() for _ in free]
    assert sorted(drawn) == free
