"""Fails when modules of a package import each other in a circle at import time.

Only imports that run when a module is imported count (those at module
level, including inside `if`/`try` there); an import inside a function runs
later and is how the parser reaches the commands, so it is not an edge.
Importing `a.b.c` first runs the packages `a` and `a.b`, so those are edges
too, except a module's own parent packages, which Python has initialised
before the module itself.

    python scripts/check_import_cycles.py [PACKAGE_FOLDER]   # default: multimodal_tf
"""

from __future__ import annotations

import ast
import pathlib
import sys


def module_names(root: pathlib.Path) -> dict:
    """Every module of the package under `root`: dotted name -> file."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _top_level_imports(tree: ast.Module):
    """Import statements that run at import time (not inside a def or a class body's methods)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                pending.extend(getattr(node, field, []))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)


def import_graph(root: pathlib.Path) -> dict:
    """Module -> the package's modules it imports at import time."""
    modules = module_names(root)
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in _top_level_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                candidates = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in candidates:
                # Importing a.b.c runs a/__init__ and a/b/__init__ first: edges too.
                parts = target.split(".")
                for end in range(1, len(parts) + 1):
                    step = ".".join(parts[:end])
                    if step in modules and step != name and not name.startswith(f"{step}."):
                        targets.add(step)
        graph[name] = sorted(targets)
    return graph


def find_cycle(graph: dict) -> list | None:
    """One circle of imports as a list of module names (first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in graph.get(node, ()):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = pathlib.Path(argv[0] if argv else "multimodal_tf").resolve()
    cycle = find_cycle(import_graph(root))
    if cycle:
        print(f"import cycle in {root.name}: {' -> '.join(cycle)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
