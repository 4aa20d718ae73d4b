"""Fixed windows: the quota per window passes, the next request is refused until the window ends."""

from __future__ import annotations

from omnicase.gateway.access.ratelimit import LocalCounters, Policy, judge

POLICY = Policy("ip", quota=3, window=60)


def test_windows_are_cut_at_multiples_of_their_length_so_every_replica_agrees() -> None:
    assert POLICY.window_start(1_000_000_019.7) == 1_000_000_020 - 60
    assert POLICY.window_start(1_000_000_020.0) == 1_000_000_020


def test_the_quota_passes_then_the_next_request_waits_for_the_window_to_end() -> None:
    start = 1_000_000_020
    outcomes = [judge(POLICY, count, start, start + 15.2) for count in (1, 2, 3, 4, 5)]
    assert [o.allowed for o in outcomes] == [True, True, True, False, False]
    assert [o.remaining for o in outcomes] == [2, 1, 0, 0, 0]
    assert {o.reset_seconds for o in outcomes} == {45}
    assert [o.retry_after for o in outcomes] == [0, 0, 0, 45, 45]


def test_a_refusal_in_the_last_fraction_of_a_window_still_says_retry_in_one_second() -> None:
    assert judge(POLICY, 4, 0, 59.99).retry_after == 1


def test_local_counters_count_each_key_and_window_apart() -> None:
    counters = LocalCounters()
    assert counters.hit([("ip:a", 0), ("token:t", 0)]) == {"ip:a": 1, "token:t": 1}
    assert counters.hit([("ip:a", 0)]) == {"ip:a": 2}
    assert counters.hit([("ip:a", 60)]) == {"ip:a": 1}
    assert counters.hit([("ip:b", 60)]) == {"ip:b": 1}


def test_local_counters_stay_bounded_under_many_keys() -> None:
    counters = LocalCounters(max_keys=100)
    for n in range(1000):
        counters.hit([(f"ip:10.0.{n // 256}.{n % 256}", 60 * (n // 300))])
    assert len(counters._counts) <= 100
