"""Property: for any sequence of outcomes, a rejected result is retried exactly like a retryable failure."""

from __future__ import annotations

import asyncio
import random

from hypothesis import given
from hypothesis import strategies as st

from retrykit import Backoff, RetriesExhausted, RetryBudget, RetryPolicy
from retrykit.testing import instant

REJECTED = "pending"
ACCEPTED = "done"

outcomes = st.lists(st.sampled_from(["fail", "reject", "ok"]), min_size=1, max_size=12)
limits = st.one_of(
    st.tuples(st.integers(0, 8), st.none() | st.floats(1, 40)),  # a retry count, maybe a deadline
    st.tuples(st.none(), st.floats(1, 40)),  # polling: a deadline only
)
faces = st.sampled_from(["decorator", "call", "block", "acall", "async block"])


def run(face: str, policy: RetryPolicy, script: list[str], rejected_as_failure: bool) -> tuple[str, int, list[float]]:
    """(how it ended, calls made, delays waited) for one face playing ``script``."""
    left = list(script) + ["ok"] * 64
    calls = 0

    def attempt() -> str:
        nonlocal calls
        calls += 1
        step = left.pop(0)
        if step == "fail" or (step == "reject" and rejected_as_failure):
            raise ConnectionError(step)
        return REJECTED if step == "reject" else ACCEPTED

    async def aattempt() -> str:
        return attempt()

    def block() -> str:
        for each in policy.attempts():
            with each:
                each.result = attempt()
        return str(each.result)

    async def ablock() -> str:
        async for each in policy.attempts():
            with each:
                each.result = await aattempt()
        return str(each.result)

    with instant() as clock:
        try:
            if face == "decorator":
                policy(attempt)()
            elif face == "call":
                policy.call(attempt)
            elif face == "block":
                block()
            elif face == "acall":
                asyncio.run(policy.acall(aattempt))
            else:
                asyncio.run(ablock())
            ended = "returned"
        except RetriesExhausted as error:
            ended = f"gave up on a reject after {error.attempts} attempts, the last result {error.result}"
        except ConnectionError as error:
            ended = (
                f"gave up on a reject after {calls} attempts, the last result {REJECTED}"
                if error.args == ("reject",)
                else "gave up on a failure"
            )
    return ended, calls, clock.delays


@given(outcomes, limits, st.booleans(), st.integers(0, 2**32), faces)
def test_a_rejected_result_is_retried_exactly_like_a_retryable_failure(
    script: list[str], limit: tuple[int | None, float | None], budgeted: bool, seed: int, face: str
) -> None:
    max_retries, deadline = limit

    def policy() -> RetryPolicy:
        # Fresh state per run: the same jitter draws and the same budget.
        return RetryPolicy(
            max_retries=max_retries,
            deadline=deadline,
            on_result=lambda value: value == REJECTED,
            backoff=Backoff(base=0.5, cap=8),
            rng=random.Random(seed),
            budget=RetryBudget(max_tokens=6, token_ratio=0.5) if budgeted else None,
            log=False,
        )

    assert run(face, policy(), script, rejected_as_failure=False) == run(
        face, policy(), script, rejected_as_failure=True
    )
