"""A run with nothing changed, and start-up: `mlops-actions run` on a run-cache hit against
`dvc repro` with nothing changed (same project: DVC-tracked data, a dvc.yaml whose one stage
trains), and `mlops-actions --version` against `dvc --version`.

Both sides train once (the warm-up, which fills the run cache and dvc.lock), then the timed runs
alternate. Every timed `run` must say `cache hit`, every `dvc repro` that nothing changed.

    .venv/bin/python -m bench.run_bench [--runs 7]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from bench.common import Result, Row, command, faster, fmt_seconds, git, measure, summarize

DVC_YAML = """\
stages:
  train:
    cmd: mlops-actions train --no-cache
    deps:
      - data
    params:
      - mlops.data
      - mlops.model
    outs:
      - model/model.skops
    metrics:
      - metrics.json:
          cache: false
"""
ABSOLUTE_AIM = 1.0


def build(base: Path) -> Path:
    """The test suite's demo project (breast cancer data tracked by data.dvc, a local DVC
    remote), plus a dvc.yaml so `dvc repro` has the same training to skip."""
    from tests.helpers import build_demo_repo

    repo = build_demo_repo(base)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / ".gitignore").write_text("/.mlops-cache/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "dvc pipeline")
    return repo


def run_cache(runs: int, log: Any = print) -> Result:
    ours = [*command("mlops-actions"), "run"]
    repro = [*command("dvc"), "repro"]
    with tempfile.TemporaryDirectory(prefix="run-bench-") as tmp:
        repo = build(Path(tmp))
        measure(repro, repo)  # trains and writes dvc.lock
        measure(ours, repo)  # trains and fills the run cache
        mine, dvc = [], []
        for _ in range(runs):
            mine.append(measure(ours, repo))
            dvc.append(measure(repro, repo))
    hits = all("cache hit" in s.stdout for s in mine)
    skipped = all("didn't change" in s.stdout or "is up to date" in s.stdout for s in dvc)
    m, d = summarize(mine), summarize(dvc)
    log(
        f"  run (cache hit) {m.seconds:.3f} s, dvc repro (nothing changed) {d.seconds:.3f} s "
        f"({d.seconds / m.seconds:.1f}×); every run a hit: {hits}; dvc skipped: {skipped}"
    )
    row = Row(
        "`run` on a run-cache hit",
        fmt_seconds(m.seconds),
        fmt_seconds(d.seconds),
        faster(d.seconds, m.seconds),
        f"faster; under {ABSOLUTE_AIM:.0f} s",
        hits and m.seconds < d.seconds and m.seconds < ABSOLUTE_AIM,
        f"median of {runs}; peer: `dvc repro`, nothing changed; "
        f"{'every run a cache hit' if hits else 'NOT every run a cache hit'}",
    )
    return Result(rows=[row], series={"run": {"ours": m.seconds, "dvc": d.seconds}})


def startup(runs: int, log: Any = print) -> Result:
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        cwd = Path(tmp)
        ours_cmd = [*command("mlops-actions"), "--version"]
        dvc_cmd = [*command("dvc"), "--version"]
        measure(ours_cmd, cwd)
        measure(dvc_cmd, cwd)
        mine, dvc = [], []
        for _ in range(runs):
            mine.append(measure(ours_cmd, cwd))
            dvc.append(measure(dvc_cmd, cwd))
    m, d = summarize(mine), summarize(dvc)
    log(
        f"  --version: mlops-actions {m.seconds * 1000:.0f} ms, dvc {d.seconds * 1000:.0f} ms "
        f"({d.seconds / m.seconds:.1f}×)"
    )
    row = Row(
        "`mlops-actions --version` start-up",
        fmt_seconds(m.seconds),
        fmt_seconds(d.seconds),
        faster(d.seconds, m.seconds),
        "faster",
        m.seconds < d.seconds,
        f"median of {runs}; peer: `dvc --version`; peak RSS {m.peak_mb:.0f} MB vs "
        f"{d.peak_mb:.0f} MB",
    )
    return Result(rows=[row], series={"startup": {"ours": m.seconds, "dvc": d.seconds}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    rows = run_cache(args.runs).rows + startup(args.runs * 2).rows
    return 0 if all(r.met for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
