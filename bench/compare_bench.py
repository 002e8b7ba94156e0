"""Comparing against the base: `mlops-actions compare --json --all --base main` against
`dvc metrics diff --json --all main` followed by `dvc params diff --json --all main`.

Builds a temp DVC repo (a pipeline with two metrics files and a params file of the demo's
shape, a PR branch that changes some of each), runs both as a user would (subprocesses), checks
they print the same numbers, and prints the medians after a warm-up run.

    .venv/bin/python -m bench.compare_bench [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "DVC_NO_ANALYTICS": "1",
}
BIN = Path(sys.executable).parent
DVC_YAML = """\
stages:
  train:
    cmd: mlops-actions train
    params:
      - data
      - model
    metrics:
      - metrics.json:
          cache: false
metrics:
  - eval/scores.yaml
"""


def _params(n_estimators: int, max_depth: int, seed: int) -> str:
    return f"""\
data:
  path: data/breast_cancer.csv
  target: diagnosis
  test_size: 0.25
  seed: {seed}
model:
  name: demo-model
  estimator: sklearn.ensemble.RandomForestClassifier
  params: {{n_estimators: {n_estimators}, max_depth: {max_depth}, min_samples_leaf: 2}}
train:
  mode: builtin
  metrics: metrics.json
metrics:
  primary: f1
  higher_is_better: [accuracy, f1, roc_auc]
gates:
  - f1 >= 0.9
  - accuracy >= base.accuracy - 0.01
"""


def _metrics(shift: float) -> dict[str, Any]:
    return {
        "accuracy": 0.951 + shift,
        "f1": 0.962 + shift,
        "precision": 0.955,
        "recall": 0.97 + shift / 2,
        "roc_auc": 0.991,
        "per_class": {"benign": {"f1": 0.97 + shift}, "malignant": {"f1": 0.93}},
        "confusion_matrix": [[50, 3], [2, 88]],
        "n_test": 143,
    }


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, env=ENV, capture_output=True)


def build(repo: Path) -> None:
    """main: the pipeline and its results committed; pr: new params and results."""
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    subprocess.run([str(BIN / "python"), "-m", "dvc", "init", "-q"], cwd=repo, check=True, env=ENV)
    (repo / "eval").mkdir()
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "params.yaml").write_text(_params(100, 8, 42))
    (repo / "metrics.json").write_text(json.dumps(_metrics(0.0), indent=2))
    (repo / "eval" / "scores.yaml").write_text("loss: 0.121\nbrier: 0.043\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "baseline")
    _git(repo, "checkout", "-q", "-b", "pr")
    (repo / "params.yaml").write_text(_params(200, 10, 42))
    (repo / "metrics.json").write_text(json.dumps(_metrics(0.007), indent=2))
    (repo / "eval" / "scores.yaml").write_text("loss: 0.113\nbrier: 0.043\n")
    _git(repo, "commit", "-q", "-am", "bigger forest")


def _command(name: str) -> list[str]:
    script = BIN / name
    if script.exists():
        return [str(script)]
    module = "mlops_actions" if name == "mlops-actions" else name
    return [sys.executable, "-m", module]


def _run(cmd: list[str], repo: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=repo, env=ENV, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return seconds, proc.stdout


def ours(repo: Path) -> tuple[float, dict[str, Any]]:
    cmd = [*_command("mlops-actions"), "compare", "--json", "--all", "--base", "main"]
    seconds, out = _run(cmd, repo)
    return seconds, json.loads(out)


def theirs(repo: Path) -> tuple[float, dict[str, Any]]:
    total, result = 0.0, {}
    for kind in ("metrics", "params"):
        seconds, out = _run([*_command("dvc"), kind, "diff", "--json", "--all", "main"], repo)
        total += seconds
        result[kind] = json.loads(out)
    return total, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each (default 7)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="compare-bench-"))
    try:
        repo = tmp / "repo"
        build(repo)
        _, want = theirs(repo)  # warm-up runs, and the numbers to match
        _, got = ours(repo)
        if got != want:
            print(
                f"MISMATCH\n  dvc:           {json.dumps(want)}\n  mlops-actions: {json.dumps(got)}"
            )
            return 1
        mine = statistics.median(ours(repo)[0] for _ in range(args.runs))
        dvc = statistics.median(theirs(repo)[0] for _ in range(args.runs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"same numbers: yes ({sum(len(v) for f in want.values() for v in f.values())} keys)")
    print(
        f"mlops-actions compare --json --all        {mine * 1000:8.1f} ms (median of {args.runs})"
    )
    print(f"dvc metrics diff + dvc params diff --all  {dvc * 1000:8.1f} ms (median of {args.runs})")
    print(f"ratio: {dvc / mine:.1f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
