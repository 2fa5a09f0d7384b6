"""The layering rules, read from the source with ``ast``:

- ``accounts`` never imports ``directory`` (the directory follows accounts through the
  signals of ``accounts/signals.py``);
- a selectors module never imports a services module;
- the modules of ``schema/`` import each other without a cycle. Only imports that run
  when a module is imported count: those at module level and in class bodies, not
  those inside functions or under ``if TYPE_CHECKING:`` (``strawberry.lazy`` covers
  back-references between types).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules an import statement names (``from x import y`` names ``x.y`` too,
    which the caller keeps only when it is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}".strip(".")
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, *, at_import_time: bool) -> set[str]:
    """Modules named by the imports of ``path``: all of them, or (``at_import_time``)
    only those that run when the module is imported."""
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.update(_imported(node, module, is_package))
            return
        if at_import_time:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return
            if isinstance(node, ast.If) and _is_type_checking(node):
                for child in node.orelse:
                    visit(child)
                return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


def _names(modules: set[str], prefix: str) -> set[str]:
    return {name for name in modules if name == prefix or name.startswith(f"{prefix}.")}


@pytest.mark.parametrize("path", _sources("accounts"), ids=lambda path: _module_name(path))
def test_accounts_never_imports_directory(path):
    assert not _names(_imports(path, at_import_time=False), "directory")


SELECTORS = [
    path
    for package in ("accounts", "directory", "schema")
    for path in _sources(package)
    if "selectors" in path.stem
]


def test_there_are_selectors_to_check():
    assert {_module_name(path) for path in SELECTORS} >= {
        "accounts.selectors",
        "directory.selectors",
        "directory.team_selectors",
    }


@pytest.mark.parametrize("path", SELECTORS, ids=lambda path: _module_name(path))
def test_selectors_never_import_services(path):
    imported = _imports(path, at_import_time=False)
    assert not {name for name in imported if "services" in name.split(".")}


def schema_import_graph() -> dict[str, set[str]]:
    """Module -> the ``schema`` modules it imports when it is imported."""
    paths = _sources("schema")
    modules = {_module_name(path) for path in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        module = _module_name(path)
        targets = set()
        for name in _imports(path, at_import_time=True):
            # Importing ``schema.a.b`` runs ``schema.a`` (its __init__) first.
            parts = name.split(".")
            targets.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
        graph[module] = {name for name in targets & modules if name != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None."""
    done: set[str] = set()

    def walk(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph.get(node, ())):
            cycle = walk(target, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = walk(node, [])
        if cycle:
            return cycle
    return None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_schema_modules_import_each_other_without_a_cycle():
    graph = schema_import_graph()
    assert graph["schema.organizations.types"] >= {"schema.accounts.types"}
    assert find_cycle(graph) is None
