"""The benchmarks' own scripts (the Python they run in fresh processes, kept as strings) still
import what they name: a module moved in the package breaks `make bench` only after minutes of
measuring otherwise."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORT = re.compile(r"^\s*(from mlops_actions[\w.]* import [\w, ]+|import mlops_actions[\w.]*)\s*$")


def _script_imports() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for line in node.value.splitlines():
                    if IMPORT.match(line):
                        found.append((path.name, line.strip()))
    return found


def test_every_import_in_a_bench_script_resolves() -> None:
    imports = _script_imports()
    assert any(name == "monitor_bench.py" for name, _ in imports)  # the scripts were found
    for name, line in imports:
        try:
            exec(line, {})
        except ImportError as exc:
            raise AssertionError(f"bench/{name}: {line}: {exc}") from None
