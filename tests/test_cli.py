from __future__ import annotations

import pytest

from retrykit.__main__ import main
from retrykit.testing import instant


def test_demo_runs_the_specs_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    with instant():
        assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "OK 200" in out
    assert "AuthenticationError" in out
    assert "Top up credits in the Dashboard." in out
    assert "one Idempotency-Key on both attempts: True" in out
    assert "sk-demo" not in out


def test_schedule_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "min(1 * 2**n, 30) + uniform[0, 1)" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 5


def test_bad_schedule_arguments_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["schedule", "--cap", "0.5"])
    assert "cap" in capsys.readouterr().err


def test_simulate_prints_tables_and_writes_a_chart(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--runs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "full outage" in out
    assert "occ (AWS 2015 study's model)" in out
    import pathlib

    svg = (pathlib.Path(str(tmp_path)) / "storm-outage.svg").read_text()
    assert svg.startswith("<svg") and "polyline" in svg
