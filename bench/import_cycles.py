"""Import cycles among slaclock's modules: the strongly connected components (of more than one
module) of the import graph, for the closing measurements of issue 12 (docs/benchmarks.md).

    .venv/bin/python bench/import_cycles.py layers/slaclock                  # every runtime import
    .venv/bin/python bench/import_cycles.py layers/slaclock --module-level   # module-level ones only

"Every runtime import" includes function-local imports (a cycle hidden by a function-local import is
still a cycle of the design) and leaves out ``if TYPE_CHECKING:`` blocks (never run). A name imported
from a package counts as an import of its submodule when one has that name.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for the ``slaclock`` package under `root`."""
    out = {}
    for path in (root / "slaclock").rglob("*.py"):
        rel = path.relative_to(root).with_suffix("")
        out[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path], module_level: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    nodes = tree.body if module_level else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {t for t in found if t in known and t != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one member."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path, help="the folder holding the slaclock package (layers/slaclock)")
    parser.add_argument("--module-level", action="store_true", help="only imports at a module's top level")
    args = parser.parse_args()
    known = modules(args.root)
    graph = {name: imports(name, path, known, args.module_level) for name, path in known.items()}
    found = cycles(graph)
    kind = "module-level imports" if args.module_level else "every runtime import"
    print(f"{len(known)} modules, {len(found)} import cycles ({kind})")
    for component in found:
        print("  " + " <-> ".join(component))


if __name__ == "__main__":
    main()
