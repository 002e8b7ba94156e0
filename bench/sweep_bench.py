"""Sweeps: planning a wave from 1,000 recorded trials, and whole sweeps on the demo project.

- `sweep plan --json` in a repository holding 1,000 trials of one TPE sweep as DVC experiment
  refs (written with `git fast-import`): the whole command, Optuna's import and the study's
  replay included. Aim: under 2 s.
- `sweep run --jobs 2` of a 2×2 grid and of a 6-trial TPE sweep on the test suite's demo project
  (breast cancer data in data.dvc), against the peer: the same configs trained one by one with
  `mlops-actions train --no-cache`. Aim: the sweep's best trial is the best of the one-by-one
  runs (same value, same params).

    .venv/bin/python -m bench.sweep_bench [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.common import ENV, Result, Row, command, fmt_seconds, git, measure, median_of

DEPTH = "mlops.model.params.max_depth"
TREES = "mlops.model.params.n_estimators"
PLAN_SWEEP: dict[str, Any] = {
    "sampler": "tpe",
    "trials": 1100,
    "parallel": 8,
    "params": {
        "train.lr": {"low": 1e-4, "high": 1.0, "log": True},
        "train.depth": {"low": 2, "high": 12},
        "train.kind": ["gini", "entropy", "log_loss"],
    },
}


def _recorded_repo(base: Path, trials: int) -> Path:
    """A repository whose HEAD declares PLAN_SWEEP and holds `trials` recorded trials of it."""
    from mlops_actions.config import settings
    from mlops_actions.config import sweep as spec
    from mlops_actions.sweep.journal import RECORD
    from mlops_actions.tracking.runrecord import RunRecord, SweepTrial
    from mlops_actions.tracking.runrecord import ref as exp_ref

    repo = base / "planned"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    params = {
        "train": {"lr": 0.1, "depth": 4, "kind": "gini"},
        "mlops": {
            "train": {"mode": "command", "command": "python train.py"},
            "metrics": {"primary": "f1"},
            "sweep": PLAN_SWEEP,
        },
    }
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a sweep")
    head = git(repo, "rev-parse", "HEAD").strip()
    sweep_id = spec.from_config(settings.load(repo / "params.yaml")).id
    rng = random.Random(0)
    chunks: list[bytes] = []
    for n in range(trials):
        values = {
            "train.lr": 10 ** rng.uniform(-4, 0),
            "train.depth": rng.randint(2, 12),
            "train.kind": rng.choice(["gini", "entropy", "log_loss"]),
        }
        failed = n % 50 == 49
        record = RunRecord(
            event="workflow_dispatch",
            status="failed" if failed else "ok",
            sweep=SweepTrial(id=sweep_id, trial=n, params=values, metric="f1"),
        ).encode()
        metrics = json.dumps({"f1": rng.random()}).encode()
        ref = exp_ref(head, f"sweep-{sweep_id}-{n}-{n:06x}")
        chunks.append(
            f"commit {ref}\ncommitter Bench <bench@example.invalid> 1700000000 +0000\n"
            f"data 5\ntrial\nfrom {head}\n".encode()
            + f"M 100644 inline {RECORD}\ndata {len(record)}\n".encode()
            + record
            + f"\nM 100644 inline metrics.json\ndata {len(metrics)}\n".encode()
            + metrics
            + b"\n\n"
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(chunks), env=ENV, check=True
    )
    return repo


def plan(runs: int, trials: int = 1000, log: Callable[[str], None] = print) -> Row:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        repo = _recorded_repo(Path(tmp), trials)
        cmd = [*command("mlops-actions"), "sweep", "plan", "--json"]
        stats = median_of(lambda: measure(cmd, repo), runs)
        wave = json.loads(stats.stdout)["include"]
        log(f"sweep plan, {trials} recorded trials: {fmt_seconds(stats.seconds)}")
        numbers = [t["trial"] for t in wave]
        ok = stats.seconds < 2.0 and numbers == list(range(trials, trials + 8))
        return Row(
            f"`sweep plan`, {trials:,} recorded trials (TPE)",
            fmt_seconds(stats.seconds),
            "—",
            "—",
            "under 2 s",
            ok,
            f"median of {stats.runs}, whole command; a wave of {len(wave)} trials planned "
            f"(numbers {numbers[0]}–{numbers[-1]}); CPU {fmt_seconds(stats.cpu)}, of it the "
            f"study's replay and the asks ~0.3 s, Optuna's import ~0.25 s; peak RSS "
            f"{stats.peak_mb:.0f} MB",
        )


def _demo(base: Path, sweep: dict[str, Any]) -> Path:
    from tests.helpers import build_demo_repo, gated_params

    repo = build_demo_repo(base)
    params = gated_params()
    params["sweep"] = sweep
    (repo / "params.yaml").write_text(yaml.safe_dump({"mlops": params}, sort_keys=False))
    git(repo, "commit", "-q", "-am", "a sweep")
    return repo


def _one_by_one(repo: Path, trials: list[dict[str, Any]]) -> tuple[float, list[float]]:
    """Train each trial's config alone with `train --no-cache`: total seconds, f1 per trial."""
    text = (repo / "params.yaml").read_text()
    seconds, values = 0.0, []
    try:
        for t in trials:
            params = yaml.safe_load(text)
            model = params["mlops"]["model"]["params"]
            model["max_depth"], model["n_estimators"] = t["params"][DEPTH], t["params"][TREES]
            (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            sample = measure([*command("mlops-actions"), "train", "--no-cache"], repo)
            seconds += sample.seconds
            values.append(json.loads((repo / "metrics.json").read_text())["f1"])
    finally:
        (repo / "params.yaml").write_text(text)
    return seconds, values


def whole(name: str, sweep: dict[str, Any], log: Callable[[str], None] = print) -> Row:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        repo = _demo(Path(tmp), sweep)
        ran = measure([*command("mlops-actions"), "sweep", "run", "--jobs", "2", "--json"], repo)
        result = json.loads(ran.stdout)
        trials = result["trials"]
        alone_seconds, alone = _one_by_one(repo, trials)
        best_alone = max(alone)
        best = result["best"]
        same_values = all(t["value"] == v for t, v in zip(trials, alone, strict=True))
        ok = best["value"] == best_alone and same_values
        log(f"{name}: sweep {fmt_seconds(ran.seconds)}, one by one {fmt_seconds(alone_seconds)}")
        return Row(
            f"`sweep run --jobs 2`, {name}, demo project",
            fmt_seconds(ran.seconds),
            fmt_seconds(alone_seconds),
            f"{alone_seconds / ran.seconds:.2f}× the one-by-one time" if ran.seconds else "—",
            "best = best of the same configs trained one by one",
            ok,
            f"1 run each; {len(trials)} trials; best f1 {best['value']:.4f} (trial "
            f"{best['trial']}), one by one {best_alone:.4f}; every trial's f1 "
            + ("equal to its one-by-one run" if same_values else "NOT equal to its run alone")
            + "; peer: `train --no-cache` per config, in sequence",
        )


def overhead(log: Callable[[str], None] = print) -> Row:
    """`sweep trial` against `train --no-cache` of the same config: the copy of the workspace,
    the params set and the experiment recorded. Each side trains three configs not trained
    before (a trial restores a config trained before from the run cache)."""
    space = {DEPTH: [2, 3, 4, 5, 6, 7], TREES: [10]}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        repo = _demo(Path(tmp), {"sampler": "grid", "params": space})
        trial_s, train_s = [], []
        for depth in (3, 4, 5):
            values = json.dumps({DEPTH: depth, TREES: 10})
            cmd = [*command("mlops-actions"), "sweep", "trial", "--trial", "0", "--params", values]
            trial_s.append(measure(cmd, repo).seconds)
            seconds, _ = _one_by_one(repo, [{"params": {DEPTH: depth, TREES: 10}}])
            train_s.append(seconds)
        ours, peer = statistics.median(trial_s), statistics.median(train_s)
        log(f"sweep trial {fmt_seconds(ours)}, train {fmt_seconds(peer)}")
        return Row(
            "`sweep trial` overhead beyond its training, demo project",
            fmt_seconds(ours - peer),
            "—",
            "—",
            "under 2 s",
            ours - peer < 2.0,
            f"median of 3 configs: `sweep trial` {fmt_seconds(ours)} against `train --no-cache` "
            f"{fmt_seconds(peer)} of the same config (the copy of the workspace, the params "
            "set, the experiment recorded); a warm install is not included",
        )


def run(runs: int = 5, log: Callable[[str], None] = print) -> Result:
    grid = {"sampler": "grid", "parallel": 2, "params": {DEPTH: [2, 4], TREES: [10, 20]}}
    tpe = {
        "sampler": "tpe",
        "trials": 6,
        "parallel": 3,
        "seed": 1,
        "params": {DEPTH: {"low": 2, "high": 8}, TREES: {"low": 5, "high": 40}},
    }
    rows = [
        plan(runs, log=log),
        overhead(log),
        whole("2×2 grid", grid, log),
        whole("6-trial TPE", tpe, log),
    ]
    return Result(rows=rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for row in run(args.runs).rows:
        print(row)


if __name__ == "__main__":
    main()
