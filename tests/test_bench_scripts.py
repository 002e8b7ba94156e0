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


class _Reports:
    """A stand-in for the kernel's count of reported memory, moved by a thread every `every`
    seconds, `times` times or until stopped; `last` is when it last moved."""

    def __init__(self, path: Path, times: int, every: float) -> None:
        self.path, self.last, self._stop = path, time.monotonic(), threading.Event()
        path.write_text("0")
        self._thread = threading.Thread(target=self._run, args=(times, every), daemon=True)
        self._thread.start()

    def _run(self, times: int, every: float) -> None:
        for n in range(1, times + 1):
            if self._stop.wait(every):
                return
            self.path.write_text(str(n))
            self.last = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def test_settle_memory_waits_until_the_host_stops_taking_memory_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import common

    reported = tmp_path / "reported_kib"
    monkeypatch.setattr(common, "REPORTED_KIB", reported)
    reports = _Reports(reported, times=5, every=0.1)
    settled = common.settle_memory(quiet=1.0, limit=10, poll=0.05)
    reports.stop()
    assert settled.quiet and settled.seconds < 10
    assert time.monotonic() - reports.last >= 1.0  # past the last report, a whole quiet spell

    reports = _Reports(reported, times=1000, every=0.05)
    settled = common.settle_memory(quiet=0.5, limit=1.0, poll=0.05)
    reports.stop()
    assert not settled.quiet and 1.0 <= settled.seconds < 2.0  # still moving: the limit


def test_settle_memory_returns_at_once_where_the_kernel_reports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import common

    monkeypatch.setattr(common, "REPORTED_KIB", tmp_path / "absent")
    assert common.settle_memory() == common.Settled(0.0, True)
