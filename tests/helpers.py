"""Small fakes shared by the tests (no mocking of clients: these are plain failures)."""

from __future__ import annotations


class HTTPFailure(Exception):
    """An error carrying a status and headers, like a client's HTTP error."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status} for url https://api.example/v1?api_key=sk-SECRET")
        self.status_code = status
        self.headers = headers or {}


class Flaky:
    """Fails with the given errors in order, then returns ``result``; counts calls."""

    def __init__(self, *errors: BaseException, result: object = "ok") -> None:
        self.errors = list(errors)
        self.result = result
        self.calls = 0

    def __call__(self, *args: object, **kwargs: object) -> object:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


class AsyncFlaky(Flaky):
    async def __call__(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        return super().__call__(*args, **kwargs)
