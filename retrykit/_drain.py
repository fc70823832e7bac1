"""Reading what is left of a response the caller will not get: bounded, so its connection can go back to the pool."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable

from .errors import MAX_BODY

# How much of a discarded body is read; a longer one costs its connection instead. The
# typed error for a final response reads no more either.
DRAIN_LIMIT = MAX_BODY


def drain(chunks: Iterable[bytes]) -> bytes:
    """Up to 64 KiB (and a byte) of a body being discarded, so its connection can be reused.

    A body that breaks midway yields what was read: it must not stop the retry.
    The caller releases the response.
    """
    kept: list[bytes] = []
    size = 0
    try:
        for chunk in chunks:
            kept.append(chunk)
            size += len(chunk)
            if size > DRAIN_LIMIT:
                break
    except Exception:
        pass
    return b"".join(kept)


async def adrain(chunks: AsyncIterable[bytes]) -> bytes:
    """:func:`drain` for an async body."""
    kept: list[bytes] = []
    size = 0
    try:
        async for chunk in chunks:
            kept.append(chunk)
            size += len(chunk)
            if size > DRAIN_LIMIT:
                break
    except Exception:
        pass
    return b"".join(kept)
