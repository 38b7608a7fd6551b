import yaml

from contracts.job import JobSpec
from cortex_provider_akash.adapters.console import Bid
from cortex_provider_akash.adapters.network import exit_code
from cortex_provider_akash.adapters.sdl import build_sdl
from cortex_provider_akash.domain.model import hourly_usd


def test_bid_price_to_usd_per_hour_matches_the_brief() -> None:
    # 100 uact/block at 6.174 s blocks is 0.0583 ACT/h ≈ $0.058/h.
    assert abs(hourly_usd(100, 6.174, 1.0) - 0.05831) < 1e-4


def test_sdl_carries_the_spec() -> None:
    spec = JobSpec.model_validate(
        {
            "provider": "akash",
            "image": "nginx:alpine",
            "cpu": 500,
            "memory": "512Mi",
            "storage": "1Gi",
            "duration": 60,
            "env": {"A": "1"},
            "ports": [{"port": 80, "expose": True}],
            "command": ["sh"],
            "args": ["-c", "echo hi"],
        }
    )
    sdl = yaml.safe_load(build_sdl(spec, 1000, "uact"))
    service = sdl["services"]["app"]
    assert service["env"] == ["A=1"] and service["command"] == ["sh"]
    assert service["expose"][0] == {"port": 80, "as": 80, "proto": "tcp", "to": [{"global": True}]}
    resources = sdl["profiles"]["compute"]["app"]["resources"]
    assert resources["cpu"]["units"] == 0.5 and resources["memory"]["size"] == "512Mi"
    assert sdl["profiles"]["placement"]["dcloud"]["pricing"]["app"] == {
        "denom": "uact",
        "amount": 1000,
    }


def test_bids_accept_both_id_spellings() -> None:
    new = Bid.from_item(
        {
            "bid": {
                "id": {"provider": "p1", "dseq": "5", "gseq": 1, "oseq": 1, "bseq": 1},
                "state": "open",
                "price": {"denom": "uact", "amount": "12.5"},
            }
        }
    )
    old = Bid.from_item(
        {
            "bid": {
                "bid_id": {"provider": "p2", "dseq": 5, "gseq": 1, "oseq": 1},
                "state": "open",
                "price": {"denom": "uact", "amount": "3"},
            }
        }
    )
    assert (new.provider, new.dseq, new.amount) == ("p1", "5", 12.5)
    assert (old.provider, old.dseq, old.amount) == ("p2", "5", 3.0)


def test_exit_code_from_kubeevent_note() -> None:
    assert exit_code("container exited with code 3", 1) == 3
    assert exit_code("container exited", 1) == 1
