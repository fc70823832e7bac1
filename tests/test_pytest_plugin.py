"""The pytest plugin: a fixture with virtual time, a marker capping attempts, registered by an entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "retrykit._pytest_plugin"

RETRYING_TEST = """
import pytest
import retrykit
from retrykit import _runtime

def flaky(calls=[]):
    calls.append(1)
    if len(calls) < 3:
        raise ConnectionError
    return len(calls)

def test_waits_are_virtual(retrykit_instant):
    policy = retrykit.RetryPolicy(backoff=retrykit.Backoff(jitter=0), log=False)
    assert policy.call(flaky) == 3
    assert retrykit_instant.delays == [1.0, 2.0]
    assert _runtime.override is retrykit_instant

def test_the_clock_is_gone_after_the_test():
    assert _runtime.override is None
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # Only the plugin under test, loaded by name: an installed retrykit's entry point would load it twice.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester


def test_the_fixture_gives_an_instant_clock_for_the_test_only(inner: pytest.Pytester) -> None:
    inner.makepyfile(RETRYING_TEST)
    inner.runpytest("-p", PLUGIN).assert_outcomes(passed=2)


def test_the_marker_caps_every_policys_attempts(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest
        import retrykit

        @pytest.mark.retrykit(attempts=1)
        def test_fails_at_once(retrykit_instant):
            calls = []
            def down():
                calls.append(1)
                raise ConnectionError
            with pytest.raises(ConnectionError):
                retrykit.retry.call(down)
            assert len(calls) == 1 and retrykit_instant.delays == []
        """
    )
    inner.runpytest("-p", PLUGIN, "--strict-markers").assert_outcomes(passed=1)


def test_a_marker_with_other_options_is_an_error(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.retrykit(retries=1)
        def test_x(retrykit_instant):
            pass
        """
    )
    result = inner.runpytest("-p", PLUGIN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*takes only attempts=N*"])


def test_the_entry_point_declared_in_pyproject_activates_the_plugin(tmp_path: Path) -> None:
    # An installed distribution is a dist-info directory on sys.path: make one holding the
    # entry points pyproject.toml declares, and let pytest find the plugin by itself.
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert declared == {"retrykit": PLUGIN}
    site = tmp_path / "site"
    info = site / "retrykit_entry_point_check-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: retrykit-entry-point-check\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("[pytest11]\n" + "".join(f"{k} = {v}\n" for k, v in declared.items()))
    (tmp_path / "test_uses_fixture.py").write_text(RETRYING_TEST)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_uses_fixture.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


@pytest.mark.parametrize(("attempts", "exc"), [(0, ValueError), (-1, ValueError), (True, TypeError), (1.5, TypeError)])
def test_instant_refuses_a_cap_that_is_not_a_positive_count(attempts: object, exc: type) -> None:
    from retrykit.testing import instant

    with pytest.raises(exc, match="attempts"):
        instant(attempts=attempts)  # type: ignore[arg-type]
