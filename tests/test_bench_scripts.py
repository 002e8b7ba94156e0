"""The benchmarks' own scripts (the Python they run in fresh processes, kept as strings) still
import what they name: a module moved in the package breaks `make bench` only after minutes of
measuring otherwise."""

from __future__ import annotations

import ast
import re
import threading
import time
from pathlib import Path

import pytest

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


def _count_moving(path: Path, times: int, every: float) -> threading.Thread:
    def bump() -> None:
        for n in range(1, times + 1):
            time.sleep(every)
            path.write_text(str(n))

    thread = threading.Thread(target=bump, daemon=True)
    thread.start()
    return thread


def test_settle_memory_waits_until_the_host_stops_taking_memory_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import common

    reported = tmp_path / "reported_kib"
    reported.write_text("0")
    monkeypatch.setattr(common, "REPORTED_KIB", reported)
    thread = _count_moving(reported, times=3, every=0.3)
    waited = common.settle_memory(quiet=0.5, limit=10)
    thread.join()
    assert 0.9 + 0.5 <= waited < 5  # through the last report and a quiet spell, not to the limit
    thread = _count_moving(reported, times=15, every=0.1)
    waited = common.settle_memory(quiet=2.0, limit=0.5)
    thread.join()
    assert 0.5 <= waited < 1.5  # the count still moving: the limit ends the wait


def test_settle_memory_returns_at_once_where_the_kernel_reports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import common

    monkeypatch.setattr(common, "REPORTED_KIB", tmp_path / "absent")
    assert common.settle_memory() == 0.0
