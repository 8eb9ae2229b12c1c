"""The package's layers: every import points down or sideways, never up, and no modules import in a circle.

Imports inside functions count too: a circle hidden in a function is still a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vosbench

PACKAGE = Path(vosbench.__file__).resolve().parent
LAYERS = ("core", "ledger", "sources", "analysis", "controls", "outputs", "ui", "commands")
"""Bottom to top: data walks source → ledger → analysis → findings → outputs/UI; commands sit on everything."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The vosbench modules ``path`` imports (``from a import b`` counts as a.b when b is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vosbench"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
    return found & known


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, set(known)) - {name} for name, path in known.items()}


def test_every_module_lives_in_a_layer():
    loose = [name for name in modules() if layer(name) is None and name not in ("vosbench",)
             and not name.startswith("vosbench._data")]
    assert loose == []


def test_no_module_imports_from_a_layer_above_its_own():
    upward = sorted(f"{name} -> {target}" for name, targets in graph().items() for target in targets
                    if layer(name) is not None and layer(target) is not None and layer(target) > layer(name))
    assert upward == []


def test_no_import_circle_anywhere():
    edges = graph()
    # a package's __init__ re-exporting its modules is not a circle with them
    edges = {name: {t for t in targets if not (t == name.rsplit(".", 1)[0])} for name, targets in edges.items()}
    index, low, on_stack, stack, circles, counter = {}, {}, set(), [], [], [0]

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert circles == []
