from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

import retrykit

settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# pytester runs pytest inside a test: how the retrykit pytest plugin is tested.
pytest_plugins = ["pytester"]

from .redis_server import redis_server  # noqa: E402, F401  (the session's redis-server, for the fleet's tests)


@pytest.fixture(autouse=True)
def _default_instruments() -> Iterator[None]:
    """Every test starts and ends with the default instruments: the registry is process-wide."""
    retrykit.set_instruments(None)
    yield
    retrykit.set_instruments(None)
