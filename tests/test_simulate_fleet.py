"""The coordination model (virtual time, the real engine and real fleet scopes): what each configuration does."""

from __future__ import annotations

import pytest

from retrykit import _runtime
from retrykit._simulate_fleet import CONFIGS, run_coordination


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    return {config: run_coordination(config, clients=200, calls=10, capacity=200, burst=20) for config in CONFIGS}


def test_pacing_uses_the_capacity_without_a_single_429(results: dict[str, object]) -> None:
    paced = results[CONFIGS[3]]
    assert paced.limited == 0  # type: ignore[attr-defined]
    assert paced.capacity_used >= 0.9  # type: ignore[attr-defined]


def test_a_shared_cooldown_cuts_the_429s(results: dict[str, object]) -> None:
    alone = results[CONFIGS[0]].limited  # type: ignore[attr-defined]
    assert results[CONFIGS[1]].limited < alone  # type: ignore[attr-defined]
    assert results[CONFIGS[2]].limited < alone / 2  # type: ignore[attr-defined]


def test_every_call_is_served_and_the_model_is_deterministic(results: dict[str, object]) -> None:
    for result in results.values():
        assert result.served == 200 * 10 and result.failed == 0  # type: ignore[attr-defined]
    again = run_coordination(CONFIGS[2], clients=200, calls=10, capacity=200, burst=20)
    assert (again.requests, again.limited, again.finish) == (results[CONFIGS[2]].requests, results[CONFIGS[2]].limited, results[CONFIGS[2]].finish)  # type: ignore[attr-defined]
    assert _runtime.override is None  # the model's clock is put back


def test_an_unknown_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="config"):
        run_coordination("everyone for themselves")
