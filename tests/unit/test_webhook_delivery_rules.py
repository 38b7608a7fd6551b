"""Retry schedule, SSRF classification and event-type matching of webhooks."""

from __future__ import annotations

import pytest

from contracts.webhooks import EVENT_TYPES, is_subscribable, matches
from cortex_notifier.domain.addresses import refusal
from cortex_notifier.domain.retry import MAX_ATTEMPTS, next_delay


def test_retry_schedule_then_permanent_failure() -> None:
    assert [next_delay(n) for n in range(1, 7)] == [30, 120, 600, 1800, 3600, None]
    assert MAX_ATTEMPTS == 6
    assert next_delay(1, 0.01) == pytest.approx(0.3)
    assert next_delay(5, 0.01) == pytest.approx(36)
    assert next_delay(0) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd00:ec2::254", "metadata"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "reserved"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_refused_addresses(address: str, reason: str) -> None:
    found = refusal(address)
    assert found is not None and reason in found


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(address) is None


def test_allow_private_opens_everything_but_metadata() -> None:
    assert refusal("127.0.0.1", allow_private=True) is None
    assert refusal("10.0.0.1", allow_private=True) is None
    assert refusal("169.254.169.254", allow_private=True) is not None


def test_event_types_and_wildcards() -> None:
    assert all(is_subscribable(t) for t in EVENT_TYPES)
    assert is_subscribable("job.*") and is_subscribable("provider.*")
    assert not is_subscribable("job.exploded") and not is_subscribable("*")
    assert matches("job.*", "job.cost.threshold") and not matches(
        "job.*", "provider.status.changed"
    )
    assert matches("job.completed", "job.completed") and not matches("job.completed", "job.failed")
