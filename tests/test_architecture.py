"""The import rules of docs/architecture.md, read from the source with ``ast``: imports inside functions count, and
so does a string naming a module as ``importlib.import_module`` takes it (``"st_hardneg.x.y"``, ``"...x.y:Name"``).

- No module imports a higher layer than its own (``LAYERS``, lowest first).
- No import circle between modules.
- Package ``__init__.py`` files are the public faces: they may name anything (lazily), and no module of
  ``st_hardneg`` imports from one; modules import from the module that defines a name.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "st_hardneg"

# Lowest first. A module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, list[str]]] = [
    (
        "base",
        ["version", "exports", "_compat", "atomic", "columns", "keyed_random", "outputs", "data", "settings"],
    ),
    ("parts", ["eci", "models", "filters", "sampling", "formatting"]),
    ("teachers", ["teachers"]),
    ("relabel", ["relabel"]),
    ("training", ["sweep_training"]),
    ("pool", ["pool"]),
    ("build", ["build", "engines"]),
    ("select", ["select", "ensembles"]),
    ("hub", ["hub"]),
    ("api", ["candidate_pool", "mine", "miner", "reproduce"]),
    ("cli", ["cli", "settings.reference"]),
]


def module_files() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("").parts
        if "evaluate_metric" in rel:  # the `evaluate` metric script, loaded by `evaluate`, not imported
            continue
        name = ".".join(("st_hardneg", *(rel[:-1] if rel[-1] == "__init__" else rel)))
        out[name] = path
    return out


MODULES = module_files()


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imports_of(name: str) -> set[str]:
    """The ``st_hardneg`` modules ``name`` imports, anywhere in its file (the module a name is imported from, or
    the submodule itself for ``from package import submodule``)."""
    path = MODULES[name]
    package = name if is_package(name) else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                targets.append(sub if sub in MODULES else module)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            named = node.value.partition(":")[0]
            if named in MODULES and not is_package(named):  # a string for importlib, or a registry's "module:Name"
                targets = [named]
        for target in targets:
            if target == "st_hardneg" or target.startswith("st_hardneg."):
                while target not in MODULES and "." in target:
                    target = target.rpartition(".")[0]
                if target != name:
                    found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def layer_of(name: str) -> int:
    short = name.removeprefix("st_hardneg").removeprefix(".")
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (short == prefix or short.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    if rank is None:
        raise AssertionError(f"{name} is in no layer of tests/test_architecture.py: add it to LAYERS")
    return rank


def test_every_module_has_a_layer():
    for name in MODULES:
        if not is_package(name):
            layer_of(name)


def test_no_module_imports_a_package_init():
    """Package ``__init__``s are the public faces; inside the package, import from the defining module."""
    bad = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if not is_package(name)
        for target in targets
        if is_package(target)
    )
    assert bad == []


def test_no_import_runs_upward():
    bad = []
    for name, targets in GRAPH.items():
        if is_package(name):
            continue
        for target in targets:
            if not is_package(target) and layer_of(target) > layer_of(name):
                bad.append(f"{name} ({LAYERS[layer_of(name)][0]}) -> {target} ({LAYERS[layer_of(target)][0]})")
    assert sorted(bad) == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_import_circle():
    assert strongly_connected(GRAPH) == []


def test_the_checker_sees_circles_and_function_level_imports(tmp_path):
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []
    # a function-level import counts: this very file's helper reads the whole tree
    source = "def f():\n    from st_hardneg.pool.store import PoolStore\n"
    names = {a.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert names == {"PoolStore"}
    assert "st_hardneg.pool.store" in imports_of("st_hardneg.select.pick")  # a module-level import
    assert "st_hardneg.pool.settings" in imports_of("st_hardneg.settings.reference")  # an importlib string


def test_no_source_file_over_500_lines():
    sizes = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert {name: n for name, n in sizes.items() if n > 500} == {}
