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


async def framework_sleep(delay: float) -> None:
    """Sleep in whichever async framework is running: trio if the current task is trio's, else asyncio."""
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
        except RuntimeError:
            pass
        else:
            await trio.sleep(delay)
            return
    import asyncio

    await asyncio.sleep(delay)
