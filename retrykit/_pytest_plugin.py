"""The pytest plugin (entry point ``retrykit``): the ``retrykit_instant`` fixture, virtual time for one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import instant

MARKER = "retrykit"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(attempts=N): options for the retrykit_instant fixture; attempts caps every retry policy to N attempts",
    )


@pytest.fixture
def retrykit_instant(request: pytest.FixtureRequest) -> Iterator[instant]:
    """Virtual time for the test: every retrykit policy waits instantly, recorded in ``.delays``.

    ``@pytest.mark.retrykit(attempts=1)`` on the test also caps every policy's attempts.
    """
    marker = request.node.get_closest_marker(MARKER)
    attempts = None
    if marker is not None:
        if marker.args or set(marker.kwargs) - {"attempts"}:
            raise TypeError(f"@pytest.mark.{MARKER} takes only attempts=N, got {marker.args!r} {marker.kwargs!r}")
        attempts = marker.kwargs.get("attempts")
    with instant(attempts=attempts) as clock:
        yield clock
