"""The layout keeps its promises: documented modules, no import cycles, small modules, notebooks on the public API.

(a) every public module and subpackage of ``statcodgen`` is named in ARCHITECTURE.md;
(b) the module import graph (every import, lazy ones inside functions included, ``if TYPE_CHECKING:``
    blocks excepted) has no cycle;
(c) no module is over 500 lines;
(d) the notebooks' code cells import from ``statcodgen`` and its subpackages only, and only names in
    those packages' ``__all__``.
Static: the source is parsed with :mod:`ast`, nothing is imported except for (d)'s ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "statcodgen"
MAX_LINES = 500


def _module_name(path: Path) -> str:
    """``statcodgen/llm/config.py`` -> ``statcodgen.llm.config``; ``pkg/__init__.py`` -> ``pkg``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {name for name, p in MODULES.items() if p.name == "__init__.py"}


# --- (a) ARCHITECTURE.md names every public module ----------------------------------------------


def _public(name: str) -> bool:
    return name != "statcodgen" and not any(part.startswith("_") for part in name.split("."))


def _spellings(name: str) -> set[str]:
    """How ARCHITECTURE.md may name a module (inside backticks): dotted or as a path, with or
    without the ``statcodgen`` prefix. A subpackage may be written ``generation`` or ``generation/``."""
    rel = name.removeprefix("statcodgen.")
    path = rel.replace(".", "/")
    forms = {rel, name, path, f"statcodgen/{path}"}
    if name in PACKAGES:
        forms |= {f"{path}/", f"statcodgen/{path}/"}
    else:
        forms |= {f"{path}.py", f"statcodgen/{path}.py"}
    return forms


def _named_in_architecture() -> set[str]:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    tokens: set[str] = set()
    for span in re.findall(r"`([^`\n]+)`", text):
        tokens |= set(re.findall(r"[A-Za-z_][\w./]*", span))
    return tokens | {t.rstrip(".") for t in tokens}


def test_every_public_module_is_in_architecture_md() -> None:
    named = _named_in_architecture()
    missing = sorted(m.removeprefix("statcodgen.") for m in MODULES if _public(m) and not _spellings(m) & named)
    assert not missing, (
        f"ARCHITECTURE.md does not name these public modules/subpackages: {missing}. "
        "Write each in backticks with its package path, e.g. `llm.config` or `llm/config.py`."
    )


# --- (b) no import cycles -----------------------------------------------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (functions, methods, try blocks), except the bodies of
    ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                walk(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    return found


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """Absolute name of the module ``from <...> import`` refers to, inside ``module``."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if module in PACKAGES else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package modules an import statement runs: the module imported (a package's
    ``__init__``; a submodule when a ``from`` name is one) and the packages above it that are
    not already above ``module`` (those are initialised before ``module`` runs)."""
    if isinstance(node, ast.Import):
        imported = {a.name for a in node.names}
    else:
        src = _resolve(module, node)
        imported = {f"{src}.{a.name}" if f"{src}.{a.name}" in MODULES else src for a in node.names}
    own_parents = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    out = set()
    for name in imported:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in MODULES and (prefix == name or prefix not in own_parents):
                out.add(prefix)
    out.discard(module)
    return out


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: line of the first such import}."""
    graph: dict[str, dict[str, int]] = {}
    for module, path in MODULES.items():
        edges: dict[str, int] = {}
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            for target in _targets(module, node):
                edges.setdefault(target, node.lineno)
        graph[module] = edges
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (a path back to its start) per strongly connected component with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    cycles = []
    for comp in components:
        start = min(comp)
        prev: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in prev:  # shortest way back to start, inside the component
            nxt = []
            for v in frontier:
                for w in sorted(graph[v]):
                    if w in comp and w not in prev:
                        prev[w] = v
                        nxt.append(w)
            frontier = nxt
        path = [start]
        while True:
            path.append(prev[path[-1]])
            if path[-1] == start:
                break
        cycles.append(path[::-1])
    return cycles


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles = _cycles(graph)

    def show(cycle: list[str]) -> str:
        steps = [f"{a} (line {graph[a][b]}) -> {b}" for a, b in zip(cycle, cycle[1:])]
        return "; ".join(steps)

    assert not cycles, "import cycles (lazy imports inside functions count):\n" + "\n".join(show(c) for c in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    """The checker itself: a two-module and a three-module cycle are found, a chain is not."""
    assert _cycles({"a": {"b": 1}, "b": {"a": 2}, "c": {"a": 3}}) == [["a", "b", "a"]]
    assert _cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {}}) == []


def test_imports_are_resolved_like_python() -> None:
    """Relative imports, lazy imports and package ``__init__`` edges, on the real package."""
    mod = "statcodgen.generation.engine" if "statcodgen.generation.engine" in MODULES else next(
        m for m in MODULES if m.count(".") == 2 and not m.rsplit(".", 1)[1].startswith("_"))
    pkg = mod.rsplit(".", 1)[0]
    tree = ast.parse("from . import x\nfrom .. import errors\nfrom ..errors import E\ndef f():\n    import statcodgen.report\n"
                     "if TYPE_CHECKING:\n    from ..study import config\n")
    targets = [_targets(mod, n) for n in _import_nodes(tree)]
    assert targets == [{pkg}, {"statcodgen.errors"}, {"statcodgen.errors"}, {"statcodgen.report"}]
    # a submodule importing a name of its own package's __init__ is an edge to that __init__
    assert _targets(mod, ast.parse("from . import SOMETHING").body[0]) == {pkg}  # type: ignore[arg-type]
    # importing a submodule of another subpackage runs that subpackage's __init__ too
    assert _targets(mod, ast.parse("from ..report.writer import W").body[0]) >= {"statcodgen.report"}  # type: ignore[arg-type]


# --- (c) module size ----------------------------------------------------------------------------


def test_no_module_over_500_lines() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    over = {m: n for m, n in sizes.items() if n > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split them): {over}"


# --- (d) notebooks use the public API ----------------------------------------------------------

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _cell_tree(source: str) -> ast.Module:
    """A code cell as Python, IPython magics and shell lines (``%``, ``!``) blanked out."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def _public_names(package: str) -> set[str] | None:
    """``__all__`` of ``package`` when it is ``statcodgen`` or one of its subpackages, else None."""
    if package not in PACKAGES:
        return None
    return set(getattr(importlib.import_module(package), "__all__", ()))


def notebook_violations(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        tree = _cell_tree(src)
        aliases: dict[str, str] = {}  # local name -> package, for `import statcodgen.x as y` / attribute use
        for node in ast.walk(tree):
            where = f"{path.name} code cell {i}, line {getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "statcodgen" and not node.level:
                names = _public_names(node.module or "")
                if names is None:
                    problems.append(f"{where}: imports from {node.module}, not from statcodgen or a subpackage")
                    continue
                for a in node.names:
                    if a.name == "*" or a.name not in names:
                        problems.append(f"{where}: {a.name!r} is not in {node.module}.__all__")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] != "statcodgen":
                        continue
                    if _public_names(a.name) is None:
                        problems.append(f"{where}: imports {a.name}, not statcodgen or a subpackage")
                    else:
                        aliases[a.asname or a.name.split(".")[0]] = a.asname and a.name or "statcodgen"
        for node in ast.walk(tree):  # y.name where y is an imported statcodgen package
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                package = aliases[node.value.id]
                names = _public_names(package) or set()
                if node.attr not in names and f"{package}.{node.attr}" not in PACKAGES:
                    problems.append(f"{path.name} code cell {i}, line {node.lineno}: {package}.{node.attr} is not in __all__")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_import_only_public_names(path: Path) -> None:
    problems = notebook_violations(path)
    assert not problems, "\n".join(problems)


def test_notebook_checker_catches_private_imports(tmp_path: Path) -> None:
    """The checker itself, on a made-up notebook."""
    cells = ["from statcodgen import load_notes\nimport pandas as pd", "%matplotlib inline\nfrom statcodgen.llm.config import LLMConfig",
             "from statcodgen import _WHERE", "import statcodgen as sc\nsc.not_a_public_name()"]
    nb = {"cells": [{"cell_type": "code", "source": c} for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    problems = notebook_violations(path)
    assert len(problems) == 3, problems
    assert "statcodgen.llm.config" in problems[0] and "_WHERE" in problems[1] and "not_a_public_name" in problems[2]
