from __future__ import annotations

import asyncio

from . import typing_check


def test_the_typing_examples_run() -> None:
    typing_check.check()
    typing_check.check_adapter_keywords()
    typing_check.check_instruments()
    asyncio.run(typing_check.acheck())
    assert typing_check.get_user(1) == {"id": "1", "fields": "id"}
