"""Each integration's optional library is an extra; without it, the import error says which extra to install."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter: a meta-path finder makes one library look uninstalled, then imports the adapter.
HIDE_AND_IMPORT = """
import importlib.abc, sys

class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == {library!r} or name.startswith({library!r} + "."):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Hide())
import retrykit  # the core needs no extra
try:
    import retrykit.{module}
except ImportError as error:
    print(type(error).__name__, error.name, error, sep="|")
else:
    print("imported")
"""

# module of retrykit -> (the library it needs, the extra that installs it)
EXTRAS = {
    "requests": ("requests", "requests"),
    "httpx": ("httpx", "httpx"),
    "aiohttp": ("aiohttp", "aiohttp"),
}


def import_without(library: str, module: str) -> str:
    code = HIDE_AND_IMPORT.format(library=library, module=module)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("module", sorted(EXTRAS))
def test_importing_an_adapter_without_its_client_names_the_extra(module: str) -> None:
    library, extra = EXTRAS[module]
    kind, name, message = import_without(library, module).split("|")
    assert kind == "ImportError"
    assert name == library
    assert f'pip install "retrykit[{extra}]"' in message
    assert f"retrykit.{module} needs {library}" in message


def test_an_adapter_imports_when_only_other_clients_are_missing() -> None:
    assert import_without("httpx", "requests") == "imported"
