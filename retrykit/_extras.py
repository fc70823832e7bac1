"""The ImportError an integration raises when its optional library is missing: it names the extra to install."""

from __future__ import annotations


def missing_extra(extra: str, library: str | None = None) -> ImportError:
    """An ImportError saying which ``retrykit[extra]`` brings ``library`` (raise it ``from`` the original)."""
    library = library or extra
    return ImportError(
        f'retrykit.{extra} needs {library}, which is not installed: pip install "retrykit[{extra}]"',
        name=library,
    )
