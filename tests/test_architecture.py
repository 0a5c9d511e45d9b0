"""The shape of the house, checked: imports flow one way, secrets stay private, one seam.

These read the source with :mod:`ast` (imports inside functions included), so a cycle hidden
behind a function-level import, or a ``_private`` name borrowed from a sibling, fails here
rather than in a newcomer's head. ``docs/architecture.md`` explains the rules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GEO = ROOT / "geo"
#: A file past this many lines wants splitting (STYLE.md: "~600").
MAX_LINES = 600
#: The wings, lowest first: a wing may import the ground floor and the wings before it.
LAYERS_OF_THE_HOUSE = {
    "ground": [
        "geo.errors",
        "geo.crs",
        "geo.schema",
        "geo.settings",
        "geo.atomic",
        "geo.version",
        "geo.catalogue",
    ],
    "layers": ["geo.layers"],
    "network": ["geo.network"],
    "analysis": ["geo.analysis"],
    "maps": ["geo.maps"],
    "reports": ["geo.reports"],
}
#: What each wing may import besides itself and the ground floor.
ALLOWED = {
    "ground": set(),
    "layers": set(),
    "network": set(),
    "analysis": {"layers", "network"},
    "maps": {"layers", "network", "analysis"},
    "reports": {"layers", "network", "analysis", "maps"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(base: Path) -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(base.rglob("*.py"))}


MODULES = _modules(GEO)


def _imports(path: Path) -> list[tuple[str, str | None, int]]:
    """(module, name or None, line) of every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolve against the package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found += [(module, alias.name, node.lineno) for alias in node.names]
    return found


def _targets(module: str, name: str | None) -> list[str]:
    """The geo modules an import statement loads: ``from geo.a import b`` is ``geo.a.b``
    when ``b`` is a module, else ``geo.a``."""
    if name is not None and f"{module}.{name}" in MODULES:
        return [f"{module}.{name}"]
    return [module] if module in MODULES else []


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for module, imported, _ in _imports(path):
            graph[name].update(t for t in _targets(module, imported) if t != name)
    return graph


def _wing(module: str) -> str | None:
    for wing, prefixes in LAYERS_OF_THE_HOUSE.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return wing
    return None


def test_there_are_no_import_cycles_not_even_inside_functions() -> None:
    graph = _graph()
    # the package __init__ files only re-export; a cycle through them is still a cycle
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_no_private_name_is_imported_from_another_module() -> None:
    borrowed = []
    for path in MODULES.values():
        for module, imported, line in _imports(path):
            if not module.startswith("geo") or imported is None:
                continue
            private = imported.startswith("_") and not imported.endswith("__")
            if private and f"{module}.{imported}" not in MODULES:
                borrowed.append(f"{path.relative_to(ROOT)}:{line} takes {module}.{imported}")
    assert not borrowed, "\n".join(borrowed)


def test_data_flows_one_way_between_the_wings() -> None:
    upward = []
    for name, path in MODULES.items():
        wing = _wing(name)
        if wing is None:  # geo/__init__.py, cli.py, testing.py: doors at the top
            continue
        for module, imported, line in _imports(path):
            for target in _targets(module, imported):
                other = _wing(target)
                if other in (None, wing, "ground"):
                    if other is None and target != "geo":
                        upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
                    continue
                if other not in ALLOWED[wing]:
                    upward.append(f"{path.relative_to(ROOT)}:{line} ({wing}) imports {target}")
    assert not upward, "\n".join(upward)


def test_the_compiled_kernels_are_a_leaf() -> None:
    imports = [m for m, _, _ in _imports(GEO / "network" / "_kernels.py")]
    assert not [m for m in imports if m.startswith("geo")], imports


@pytest.mark.parametrize("base", [GEO, ROOT / "api"], ids=["geo", "api"])
def test_only_the_settings_module_reads_the_environment(base: Path) -> None:
    readers = []
    for path in sorted(base.rglob("*.py")):
        if path == GEO / "settings.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            touched = (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")) or (
                isinstance(node, ast.Name) and node.id in ("environ", "getenv")
            )
            if touched:
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not readers, "environment read outside geo/settings.py: " + ", ".join(readers)


def test_only_the_store_takes_the_write_lock() -> None:
    lockers = []
    for path in sorted(ROOT.joinpath("geo").rglob("*.py")) + sorted(
        ROOT.joinpath("api").rglob("*.py")
    ):
        for module, _, line in _imports(path):
            if module.split(".")[0] == "filelock" and path != GEO / "layers" / "folder.py":
                lockers.append(f"{path.relative_to(ROOT)}:{line}")
    assert not lockers, lockers


def test_no_module_is_longer_than_a_newcomer_can_read() -> None:
    long = {
        str(path.relative_to(ROOT)): count
        for path in [*GEO.rglob("*.py"), *ROOT.joinpath("api").rglob("*.py")]
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_every_public_module_declares_its_public_names() -> None:
    undeclared = []
    for name, path in MODULES.items():
        if path.name == "__init__.py" and name != "geo":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        declared = any(
            isinstance(node, ast.Assign | ast.AnnAssign)
            and any(
                getattr(t, "id", None) == "__all__"
                for t in getattr(
                    node, "targets", [node.target] if isinstance(node, ast.AnnAssign) else []
                )
            )
            for node in tree.body
        )
        if not declared and name != "geo.cli":
            undeclared.append(name)
    assert not undeclared, undeclared


def _public_functions(path: Path) -> list[ast.FunctionDef]:
    """Functions named in the module's ``__all__``, and the public methods of its classes."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        targets = getattr(node, "targets", [getattr(node, "target", None)])
        if any(getattr(t, "id", None) == "__all__" for t in targets) and node.value is not None:
            names |= {
                e.value for e in getattr(node.value, "elts", []) if isinstance(e, ast.Constant)
            }
    found: list[ast.FunctionDef] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            found.append(node)
        elif isinstance(node, ast.ClassDef) and node.name in names:
            if any(getattr(base, "id", "") == "Protocol" for base in node.bases):
                continue  # an interface: its methods are documented as a contract
            found += [
                item
                for item in node.body
                if isinstance(item, ast.FunctionDef)
                and not item.name.startswith("_")
                and not any(getattr(d, "id", "") == "property" for d in item.decorator_list)
            ]
    return found


def test_public_functions_say_what_they_take_and_give() -> None:
    """Numpydoc ``Parameters`` and ``Returns`` on the public functions of every package
    (``geo`` and ``api``; a route's query parameters are documented in OpenAPI instead)."""
    missing = []
    for path in [*sorted(GEO.rglob("*.py")), *sorted(ROOT.joinpath("api").rglob("*.py"))]:
        for function in _public_functions(path):
            doc = ast.get_docstring(function) or ""
            args = [a.arg for a in [*function.args.posonlyargs, *function.args.args,
                                    *function.args.kwonlyargs] if a.arg not in ("self", "cls")]  # fmt: skip
            returns = function.returns is not None and ast.unparse(function.returns) != "None"
            where = f"{path.relative_to(ROOT)}::{function.name}"
            if args and "Parameters\n" not in doc:
                missing.append(f"{where}: no Parameters")
            if returns and "Returns\n" not in doc and "Yields\n" not in doc:
                missing.append(f"{where}: no Returns")
    assert not missing, f"{len(missing)} gaps:\n" + "\n".join(missing)
