"""The global instrument registry and the logging instrument: every policy reports its retries, give-ups and recoveries."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

import retrykit
from retrykit import Backoff, Instrument, LoggingInstrument, Recovery, RetryEvent, RetryPolicy, Target
from retrykit.testing import FlakyServer, Reply, instant

from .clients import CLIENTS
from .helpers import AsyncFlaky, Flaky, HTTPFailure

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)


class Recorder(Instrument):
    """Keeps every moment it hears about, in order."""

    def __init__(self, logs: bool = False) -> None:
        self.moments: list[tuple[str, RetryEvent | Recovery]] = []
        self.logs = logs

    def on_retry(self, event: RetryEvent) -> None:
        self.moments.append(("retry", event))

    def on_giveup(self, event: RetryEvent) -> None:
        self.moments.append(("giveup", event))

    def on_recovered(self, recovery: Recovery) -> None:
        self.moments.append(("recovered", recovery))

    @property
    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.moments]


@pytest.fixture
def recorder() -> Recorder:
    recorder = Recorder()
    retrykit.set_instruments([recorder])
    return recorder


def test_the_default_is_one_logging_instrument_and_none_restores_it() -> None:
    (default,) = retrykit.get_instruments()
    assert isinstance(default, LoggingInstrument) and default.name == "retrykit" and default.level == logging.WARNING
    retrykit.set_instruments([])
    assert retrykit.get_instruments() == ()
    retrykit.set_instruments(None)
    assert retrykit.get_instruments() == (default,)


def test_set_then_get_returns_what_was_set() -> None:
    chosen = [Recorder(), LoggingInstrument("app.retries")]
    retrykit.set_instruments(iter(chosen))
    assert retrykit.get_instruments() == tuple(chosen)


@pytest.mark.parametrize("bad", [[print], ["retrykit"], [LoggingInstrument, None]])
def test_anything_but_instruments_is_a_type_error_naming_the_parameter(bad: list[object]) -> None:
    before = retrykit.get_instruments()
    with pytest.raises(TypeError, match="instruments must be Instrument"):
        retrykit.set_instruments(bad)  # type: ignore[arg-type]
    assert retrykit.get_instruments() == before


def test_retries_and_the_give_up_are_reported_after_the_policys_own_hooks(recorder: Recorder) -> None:
    hooked: list[str] = []
    policy = FAST.replace(
        max_retries=2,
        on_retry=lambda e: hooked.append(f"retry {len(recorder.moments)}"),
        on_giveup=lambda e: hooked.append(f"giveup {len(recorder.moments)}"),
    )

    def fetch() -> None:
        raise HTTPFailure(503)

    with instant(), pytest.raises(HTTPFailure):
        policy.call(fetch)
    assert recorder.kinds == ["retry", "retry", "giveup"]
    assert hooked == ["retry 0", "retry 1", "giveup 2"]
    retried, _, gave_up = (event for _, event in recorder.moments)
    assert isinstance(retried, RetryEvent) and isinstance(gave_up, RetryEvent)
    assert (retried.attempt, retried.delay, retried.status) == (1, 1.0, 503)
    assert retried.target == Target(retried.function) and retried.function.endswith("fetch")
    assert gave_up.delay is None and gave_up.stop is not None and "max_retries=2" in gave_up.stop


def test_a_recovery_is_reported_once_with_every_attempt_counted(recorder: Recorder) -> None:
    with instant():
        assert FAST.call(Flaky(TimeoutError(), TimeoutError())) == "ok"
    assert recorder.kinds == ["retry", "retry", "recovered"]
    recovery = recorder.moments[-1][1]
    assert isinstance(recovery, Recovery)
    assert recovery.attempts == 3 and recovery.elapsed == 3.0  # 1 s + 2 s waited, counted from the first failure
    assert recovery.target.function == recovery.function


def test_a_first_try_success_reports_nothing(recorder: Recorder) -> None:
    @FAST
    def ok() -> str:
        return "ok"

    for policy in (FAST, FAST.replace(deadline=60), FAST.replace(budget=retrykit.RetryBudget())):
        assert policy.call(ok) == "ok"
        for attempt in policy.attempts():
            with attempt:
                pass
    assert ok() == "ok"
    assert recorder.moments == []


@pytest.mark.parametrize("face", ["decorator", "call", "deadline", "attempts"])
def test_every_sync_face_reports_all_three_moments(recorder: Recorder, face: str) -> None:
    policy = FAST.replace(max_retries=1, deadline=60 if face == "deadline" else None)

    def run(fn: Flaky) -> object:
        if face == "decorator":
            return policy(fn)()
        if face == "attempts":
            for attempt in policy.attempts("block"):
                with attempt:
                    return fn()
        return policy.call(fn)

    with instant():
        run(Flaky(TimeoutError()))
        with pytest.raises(TimeoutError):
            run(Flaky(TimeoutError(), TimeoutError()))
    assert recorder.kinds == ["retry", "recovered", "retry", "giveup"]


@pytest.mark.parametrize("runner", ["asyncio", "trio"])
@pytest.mark.parametrize("face", ["decorator", "acall", "deadline", "attempts"])
def test_every_async_face_reports_all_three_moments(recorder: Recorder, face: str, runner: str) -> None:
    policy = FAST.replace(max_retries=1, deadline=60 if face == "deadline" else None)

    async def run(fn: AsyncFlaky) -> object:
        if face == "decorator":
            return await policy(fn)()
        if face == "attempts":
            async for attempt in policy.attempts("block"):
                with attempt:
                    return await fn()
        return await policy.acall(fn)

    async def main() -> None:
        await run(AsyncFlaky(TimeoutError()))
        with pytest.raises(TimeoutError):
            await run(AsyncFlaky(TimeoutError(), TimeoutError()))

    with instant():
        if runner == "trio":
            trio.run(main)
        else:
            asyncio.run(main())
    assert recorder.kinds == ["retry", "recovered", "retry", "giveup"]


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_the_adapters_default_policies_report_with_method_and_host(recorder: Recorder, client: str) -> None:
    with FlakyServer([Reply.error(503), Reply(200, {}), *[Reply.error(500)] * 6]) as server, instant():
        host = f"127.0.0.1:{server.port}"
        assert CLIENTS[client](None, "GET", f"{server.url}/v1/items/1?key=sk-SECRET").status == 200
        assert CLIENTS[client](None, "GET", f"{server.url}/v1/items/2").status == 500
    assert recorder.kinds == ["retry", "recovered", *["retry"] * 5, "giveup"]
    adapter = {"httpx-async": "httpx", "urllib": "urlopen"}.get(client, client)
    for _, event in recorder.moments:
        assert event.target == Target(adapter, "GET", host)


def test_log_false_skips_the_instruments_that_log_but_not_the_others(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="retrykit")
    metrics, lines = Recorder(), Recorder(logs=True)
    retrykit.set_instruments([LoggingInstrument(), metrics, lines])
    with instant():
        FAST.replace(log=False).call(Flaky(TimeoutError()))
    assert metrics.kinds == ["retry", "recovered"]
    assert lines.kinds == [] and caplog.records == []


def test_no_instruments_means_no_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="retrykit")
    retrykit.set_instruments([])
    with instant(), pytest.raises(TimeoutError):
        FAST.replace(max_retries=1).call(Flaky(TimeoutError(), TimeoutError()))
    assert caplog.records == []


def test_a_call_keeps_the_instruments_it_started_with() -> None:
    first, second = Recorder(), Recorder()
    retrykit.set_instruments([first])

    def swap(event: RetryEvent) -> None:
        retrykit.set_instruments([second])

    with instant():
        FAST.replace(on_retry=swap).call(Flaky(TimeoutError()))
    assert first.kinds == ["retry", "recovered"] and second.kinds == []


class Broken(Instrument):
    def on_retry(self, event: RetryEvent) -> None:
        raise RuntimeError("metrics backend is down")


def test_an_instrument_that_raises_stops_the_call_and_keeps_the_failure() -> None:
    retrykit.set_instruments([Broken()])
    fn = Flaky(ConnectionResetError("down"))
    with instant(), pytest.raises(RuntimeError, match="backend") as info:
        FAST.call(fn)
    assert fn.calls == 1
    assert isinstance(info.value.__context__, ConnectionResetError)


def test_the_logging_instrument_writes_a_line_per_retry_and_give_up_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.retries")
    retrykit.set_instruments([LoggingInstrument("app.retries", level=logging.INFO, giveup_level=logging.ERROR)])

    def fetch_user() -> None:
        raise HTTPFailure(503, {"Authorization": "Bearer sk-SECRET"})

    with instant(), pytest.raises(HTTPFailure):
        FAST.replace(max_retries=2).call(fetch_user)
    records = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert [(name, level) for name, level, _ in records] == [
        ("app.retries", logging.INFO),
        ("app.retries", logging.INFO),
        ("app.retries", logging.ERROR),
    ]
    assert "fetch_user failed on attempt 2/3 (HTTP 503 Service Unavailable); retrying in 2.00 s" in records[1][2]
    assert records[2][2].endswith(
        "fetch_user gave up after 3 attempts over 3.00 s: HTTP 503 Service Unavailable; no retries left (max_retries=2)"
    )
    assert not any("SECRET" in text or "api_key" in text for _, _, text in records)


def test_the_logging_instrument_logs_a_recovery_at_its_level_or_not_at_all(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="retrykit")
    with instant():
        FAST.call(Flaky(TimeoutError()))
        retrykit.set_instruments([LoggingInstrument(recovered_level=None)])
        FAST.call(Flaky(TimeoutError()))
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == [logging.WARNING, logging.INFO, logging.WARNING]
    assert lines[1][1].endswith("succeeded on attempt 2 after 1.00 s")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"logger": ""}, "logger"),
        ({"logger": logging.getLogger("x")}, "logger"),
        ({"level": "WARNING"}, "level"),
        ({"level": True}, "level"),
        ({"giveup_level": 1.5}, "giveup_level"),
        ({"recovered_level": "info"}, "recovered_level"),
    ],
)
def test_the_logging_instrument_rejects_bad_options_by_name(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(TypeError, match=f"^{name} must be"):
        LoggingInstrument(**kwargs)  # type: ignore[arg-type]


def test_nothing_is_imported_for_instruments_until_one_reports() -> None:
    code = (
        "import sys, retrykit\n"
        "from retrykit import RetryPolicy\n"
        "retrykit.set_instruments([])\n"
        "calls = []\n"
        "def flaky():\n"
        "    calls.append(1)\n"
        "    if len(calls) < 3: raise TimeoutError\n"
        "RetryPolicy(sleep=lambda s: None).call(flaky)\n"
        "print(sorted(m for m in ('logging', 'prometheus_client', 'opentelemetry', 'structlog') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "library", "extra"),
    [("otel", "opentelemetry", "otel"), ("prometheus", "prometheus_client", "prometheus"), ("structlog", "structlog", "structlog")],
)
def test_an_instrument_without_its_library_names_the_extra_to_install(module: str, library: str, extra: str) -> None:
    code = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] == {library!r}: raise ImportError('No module named ' + name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        f"import retrykit.{module}\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert out.returncode == 1
    assert f'pip install "retrykit[{extra}]"' in out.stderr.strip().splitlines()[-1]


def test_the_events_instruments_get_equal_those_built_by_hand(recorder: Recorder) -> None:
    with instant(), pytest.raises(HTTPFailure):
        FAST.replace(max_retries=1).call(Flaky(HTTPFailure(503), HTTPFailure(503)))
    for _, made in recorder.moments:
        assert isinstance(made, RetryEvent)
        assert made == RetryEvent(**{name: getattr(made, name) for name in RetryEvent._fields})


def test_a_first_failure_that_is_not_retryable_is_an_answer_not_a_give_up(recorder: Recorder) -> None:
    hooked: list[RetryEvent] = []
    policy = FAST.replace(on_giveup=hooked.append)
    with instant():
        with pytest.raises(ValueError):
            policy.call(Flaky(ValueError("a bug")))
        with pytest.raises(HTTPFailure):
            policy.call(Flaky(HTTPFailure(404)))
        with pytest.raises(HTTPFailure):
            policy.call(Flaky(HTTPFailure(503), HTTPFailure(404)))  # after a retry, it is a give-up
        with pytest.raises(TimeoutError):  # so is a retryable failure the policy refuses to retry
            policy.replace(max_retries=0).call(Flaky(TimeoutError()))
    assert len(hooked) == 4  # the policy's own hook hears of every one
    assert recorder.kinds == ["retry", "giveup", "giveup"]
    assert [e.attempt for _, e in recorder.moments if isinstance(e, RetryEvent) and e.delay is None] == [2, 1]


def test_a_polling_policy_logs_its_retries_without_a_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="retrykit")
    polling = FAST.replace(max_retries=None, deadline=60, on_result=lambda status: status == "pending")
    with instant():
        assert polling.call(iter(["pending", "done"]).__next__) == "done"
    (line,) = [r.getMessage() for r in caplog.records]
    assert "failed on attempt 1 (result rejected); retrying in 1.00 s" in line


def test_a_post_the_adapter_declines_to_repeat_is_not_a_give_up(recorder: Recorder) -> None:
    with FlakyServer([Reply.error(503)]) as server, instant():
        assert CLIENTS["requests"](FAST, "POST", server.url, body=b"x").status == 503
        assert len(server.requests) == 1
    assert recorder.moments == []


def test_a_retry_no_instrument_hears_builds_no_event(monkeypatch: pytest.MonkeyPatch) -> None:
    # The default logging instrument with its level off: no event, no text, per retry.
    import logging

    import retrykit._run

    built: list[object] = []
    real = retrykit._run.event

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(retrykit._run, "event", counting)
    logger = logging.getLogger("retrykit")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with instant(), pytest.raises(ConnectionError):
            RetryPolicy(max_retries=3).call(Flaky(*[ConnectionError()] * 4))
    finally:
        logger.setLevel(level)
    assert len(built) == 1  # the give-up's, which instruments hear at any level; none for the 3 retries
