"""The package's shape, checked: no import cycles (imports inside functions count)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mlops_actions"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def import_graph() -> dict[str, set[str]]:
    """Module -> the first-party modules it imports anywhere (functions included), except
    under `if TYPE_CHECKING:`."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {
            child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)
        }
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            if _under_type_checking(node, parents):
                continue
            for target in names:
                found = resolve(target) if target.split(".")[0] == PACKAGE.name else None
                if found and found != name:
                    targets.add(found)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected sets of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle_hidden_inside_a_function() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("mlops_actions.flow.steps", "mlops_actions.flow.pipeline"),
        ("mlops_actions.flow.steps", "mlops_actions.flow.gating"),
        ("mlops_actions.flow.gating", "mlops_actions.flow.pipeline"),
        ("mlops_actions.flow.gating", "mlops_actions.flow.reporting"),
        ("mlops_actions.flow.reporting", "mlops_actions.flow.pipeline"),
        ("mlops_actions.flow.retrain", "mlops_actions.flow.pipeline"),
        ("mlops_actions.flow.pipeline", "mlops_actions.commands.gate"),
    ],
)
def test_layers_point_down(module: str, forbidden: str) -> None:
    assert forbidden not in import_graph()[module]


def test_only_the_run_command_imports_the_pipeline() -> None:
    importers = {
        m for m, targets in import_graph().items() if "mlops_actions.flow.pipeline" in targets
    }
    assert importers == {"mlops_actions.commands.run"}


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_every_training_mode_has_a_trainer_and_no_more() -> None:
    """config names the modes (so it never imports the trainers); training.TRAINERS holds one
    trainer for each of them."""
    from mlops_actions.config.modes import NEEDS
    from mlops_actions.config.settings import MODES
    from mlops_actions.training import TRAINERS

    assert list(TRAINERS) == list(MODES)
    assert list(NEEDS) == list(MODES)


def test_config_never_imports_a_trainer() -> None:
    graph = import_graph()
    reached = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("mlops_actions.config")
        for target in targets
        if target.startswith("mlops_actions.training")
    }
    assert reached == set()


def _mode_comparisons(tree: ast.AST) -> list[int]:
    """Lines comparing a `mode` with a mode name, e.g. `cfg.train.mode == "dvc"`."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        named = any(ast.unparse(side).split(".")[-1] == "mode" for side in sides)
        literal = any(
            isinstance(side, ast.Constant) and isinstance(side.value, str) for side in sides
        )
        if named and literal:
            found.append(node.lineno)
    return found


def test_what_differs_by_mode_is_asked_of_the_trainer() -> None:
    """Outside training/, nothing compares a mode with a mode name: the trainer answers."""
    found = {
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if "training" not in path.relative_to(PACKAGE).parts
        for line in _mode_comparisons(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert found == set()


def test_the_mode_finder_finds_a_branch() -> None:
    code = 'if cfg.train.mode != "builtin" or "dvc" == mode:\n    pass\n'
    assert _mode_comparisons(ast.parse(code)) == [1, 1]
