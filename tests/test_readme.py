"""Every ```python block of README.md and docs/*.md runs as written, and the README's quoted output is the demo's.

The convention for writing a block (README.md says it too, in one HTML comment):

- A block is a whole program: its own imports, no names from another block, no top-level ``await``
  (wrap async code in ``asyncio.run``). Output goes in a ```text block, never a ```python one.
- A block that calls the HTTP API reads its base URL as
  ``API_URL = os.environ.get("API_URL", "https://api.example.com")``; here API_URL points at a local
  FlakyServer that answers the first request 503 and every other one 200 ``{"id": "task-1", ...}``.
  Such a block must make at least one request (a sample that only defines things proves nothing).
- Services: a block that needs one reads its address from an environment variable, and SERVICES below
  maps that variable to the pytest fixture providing it (e.g. ``"REDIS_URL": "redis_url"`` for a Redis
  server; that fixture must return the URL). A block gets the services whose variable it names.
- Blocks run under ``retrykit.testing.instant()``: retries wait in virtual time. A block that defines
  ``test_*`` functions has them called, so a README test sample runs too. No block is ever skipped.
- A ```text block right after ``<!-- output of: python -m retrykit demo -->`` quotes the demo: each of
  its lines must appear in the demo's output, timings and ports aside.
"""

from __future__ import annotations

import io
import pathlib
import re
from collections.abc import Iterator

import pytest

from retrykit.__main__ import main
from retrykit.testing import FlakyServer, Reply, instant

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# environment variable a block reads -> name of the fixture that provides its value
SERVICES = {"API_URL": "readme_api", "REDIS_URL": "redis_server"}

TASK = {"id": "task-1", "status": "done"}


def fenced(path: pathlib.Path, language: str) -> Iterator[tuple[int, str, str]]:
    """(first line number, code, the text before the fence) of every ```language block in a Markdown file."""
    text = path.read_text()
    for match in re.finditer(rf"^```{language}\n(.*?)^```$", text, flags=re.S | re.M):
        line = text.count("\n", 0, match.start(1)) + 1
        yield line, match.group(1), text[: match.start()]


BLOCKS = [
    pytest.param(path, line, code, id=f"{path.relative_to(ROOT)}:{line}")
    for path in DOCUMENTS
    for line, code, _ in fenced(path, "python")
]


@pytest.fixture
def readme_api() -> Iterator[FlakyServer]:
    with FlakyServer(
        [Reply.error(503, "Overloaded", type="server_error", code="overloaded")], default=Reply(200, TASK)
    ) as server:
        yield server


def test_the_documents_have_python_blocks() -> None:
    assert len([b for b in BLOCKS if b.values[0] == ROOT / "README.md"]) >= 5


@pytest.mark.parametrize(("path", "line", "code"), BLOCKS)
def test_block_runs_as_written(
    path: pathlib.Path, line: int, code: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = {variable: request.getfixturevalue(name) for variable, name in SERVICES.items() if variable in code}
    for variable, service in services.items():
        monkeypatch.setenv(variable, getattr(service, "url", service))
    filename = f"{path.relative_to(ROOT)}"
    compiled = compile("\n" * (line - 1) + code, filename, "exec")  # tracebacks point at the Markdown's lines
    namespace: dict[str, object] = {"__name__": "__readme__"}
    with instant():
        exec(compiled, namespace)
        tests = [f for n, f in namespace.items() if n.startswith("test_") and callable(f)]
        for test in tests:
            test()
    api = services.get("API_URL")
    if isinstance(api, FlakyServer):
        assert api.requests, f"{filename}:{line} reads API_URL but sends no request"


def normalized(text: str) -> str:
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return re.sub(r"\d+\.\d+", "N.N", text)  # seconds vary from run to run; counts and statuses do not


def test_readme_quotes_the_demo_as_it_prints(capsys: pytest.CaptureFixture[str]) -> None:
    quotes = [
        code
        for _, code, before in fenced(ROOT / "README.md", "text")
        if before.rstrip().endswith("<!-- output of: python -m retrykit demo -->")
    ]
    assert quotes, "README.md quotes no demo output"
    with instant():
        assert main(["demo"]) == 0
    printed = normalized(capsys.readouterr().out)
    for quote in quotes:
        for line in io.StringIO(quote):
            assert normalized(line.strip()) in printed, f"the demo does not print: {line.strip()}"


def test_readme_links_work_on_the_package_index() -> None:
    # The index shows README.md without the repository around it: a relative link there leads nowhere.
    targets = re.findall(r"\]\(([^)]+)\)", (ROOT / "README.md").read_text())
    assert [t for t in targets if not t.startswith(("https://", "http://", "#"))] == []


def test_the_error_model_is_named_wherever_users_look(capsys: pytest.CaptureFixture[str]) -> None:
    import pydoc

    import retrykit

    assert (ROOT / "docs" / "error-model.md").is_file()
    assert "docs/error-model.md" in (ROOT / "README.md").read_text()
    assert "docs/error-model.md" in pydoc.render_doc(retrykit.retry)
    with pytest.raises(SystemExit):
        main(["--help"])
    with instant():
        main(["demo"])
    out = capsys.readouterr().out
    assert out.count("docs/error-model.md") >= 2  # in the help and in the demo's first line
