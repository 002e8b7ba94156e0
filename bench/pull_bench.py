"""Verification when nothing changed: `mlops-actions pull` against `dvc pull` on a workspace
that already holds the tracked data, at 1.5 GB in one file and at 10,000 small files.

Both sides have run once (the warm-up, which fills DVC's state database and our stat memo); then
the timed runs alternate. Our pull checks every file's md5 itself; with the memo an unchanged
file is recognised by its stat, as DVC's state database does.

    .venv/bin/python -m bench.pull_bench [--runs 5] [--big-mb 1536] [--small 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Result, Row, command, fmt_seconds, git, measure, summarize

AIM = 1.2  # at most this many times dvc pull's time


def _project(base: Path, write: Any) -> Path:
    repo = base / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo / "data")
    for path in (repo / "data").rglob("*"):
        past = time.time() - 3600  # as a checkout from an earlier step would be
        os.utime(path, (past, past))
    (repo / "params.yaml").write_text(
        "mlops:\n  data: {path: data, target: y}\n  model: {name: bench}\n"
    )
    measure([*command("dvc"), "init", "-q"], repo)
    measure([*command("dvc"), "remote", "add", "-d", "local", str(base / "remote")], repo)
    measure([*command("dvc"), "add", "-q", "data"], repo)
    measure([*command("dvc"), "push", "-q"], repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    return repo


def _one_big(mb: int) -> Any:
    def write(directory: Path) -> None:
        directory.mkdir()
        block = os.urandom(1 << 20)
        with open(directory / "big.bin", "wb") as f:
            for _ in range(mb):
                f.write(block)

    return write


def _many_small(n: int) -> Any:
    def write(directory: Path) -> None:
        for i in range(n):
            sub = directory / f"{i // 1000:02d}"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"{i}.txt").write_text(f"row {i}\n" * 8)

    return write


def _row(name: str, write: Any, runs: int, log: Any) -> tuple[Row, dict[str, float]]:
    ours, peer = [*command("mlops-actions"), "pull"], [*command("dvc"), "pull"]
    with tempfile.TemporaryDirectory(prefix="pull-bench-") as tmp:
        repo = _project(Path(tmp), write)
        measure(ours, repo)
        measure(peer, repo)
        mine, dvc = [], []
        for _ in range(runs):
            mine.append(measure(ours, repo))
            dvc.append(measure(peer, repo))
    m, d = summarize(mine), summarize(dvc)
    ratio = m.seconds / d.seconds
    log(f"  pull, {name}, nothing changed: ours {m.seconds:.3f} s, dvc {d.seconds:.3f} s")
    row = Row(
        f"`pull`, nothing changed, {name}",
        fmt_seconds(m.seconds),
        fmt_seconds(d.seconds),
        f"{ratio:.2f}× dvc's time",
        f"≤ {AIM}× `dvc pull`",
        ratio <= AIM,
        f"median of {runs}; every file verified (stat memo)",
    )
    return row, {"ours": m.seconds, "dvc": d.seconds}


def run(runs: int, big_mb: int = 1536, small: int = 10_000, log: Any = print) -> Result:
    result = Result()
    for name, write in (
        (f"{big_mb / 1024:.1f} GB in one file", _one_big(big_mb)),
        (f"{small:,} small files", _many_small(small)),
    ):
        row, series = _row(name, write, runs, log)
        result.rows.append(row)
        result.series[f"pull {name}"] = series
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-mb", type=int, default=1536)
    parser.add_argument("--small", type=int, default=10_000)
    args = parser.parse_args()
    for row in run(args.runs, args.big_mb, args.small).rows:
        print(row)


if __name__ == "__main__":
    main()
