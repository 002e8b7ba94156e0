"""Listing experiments: `mlops-actions runs --json --local` against `dvc exp show -A --json`
on a DVC project with 1,000 experiments (and ours alone at 10,000), checking both give every
experiment the same params and metrics; and the time recording adds to a run.

The experiments are made with `git fast-import` (each a commit on the baseline with its own
params.yaml, metrics.json and dvc.lock, at refs/exps/<B[:2]>/<B[2:]>/<name>, as `dvc exp run`
makes them).

    .venv/bin/python -m bench.runs_bench [--sizes 1000,10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import BIN, ENV, Result, Row, command, faster, fmt_seconds, git, measure

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    metrics:
    - metrics.json:
        cache: false
"""


def _params(i: int) -> str:
    return f"train:\n  n_est: {10 + i}\n  max_depth: {2 + i % 9}\n  seed: 7\n"


def _metrics(i: int) -> str:
    f1 = 0.8 + (i * 7919 % 1000) / 5000
    return json.dumps({"f1": round(f1, 6), "loss": round(1 - f1, 6), "rows": {"test": 143}})


TRAIN_PY = "print('trained')\n"


def _lock(i: int) -> str:
    """dvc.lock as `dvc exp run` leaves it: the stage's deps, params and outs with their md5."""

    def entry(path: str, text: str) -> str:
        md5 = hashlib.md5(text.encode()).hexdigest()
        return f"    - path: {path}\n      hash: md5\n      md5: {md5}\n      size: {len(text)}\n"

    keys = sorted(line.strip() for line in _params(i).splitlines()[1:])  # dvc.lock sorts them
    params = "".join(f"          {key}\n" for key in keys)
    return (
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    deps:\n"
        + entry("train.py", TRAIN_PY)
        + "    params:\n      params.yaml:\n        train:\n"
        + params
        + "    outs:\n"
        + entry("metrics.json", _metrics(i))
    )


def build(repo: Path, n: int) -> str:
    """A DVC project with `n` experiments on its one commit; the baseline sha."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    subprocess.run([str(BIN / "python"), "-m", "dvc", "init", "-q"], cwd=repo, check=True, env=ENV)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "train.py").write_text(TRAIN_PY)
    (repo / "params.yaml").write_text(_params(0))
    (repo / "metrics.json").write_text(_metrics(0))
    (repo / "dvc.lock").write_text(_lock(0))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "baseline")
    base = git(repo, "rev-parse", "HEAD").strip()
    chunks = []
    for i in range(1, n + 1):
        files = {"params.yaml": _params(i), "metrics.json": _metrics(i), "dvc.lock": _lock(i)}
        msg = f"dvc: commit experiment {i}"
        lines = [
            f"commit refs/exps/{base[:2]}/{base[2:]}/exp-{i:05d}",
            f"committer Bench <bench@example.invalid> {1_700_000_000 + i} +0000",
            f"data {len(msg)}",
            msg,
            f"from {base}",
        ]
        for path, text in files.items():
            data = text.encode()
            lines += [f"M 100644 inline {path}", f"data {len(data)}", text]
        chunks.append("\n".join(lines) + "\n")
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=repo,
        input="".join(chunks).encode(),
        check=True,
        env=ENV,
    )
    return base


@dataclass(frozen=True)
class Listed:
    seconds: float
    cpu: float  # user + system seconds, git's included
    values: dict[str, Any]  # name -> {"params": ..., "metrics": ...}


def ours(repo: Path) -> Listed:
    sample = measure([*command("mlops-actions"), "runs", "--json", "--local"], repo)
    rows = json.loads(sample.stdout)
    values = {r["name"]: {"params": r["params"], "metrics": r["metrics"]} for r in rows}
    return Listed(sample.seconds, sample.cpu, values)


def theirs(repo: Path) -> Listed:
    sample = measure([*command("dvc"), "exp", "show", "-A", "--json"], repo)
    shown = json.loads(sample.stdout)
    values = {
        rev["name"]: {"params": rev["data"]["params"], "metrics": rev["data"]["metrics"]}
        for commit in shown
        for exp in commit.get("experiments") or []
        for rev in exp["revs"]
    }
    return Listed(sample.seconds, sample.cpu, values)


AIM = 50.0


def _uncached(repo: Path) -> Listed:
    """A first listing: without the per-commit cache `runs` keeps in .git/mlops."""
    shutil.rmtree(repo / ".git" / "mlops", ignore_errors=True)
    return ours(repo)


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _compared(n: int, runs: int, log: Any) -> tuple[list[Row], float, float]:
    tmp = Path(tempfile.mkdtemp(prefix="runs-bench-"))
    try:
        repo = tmp / "repo"
        started = time.monotonic()
        build(repo, n)
        log(f"  runs: {n} experiments built in {time.monotonic() - started:.1f} s (fast-import)")
        load = _load()
        dvc = theirs(repo)  # one run: dvc takes over a minute here
        _uncached(repo)  # warm-up (bytecode)
        cold = [_uncached(repo) for _ in range(runs)]
        warm = [ours(repo) for _ in range(runs)]
        load = f"{load}–{_load()}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    for label, samples in (("first listing", cold), ("repeated (per-commit cache)", warm)):
        mine = statistics.median(s.seconds for s in samples)
        cpu = statistics.median(s.cpu for s in samples)
        same = all(s.values == dvc.values for s in samples) and len(dvc.values) == n
        log(
            f"  runs --json at {n:,}, {label}: mlops-actions {mine * 1000:.0f} ms "
            f"({cpu:.2f} s CPU), dvc exp show -A {dvc.seconds:.1f} s ({dvc.cpu:.1f} s CPU; "
            f"{dvc.seconds / mine:.0f}×), same values: {same}; load average {load}"
        )
        rows.append(
            Row(
                f"`runs --json`, {n:,} experiments, {label}",
                fmt_seconds(mine),
                fmt_seconds(dvc.seconds),
                faster(dvc.seconds, mine),
                f"≥ {AIM:.0f}× faster, same values",
                same and dvc.seconds / mine >= AIM,
                f"ours: median of {runs}, {cpu:.2f} s of CPU; `dvc exp show -A --json`: 1 run, "
                f"{dvc.cpu:.1f} s of CPU ({dvc.cpu / cpu:.0f}× ours); "
                f"{'same' if same else 'DIFFERENT'} params and metrics for all {n:,}; "
                f"load average {load} on {os.cpu_count()} cores",
            )
        )
    return rows, statistics.median(s.seconds for s in cold), dvc.seconds


def _alone(n: int, runs: int, log: Any) -> tuple[Row, float]:
    tmp = Path(tempfile.mkdtemp(prefix="runs-bench-"))
    try:
        repo = tmp / "repo"
        build(repo, n)
        load = _load()
        _uncached(repo)  # warm-up (bytecode)
        first = _uncached(repo)
        warm = [ours(repo) for _ in range(runs)]
        load = f"{load}–{_load()}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mine = statistics.median(s.seconds for s in warm)
    cpu = statistics.median(s.cpu for s in warm)
    log(
        f"  runs --json at {n:,}: mlops-actions {mine * 1000:.0f} ms ({cpu:.2f} s CPU); first "
        f"listing {first.seconds:.1f} s ({first.cpu:.1f} s CPU); load average {load}"
    )
    row = Row(
        f"`runs --json`, {n:,} experiments",
        fmt_seconds(mine),
        "—",
        "—",
        "under 1 s",
        mine < 1.0,
        f"median of {runs}, repeated listing (per-commit cache), {cpu:.2f} s of CPU; first "
        f"listing {fmt_seconds(first.seconds)} ({first.cpu:.1f} s of CPU); load average {load} "
        f"on {os.cpu_count()} cores; `dvc exp show -A` not run at this size",
    )
    return row, mine


def recording(runs: int, log: Any) -> Row:
    """What `--record` adds to a run: collecting the run's files and writing the experiment
    (blobs, tree, commit, ref), timed in a fresh process per run."""
    tmp = Path(tempfile.mkdtemp(prefix="runs-bench-rec-"))
    try:
        repo = tmp / "repo"
        build(repo, 0)
        script = (
            "import time, sys; from mlops_actions.config import settings as config; "
            "from mlops_actions.tracking import record; cfg = config.load('params.yaml'); "
            "t = time.perf_counter(); "
            "record.record_local(cfg, record.local_record(cfg, None)); "
            "print(time.perf_counter() - t, file=sys.stderr)"
        )
        times = []
        for _ in range(runs + 1):
            proc = subprocess.run(
                [str(BIN / "python"), "-c", script],
                cwd=repo,
                env=ENV,
                capture_output=True,
                text=True,
                check=True,
            )
            times.append(float(proc.stderr.strip().splitlines()[-1]))
        mine = statistics.median(times[1:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"  recording a run: {mine * 1000:.0f} ms")
    return Row(
        "`run --record`: time recording adds",
        fmt_seconds(mine),
        "—",
        "—",
        "under 1 s",
        mine < 1.0,
        f"median of {runs} after a warm-up: the run's files collected, blobs, tree, commit, ref",
    )


FRESH = """\
import sys, time
from mlops_actions.config import settings as config
from mlops_actions.git import head_sha
from mlops_actions.report.markdown import ReportInput, Row
from mlops_actions.tracking import record, standing
cfg = config.load("params.yaml")
data = ReportInput("m", None, [Row("f1", 0.85, 0.9)], primary="f1", head=head_sha(cfg.root))
t = time.perf_counter()
name = record.record_local(cfg, record.local_record(cfg, None))
t1 = time.perf_counter()
placed = standing.of_report(cfg.root, data, model=cfg.model.name, own={name})
assert placed is not None and placed.total == int(sys.argv[1]) + 1, placed
print(t1 - t, time.perf_counter() - t1, file=sys.stderr)
"""


def recording_fresh(n: int, runs: int, log: Any) -> Row:
    """What `run --record` adds on a fresh clone whose origin holds `n` experiments: the
    recording and the report's standing (`git ls-remote`, the fetch into refs/mlops-runs/, every
    experiment commit read once: the clone has no row cache), in a fresh process per run, each
    on its own new clone."""
    tmp = Path(tempfile.mkdtemp(prefix="runs-bench-fresh-"))
    try:
        src, origin = tmp / "src", tmp / "origin.git"
        build(src, n)
        git(tmp, "init", "-q", "--bare", "-b", "main", str(origin))
        git(src, "push", "-q", str(origin), "main", "refs/exps/*:refs/exps/*")
        load = _load()
        times = []
        for i in range(runs + 1):
            clone = tmp / f"clone-{i}"
            git(tmp, "clone", "-q", str(origin), str(clone))
            proc = subprocess.run(
                [str(BIN / "python"), "-c", FRESH, str(n)],
                cwd=clone,
                env=ENV,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"the fresh-clone run failed: {proc.stderr[-2000:]}")
            rec, stand = proc.stderr.strip().splitlines()[-1].split()
            times.append((float(rec), float(stand)))
            shutil.rmtree(clone)
        load = f"{load}–{_load()}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rec = statistics.median(r for r, _ in times[1:])
    stand = statistics.median(s for _, s in times[1:])
    both = statistics.median(r + s for r, s in times[1:])
    log(
        f"  run --record on a fresh clone, {n:,} experiments on the remote: {both * 1000:.0f} ms "
        f"(recording {rec * 1000:.0f} ms, standing {stand * 1000:.0f} ms); load average {load}"
    )
    return Row(
        f"`run --record`: recording + standing, fresh clone, {n:,} experiments on the remote",
        fmt_seconds(both),
        "—",
        "—",
        "under 1 s",
        both < 1.0,
        f"median of {runs} after a warm-up, each on a new clone: recording "
        f"{fmt_seconds(rec)}, the standing {fmt_seconds(stand)} (ls-remote, fetch of the "
        f"{n:,} refs, every experiment read once); the DVC push of outputs not included; "
        f"load average {load} on {os.cpu_count()} cores",
    )


def run(sizes: tuple[int, ...] = (1000, 10_000), runs: int = 5, log: Any = print) -> Result:
    rows, series = [], {}
    for n in sizes:
        if n <= 1000:
            compared, mine, dvc = _compared(n, runs, log)
            series[f"runs {n}"] = {"ours": mine, "dvc": dvc}
            rows += compared
        else:
            row, mine = _alone(n, runs, log)
            series[f"runs {n}"] = {"ours": mine}
            rows.append(row)
    rows.append(recording(runs, log))
    rows.append(recording_fresh(1000, runs, log))
    return Result(rows=rows, series=series)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="experiment counts")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of ours (default 5)")
    parser.add_argument(
        "--only-fresh", action="store_true", help="only the fresh-clone recording row"
    )
    args = parser.parse_args(argv)
    if args.only_fresh:
        print(recording_fresh(1000, args.runs, print))
        return 0
    result = run(tuple(int(s) for s in args.sizes.split(",")), args.runs)
    for row in result.rows:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
