"""The package's shape: no import circles (TYPE_CHECKING imports included), an engine below its faces, small modules."""

from __future__ import annotations

import ast
import pathlib

import retrykit

PACKAGE = pathlib.Path(retrykit.__file__).parent


def _imports() -> dict[str, set[str]]:
    """Module -> the retrykit modules it imports anywhere in its source (functions and TYPE_CHECKING blocks too)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        name = ".".join(["retrykit", *parts])
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    module = f"{base}.{node.module}" if node.module else base
                    if node.module is None:
                        targets.update(f"{base}.{alias.name}" for alias in node.names)
                    else:
                        targets.add(module)
                elif node.module and node.module.startswith("retrykit"):
                    targets.add(node.module)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("retrykit"))
        graph[name] = {t for t in targets if t != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == "retrykit" or nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_circle_anywhere_in_the_package() -> None:
    assert _cycle(_imports()) is None


def test_the_engine_imports_nothing_above_it() -> None:
    graph = _imports()
    below = {"retrykit._backoff", "retrykit._classify", "retrykit._config", "retrykit._headers", "retrykit._httpdate", "retrykit._mro", "retrykit._status"}
    reachable: set[str] = set()
    todo = ["retrykit._engine"]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                todo.append(nxt)
    assert reachable <= below, reachable - below



def test_no_module_is_over_about_three_hundred_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 310} == {}
