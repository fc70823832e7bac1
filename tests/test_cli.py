from __future__ import annotations

import argparse
import pathlib

import pytest

from retrykit import _demo
from retrykit.__main__ import main, parser
from retrykit.testing import Reply, instant


def run_demo(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with instant():
        code = main(["demo"])
    return code, capsys.readouterr().out


def test_demo_runs_every_part_and_every_claim_holds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_demo(capsys)
    assert code == 0
    for number, part in enumerate(_demo.PARTS, 1):
        assert f"{number}. {part.title}" in out
    assert "NOT TRUE" not in out
    assert "OK 200" not in out and "returned: {'id': 'task-1', 'status': 'done'}" in out
    assert "How to fix: Top up credits in the Dashboard." in out
    assert _demo.API_KEY not in out


def test_demo_shows_the_code_that_produced_each_part(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run_demo(capsys)
    shown = [line[6:] for line in out.splitlines() if line.startswith("    | ")]
    for part in _demo.PARTS:
        code = _demo.code_of(part.run).splitlines()
        assert code and all(line in shown for line in code)
        assert not any('"""' in line or line.startswith(f"def {part.run.__name__}(") for line in code)


def test_demo_shows_a_log_line_and_the_give_up_note(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run_demo(capsys)
    assert "  log: WARNING retrykit: " in out and "failed on attempt 1/6" in out
    assert "retrykit: gave up on " in out and "after 6 attempts over " in out
    assert "no retries left (max_retries=5)" in out
    logged = [line for line in out.splitlines() if line.startswith("  log: ")]
    for reason in ("HTTP 429", "HTTP 500", "RemoteDisconnected"):  # retries for different reasons: a line each
        assert sum(reason in line for line in logged) == 1
    assert any(line.endswith("(+4 more like it)") for line in logged)  # five alike: one line stands for them
    assert any(" gave up after 6 attempts over " in line and line.endswith("no retries left (max_retries=5)") for line in logged)


def test_demo_summary_counts_claims_and_fails_when_one_does_not_hold(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = _demo.Part("A claim that is false", (Reply(200, {"id": 1}),), _demo.PARTS[0].run, _demo.PARTS[0].claims)
    monkeypatch.setattr(_demo, "PARTS", [*_demo.PARTS, wrong])
    code, out = run_demo(capsys)
    assert code == 1
    summary = out[out.index("summary:") :]
    assert "of 19 claims hold" in summary and "NOT TRUE: 5 requests, the last answered 200" in summary


def test_demo_scale_must_be_positive_and_the_error_names_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--scale", "-1"])
    assert "argument --scale: must be > 0, got -1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["schedule", "--retries", "-1"], "argument --retries: must be >= 0"),
        (["schedule", "--base", "nan"], "argument --base: must be >= 0, got nan"),
        (["schedule", "--jitter", "x"], "argument --jitter: expected a number, got 'x'"),
        (["schedule", "--cap", "0.5"], "--cap must be >= --base"),
        (["simulate", "--runs", "0"], "argument --runs: must be >= 1"),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


def test_help_is_plain_text_listing_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and "docs/error-model.md" in out
    for command in ("demo", "schedule", "simulate"):
        assert f"\n    {command} " in out


def subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", ["demo", "schedule", "simulate"])
def test_every_command_has_a_description_and_every_option_a_help_text(command: str) -> None:
    sub = subcommands()[command]
    assert sub.description and len(sub.description) > 40
    for action in sub._actions:
        assert action.help, f"{command} {action.option_strings} has no help"
        assert "``" not in action.help


def test_schedule_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "min(1 * 2**n, 30) + uniform[0, 1)" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 5


def test_simulate_prints_tables_and_writes_a_chart(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--runs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "full outage" in out
    assert "occ (AWS 2015 study's model)" in out
    svg = (tmp_path / "storm-outage.svg").read_text()
    assert svg.startswith("<svg") and "polyline" in svg


def test_demo_metrics_prints_prometheus_text_that_counts_what_was_logged(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    import retrykit

    caplog.set_level("INFO", logger="retrykit")
    before = retrykit.get_instruments()
    with instant():
        assert main(["demo", "--metrics"]) == 0
    assert retrykit.get_instruments() == before
    out = capsys.readouterr().out
    text = out[out.index("metrics, as Prometheus would scrape them:") :].split("\n", 2)[2]
    totals: dict[str, float] = {}
    reasons: set[str] = set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0) + sample.value
            assert "/" not in sample.labels.get("function", "")  # an adapter's or a function's name, never a URL
            reasons.add(sample.labels.get("reason", ""))
    lines = [r.getMessage() for r in caplog.records if r.name == "retrykit"]
    assert totals["retrykit_retries_total"] == sum("failed on attempt" in line for line in lines) > 0
    assert totals["retrykit_giveups_total"] == sum(" gave up after " in line for line in lines) > 0
    assert totals["retrykit_recoveries_total"] == sum(" succeeded on attempt " in line for line in lines) > 0
    assert totals["retrykit_wait_seconds_count"] == totals["retrykit_retries_total"]
    assert {"429", "500", "503"} <= reasons
    assert "/v1/" not in text and _demo.API_KEY not in out
