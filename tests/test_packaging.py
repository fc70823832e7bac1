"""The package's metadata: license, URLs, Python versions, and one extra per integration (the wheel's contents are checked by .ci/run)."""

from __future__ import annotations

import pathlib
import re
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS: dict[str, list[str]] = PROJECT["optional-dependencies"]

# extra -> the distribution it must bring
INTEGRATIONS = {
    "requests": "requests",
    "httpx": "httpx",
    "aiohttp": "aiohttp",
    "redis": "redis",
    "otel": "opentelemetry-api",
    "prometheus": "prometheus-client",
    "structlog": "structlog",
}


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


@pytest.mark.parametrize("extra", sorted(INTEGRATIONS))
def test_each_integration_is_an_extra_bringing_its_library(extra: str) -> None:
    assert INTEGRATIONS[extra] in names(EXTRAS[extra])


def test_the_core_has_no_dependencies() -> None:
    assert PROJECT["dependencies"] == []


def test_the_test_extra_installs_every_integration() -> None:
    (self_reference,) = [r for r in EXTRAS["test"] if r.startswith("retrykit[")]
    assert set(self_reference[len("retrykit[") : -1].split(",")) == set(INTEGRATIONS)
    assert {"pytest", "hypothesis", "trio"} <= names(EXTRAS["test"])


def test_tools_and_peers_have_their_own_extras() -> None:
    assert {"mypy", "ruff", "pyright", "build"} <= names(EXTRAS["dev"])
    assert {"tenacity", "backoff", "stamina"} <= names(EXTRAS["bench"])
    assert not names(EXTRAS["test"]) & (names(EXTRAS["dev"]) | {"tenacity", "backoff", "stamina"})


def test_license_urls_author_and_python_versions() -> None:
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert {"Source", "Issues", "Changelog"} <= set(PROJECT["urls"])
    assert all(author.get("email") for author in PROJECT["authors"])
    versions = {
        c.rsplit(" :: ", 1)[1]
        for c in PROJECT["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    assert versions == {"3.11", "3.12", "3.13"} and PROJECT["requires-python"] == ">=3.11"


def test_the_sdist_carries_license_docs_and_changelog() -> None:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["sdist"][
        "include"
    ]
    assert {"LICENSE", "CHANGELOG.md", "docs", "README.md"} <= set(include)
    assert (ROOT / "CHANGELOG.md").is_file()
