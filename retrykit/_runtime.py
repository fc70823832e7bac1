"""Where the faces get time from: the real clock and sleep, or the virtual ones of ``testing.instant()``."""

from __future__ import annotations

import sys
from typing import Protocol


class TimeSource(Protocol):
    """A replacement for every policy's clock and sleep, process-wide."""

    attempts: int | None  # a cap on every policy's attempts, or None
    def clock(self) -> float: ...
    def wall(self) -> float: ...
    def sleep(self, delay: float) -> None: ...
    async def async_sleep(self, delay: float) -> None: ...


# Set by testing.instant(); read only on the failure path, never on the first attempt.
override: TimeSource | None = None


def in_trio() -> bool:
    """Whether the current task is trio's (never importing trio, and never failing on a half-imported one)."""
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_task()
    except Exception:  # RuntimeError outside trio; AttributeError while another thread is importing it
        return False
    return True


def in_event_loop() -> bool:
    """Whether this thread is running an asyncio event loop or a trio task."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and asyncio.events._get_running_loop() is not None:
        return True
    return in_trio()


async def framework_sleep(delay: float) -> None:
    """Sleep in whichever async framework is running: trio if the current task is trio's, else asyncio."""
    if in_trio():
        await sys.modules["trio"].sleep(delay)
        return
    import asyncio

    await asyncio.sleep(delay)
