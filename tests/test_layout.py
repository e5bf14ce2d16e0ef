"""The package's plan, checked: stages import only downward, no cycles, and ``import symconv`` stays light.

The stages, lowest first (README, "Architecture"): errors/_version ← core ← forms ← prove ← closed, receptive
← claims, check ← report ← testing ← pytest_plugin ← cli ← the package ``__init__``/``__main__``. A module may
import from its own folder and from lower stages; two folders on one level never import each other. Imports
inside functions count too (a lazy import is still a dependency). Run ``python -m pytest tests/test_layout.py``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symconv"

#: stage of each top-level module or folder of symconv; a module may import only from stages ≤ its own
STAGES: dict[str, int] = {
    "errors": 0, "_version": 0,
    "core": 1,
    "forms": 2,
    "prove": 3,
    "closed": 4, "receptive": 4,
    "claims": 5, "check": 5,
    "report": 6,
    "testing": 7,
    "pytest_plugin": 8,
    "cli": 9,
    "__init__": 10, "__main__": 10,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every symconv module that ``path`` imports, at any depth of the file, as a dotted name."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "symconv":
                continue
            for alias in node.names:  # `from . import x` may name a module
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "symconv")
    found.discard(name)
    return {m for m in found if _exists(m)}


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (imports for type checkers only)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _stage(module: str) -> tuple[str, int]:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    if top not in STAGES:
        raise AssertionError(f"{module}: its folder {top!r} has no stage in tests/test_layout.py STAGES; add it")
    return top, STAGES[top]


GRAPH = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_stage():
    for module in GRAPH:
        _stage(module)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module):
    folder, stage = _stage(module)
    for target in sorted(GRAPH[module]):
        t_folder, t_stage = _stage(target)
        if t_folder == folder:
            continue
        assert t_stage < stage or (t_stage == stage and folder in ("__init__", "__main__")), (
            f"{module} (stage {folder}={stage}) imports {target} (stage {t_folder}={t_stage}): "
            f"imports must point to lower stages"
        )


def test_no_private_names_across_folders():
    """A folder uses another folder's public names only (no ``from ..x import _private``)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                assert not private, f"{module} imports private names {private} from another folder"


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycles():
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_check_sees_a_cycle_and_an_upward_import(monkeypatch):
    """The two checks above can fail: fed a cycle and an upward arrow, they say so."""
    monkeypatch.setitem(GRAPH, "symconv.core.spec", GRAPH["symconv.core.spec"] | {"symconv.forms.direct"})
    assert _cycle() is not None
    with pytest.raises(AssertionError, match="imports must point to lower stages"):
        test_imports_point_down("symconv.core.spec")


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    return set(out.stdout.split())


def test_import_symconv_is_light():
    loaded = _loaded_after("import symconv")
    heavy = {"torch", "scipy", "jinja2", "z3", "sympy", "numpy"} & {m.split(".")[0] for m in loaded}
    assert not heavy, f"import symconv loads {sorted(heavy)}"
    stages = {m.split(".")[1] for m in loaded if m.startswith("symconv.")}
    assert not stages & {"claims", "check", "receptive", "report", "prove", "forms", "closed"}, sorted(stages)


def test_public_names_load_lazily():
    import symconv

    for name in symconv.__all__:
        assert getattr(symconv, name) is not None, name
    assert "verify_implementation" in dir(symconv)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        symconv.nope  # noqa: B018
    # the claims folder never shadows the public function audit
    import symconv.claims.catalog  # noqa: F401

    assert callable(symconv.audit) and symconv.audit.__module__ == "symconv.claims.audit"
