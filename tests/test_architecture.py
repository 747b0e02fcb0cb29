"""The package is laid out as the data flows, and a test keeps it so.

    core  ->  sources  ->  accounting, reconcile, sample  ->  close  ->  reports  ->  cli

A module imports only from its own folder and the folders below it; two folders on one level do
not import each other; no import cycles between modules. Imports inside functions count too: a
lazy import is still a dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wip_lib"

LAYERS = {"core": 0, "sources": 1, "accounting": 2, "reconcile": 2, "sample": 2, "close": 3,
          "reports": 4, "cli": 5}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every ``wip_lib`` module that ``path`` imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path)
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("wip_lib"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base if is_pkg else base[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("wip_lib"):
                continue
            for a in node.names:  # `from wip_lib.x import y` may name a module y
                sub = f"{mod}.{a.name}"
                found.add(sub if _is_module(sub) else mod)
    return found


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def modules() -> dict[str, set[str]]:
    return {module_name(p): imported_modules(p) for p in sorted(PACKAGE.rglob("*.py"))}


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for mod, deps in graph.items():
        mine = layer_of(mod)
        if mine is None:
            continue
        for dep in sorted(deps):
            theirs = layer_of(dep)
            if theirs is None or theirs == mine:
                continue
            if LAYERS[theirs] >= LAYERS[mine]:
                bad.append(f"{mod} ({mine}) imports {dep} ({theirs})")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if d not in graph:
                continue
            if state.get(d) == 1:
                found.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return found


def test_every_module_sits_in_a_layer():
    loose = [m for m in modules() if m not in ("wip_lib",) and layer_of(m) is None]
    assert loose == [], f"modules outside the layers: {loose}"


def test_imports_run_down_the_layers():
    bad = layer_violations(modules())
    assert bad == [], "imports against the flow:\n" + "\n".join(bad)


def test_no_import_cycles():
    graph = {m: {d for d in deps if d != m and not m.startswith(d + ".")}
             for m, deps in modules().items()}
    found = cycles(graph)
    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


@pytest.mark.parametrize("source, expected", [
    ("from wip_lib.reports.html import dollars\n", ["wip_lib.core.money (core) imports "
                                                   "wip_lib.reports.html (reports)"]),
    ("from wip_lib.core import errors\n", []),
])
def test_the_layer_rule_catches_a_reverse_import(source, expected):
    """The checker itself: a core module importing a report is reported, a same-layer one not."""
    graph = {"wip_lib.core.money": set()}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                graph["wip_lib.core.money"].add(sub if _is_module(sub) else node.module)
    assert layer_violations(graph) == expected


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
