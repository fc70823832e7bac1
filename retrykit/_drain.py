"""Reading what is left of a response the caller will not get: bounded, so its connection can go back to the pool."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from contextlib import suppress

from .errors import MAX_BODY

# How much of a discarded body is read; a longer one costs its connection instead. The
# typed error for a final response reads no more either.
DRAIN_LIMIT = MAX_BODY


class _Kept:
    """The chunks read so far, and their size."""

    __slots__ = ("chunks", "size")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def full(self, chunk: bytes) -> bool:
        """Keep ``chunk``; True once more than the limit is kept (the rest stays unread)."""
        self.chunks.append(chunk)
        self.size += len(chunk)
        return self.size > DRAIN_LIMIT


def drain(chunks: Iterable[bytes]) -> bytes:
    """Up to 64 KiB (and a byte) of a body being discarded; the caller releases the response.

    A body that breaks midway yields what was read: it must not stop the retry.
    """
    kept = _Kept()
    with suppress(Exception):
        for chunk in chunks:
            if kept.full(chunk):
                break
    return b"".join(kept.chunks)


async def adrain(chunks: AsyncIterable[bytes]) -> bytes:
    """:func:`drain` for an async body."""
    kept = _Kept()
    with suppress(Exception):
        async for chunk in chunks:
            if kept.full(chunk):
                break
    return b"".join(kept.chunks)
