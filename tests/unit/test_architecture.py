"""The package's shape, as docs/architecture.md describes it: loops stay inside one package, and
imports inside functions are kept for heavy or optional third-party libraries.

The layer order itself is checked by `lint-imports` (the contracts in pyproject.toml), in CI.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import grimp

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "lamella"

# loops inside one package, each named with its reason in docs/architecture.md
KNOWN_LOOPS = {
    frozenset(
        {
            "lamella.models.artifact.artifact",
            "lamella.models.artifact.access",
            "lamella.models.artifact.family",
            "lamella.models.artifact.many",
            "lamella.models.artifact.store",
        }
    ),
    frozenset({"lamella.models.schema.schema", "lamella.models.schema.definitions"}),
}
# the budget the restructuring set (60), raised by reading many artifacts as one (pandas, anndata,
# mudata, pyarrow, polars) and by the web UI's previews (pyarrow, pandas, h5py, anndata: a table's
# first rows, an AnnData's heads): imports inside functions are for heavy or optional libraries only
MAX_IMPORTS_IN_FUNCTIONS = 74
# the one lamella import inside a function: `lamella init --db postgresql://...` opens the database,
# which needs SQLAlchemy and the registries that `lamella init` of an embedded instance never loads
LAMELLA_IMPORTS_IN_FUNCTIONS = {("_cli/instance_init.py", "lamella._setup")}


def _loops(graph: grimp.ImportGraph) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [
            (root, iter(sorted(graph.find_modules_directly_imported_by(root))))
        ]
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
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_no_import_loop_spans_two_packages() -> None:
    graph = grimp.build_graph("lamella", exclude_type_checking_imports=True)
    loops = _loops(graph)
    for loop in loops:
        packages = {module.rsplit(".", 1)[0] for module in loop}
        assert len(packages) == 1, f"an import loop across packages: {sorted(loop)}"
    assert {frozenset(loop) for loop in loops} == KNOWN_LOOPS, "a new loop: name it in docs/architecture.md"


def test_the_loop_finder_finds_a_loop() -> None:
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.b", imported="p.c")
    assert _loops(graph) == [{"p.a", "p.b"}]


def _imports_in_functions() -> list[tuple[str, str]]:
    """(file, imported module) of every import statement inside a function, each counted once."""
    found: list[tuple[str, str]] = []

    class Visitor(ast.NodeVisitor):
        depth = 0

        def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
            self.depth += 1
            self.generic_visit(node)
            self.depth -= 1

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_Import(self, node: ast.Import) -> None:
            if self.depth:
                found.append((relative, node.names[0].name))

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if self.depth:
                found.append((relative, "." * node.level + (node.module or "")))

    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if "migrations/versions" not in relative:
            Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_imports_inside_functions_are_few_and_never_of_lamella_itself() -> None:
    found = _imports_in_functions()
    assert len(found) < MAX_IMPORTS_IN_FUNCTIONS, (
        f"{len(found)} imports inside functions; import at module level unless the library is heavy or optional"
    )
    own = {(file, module) for file, module in found if module.startswith(("lamella", "."))}
    assert own == LAMELLA_IMPORTS_IN_FUNCTIONS, f"lamella imported inside a function: {sorted(own)}"
