"""Layered policies: retries never multiply (a give-up is marked) and never vanish (a decline is not);
the mark and notes cross process boundaries; exceptions that refuse attributes come out as themselves."""

from __future__ import annotations

import dataclasses
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from retrykit import DEFAULT_STATUS_TABLE, RetryPolicy, Stop, retry
from retrykit.errors import APIError, ServerError
from retrykit.testing import instant

from .helpers import Flaky

GAVE_UP = "__retrykit_gave_up__"
QUIET = RetryPolicy(log=False)


@pytest.fixture(autouse=True)
def _virtual_time() -> object:
    with instant() as clock:
        yield clock


def test_an_inner_policy_that_declines_an_error_leaves_it_to_the_outer_one() -> None:
    flaky = Flaky(*[ConnectionError("down")] * 3)
    inner = QUIET(on=KeyError)(flaky)
    outer = QUIET(inner)
    assert outer() == "ok"
    assert flaky.calls == 4  # the outer default policy retried what the inner one declined


def test_a_declined_error_is_noted_but_not_marked() -> None:
    error = ConnectionError("down")
    with pytest.raises(ConnectionError) as info:
        QUIET(on=KeyError).call(Flaky(error))
    assert info.value is error
    assert not hasattr(error, GAVE_UP)
    assert len(error.__notes__) == 1 and "is not retryable" in error.__notes__[0]


def test_a_declined_error_gets_one_note_however_many_policies_decline_it() -> None:
    error = ValueError("bug")
    fn = QUIET(QUIET(QUIET(Flaky(error))))
    with pytest.raises(ValueError):
        fn()
    assert len(error.__notes__) == 1


@pytest.mark.parametrize(
    ("inner", "stop"),
    [
        (QUIET(max_retries=1), Stop.NO_RETRIES_LEFT),
        (QUIET(deadline=1.5), Stop.DEADLINE),
        (QUIET(max_retry_after=5), Stop.SERVER_WAIT_TOO_LONG),
    ],
)
def test_an_inner_policy_that_retried_and_stopped_marks_the_error_so_the_outer_one_does_not_retry(
    inner: RetryPolicy, stop: Stop
) -> None:
    seen: list[Stop | None] = []
    inner = inner.replace(on_giveup=lambda event: seen.append(event.stop_reason))
    flaky = Flaky(*[ServerError("busy", status=503, retry_after=60)] * 100)
    with pytest.raises(ServerError) as info:
        QUIET(inner(flaky))()
    assert seen == [stop]
    assert getattr(info.value, GAVE_UP) is True
    assert flaky.calls == (2 if stop is Stop.NO_RETRIES_LEFT else 1)


def test_a_budget_refusal_marks_the_error() -> None:
    from retrykit import RetryBudget

    budget = RetryBudget(max_tokens=2, token_ratio=0.1)
    flaky = Flaky(*[ConnectionError("down")] * 100)
    with pytest.raises(ConnectionError) as info:
        QUIET(QUIET(budget=budget)(flaky))()
    assert getattr(info.value, GAVE_UP) is True
    assert flaky.calls <= 2


# -- pickling: a process pool's parent sees what the worker's policy did ------------------------

WORKER_CALLS = QUIET(max_retries=2)


@WORKER_CALLS
def worker_gives_up() -> None:
    raise ConnectionError("down in the worker")


@WORKER_CALLS
def worker_gives_up_on_api_error() -> None:
    raise ServerError("busy", status=503)  # pickled by APIError.__reduce__, not BaseException's


def run_in_worker() -> None:
    with instant():
        worker_gives_up()


def run_api_error_in_worker() -> None:
    with instant():
        worker_gives_up_on_api_error()


@pytest.mark.parametrize("job", [run_in_worker, run_api_error_in_worker])
def test_a_worker_process_that_gave_up_is_not_retried_by_the_parent(job: object) -> None:
    submitted = 0
    with ProcessPoolExecutor(max_workers=1) as pool:

        def remote() -> None:
            nonlocal submitted
            submitted += 1
            pool.submit(job).result()  # type: ignore[arg-type]

        with pytest.raises(Exception) as info:
            QUIET.call(remote)
    assert submitted == 1
    assert getattr(info.value, GAVE_UP) is True
    assert any(note.startswith("retrykit: gave up on") for note in info.value.__notes__)


def test_an_api_error_pickles_with_its_notes_mark_and_custom_verdict() -> None:
    table = DEFAULT_STATUS_TABLE | {418: True}
    error = APIError("short and stout", status=418, code="teapot", retry_after=3.0, table=table)
    error.add_note("retrykit: gave up on brew after 3 attempts")
    setattr(error, GAVE_UP, True)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is APIError and str(copy) == str(error)
    assert copy.__notes__ == error.__notes__
    assert getattr(copy, GAVE_UP) is True
    assert copy.retryable is True and copy.retry_after == 3.0 and copy.code == "teapot"
    assert copy.hint == error.hint


# -- exceptions that refuse attributes come out as themselves ------------------------------------


@dataclasses.dataclass(frozen=True)
class FrozenError(Exception):
    detail: str


class RefusesSetattr(ConnectionError):
    def __setattr__(self, name: str, value: object) -> None:
        raise RuntimeError("no attributes here")


class RaisingGetattr(ConnectionError):
    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"no {name} here")


def tuple_notes() -> BaseException:
    error = ConnectionError("down")
    error.__notes__ = ("a note in a tuple",)  # type: ignore[assignment]
    return error


@pytest.mark.parametrize(
    "make",
    [lambda: FrozenError("frozen"), lambda: RefusesSetattr("down"), lambda: RaisingGetattr("down"), tuple_notes],
    ids=["frozen-dataclass", "raising-setattr", "raising-getattr", "tuple-notes"],
)
@pytest.mark.parametrize("on", [Exception, ValueError], ids=["retried", "declined"])
def test_an_exception_that_refuses_attributes_comes_out_as_itself(make: object, on: type[Exception]) -> None:
    errors = [make() for _ in range(3)]  # type: ignore[operator]
    hooks: list[object] = []
    policy = QUIET(max_retries=2, on=on, on_retry=hooks.append, on_giveup=hooks.append)
    with pytest.raises(type(errors[0])) as info:
        policy.call(Flaky(*errors))
    assert info.value is errors[-1 if on is Exception else 0]
    assert len(hooks) == (3 if on is Exception else 1)


def test_a_raising_getattr_still_carries_the_mark_to_an_outer_policy() -> None:
    flaky = Flaky(*[RaisingGetattr("down") for _ in range(20)])
    with pytest.raises(RaisingGetattr):
        QUIET(QUIET(max_retries=1)(flaky))()
    # It refuses reads of missing attributes, not writes: the mark lands in its __dict__,
    # where the outer policy finds it.
    assert flaky.calls == 2


def test_the_default_policy_is_the_outer_layer_in_the_readme_example() -> None:
    # "@retry(on=KeyError) inside a default @retry": a ConnectionError gets the full default retries.
    flaky = Flaky(*[ConnectionError("down")] * 5)
    assert retry(log=False)(retry(on=KeyError, log=False)(flaky))() == "ok"
    assert flaky.calls == 6


def test_a_run_says_whether_its_give_up_should_mark_what_an_adapter_hands_back() -> None:
    from retrykit._run import Run

    declined = Run(QUIET(on=KeyError), "declined")
    assert declined.failed(ConnectionError("down")) is None and declined.exhausted is False
    spent = Run(QUIET(max_retries=0), "spent")
    assert spent.failed(ConnectionError("down")) is None and spent.exhausted is True
