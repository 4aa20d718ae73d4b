"""Token buckets: bursts up to the quota, then the sustained rate; refusals say when to retry."""

from __future__ import annotations

from omnicase.gateway.access.ratelimit import TokenBuckets


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_up_to_the_quota_passes_then_one_more_is_refused_with_retry_after() -> None:
    clock = FakeTime()
    buckets = TokenBuckets("ip", quota=3, window=60, clock=clock)
    outcomes = [buckets.take("1.2.3.4") for _ in range(4)]
    assert [o.allowed for o in outcomes] == [True, True, True, False]
    assert [o.remaining for o in outcomes[:3]] == [2, 1, 0]
    assert outcomes[3].retry_after == 20  # one request per 20 s at 3 per minute


def test_the_bucket_refills_at_the_sustained_rate() -> None:
    clock = FakeTime()
    buckets = TokenBuckets("ip", quota=3, window=60, clock=clock)
    for _ in range(3):
        buckets.take("k")
    clock.now += 19
    assert not buckets.take("k").allowed
    clock.now += 21
    assert buckets.take("k").allowed
    clock.now += 600
    assert buckets.take("k").remaining == 2  # never more than the quota, however long the pause


def test_keys_are_independent() -> None:
    buckets = TokenBuckets("token", quota=1, window=60, clock=FakeTime())
    assert buckets.take("a").allowed
    assert not buckets.take("a").allowed
    assert buckets.take("b").allowed


def test_memory_stays_bounded_under_many_keys() -> None:
    clock = FakeTime()
    buckets = TokenBuckets("ip", quota=5, window=60, clock=clock, max_keys=100)
    for n in range(1000):
        buckets.take(f"10.0.{n // 256}.{n % 256}")
    assert len(buckets._buckets) <= 100
