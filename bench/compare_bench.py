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
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.common import BIN, ENV, Result, Row, command, faster, fmt_seconds, measure

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


def _dvc(repo: Path, *args: str) -> None:
    subprocess.run([str(BIN / "python"), "-m", "dvc", *args], cwd=repo, check=True, env=ENV)


def build(repo: Path, remote: Path | None = None) -> None:
    """main: the pipeline and its results committed; pr: new params and results.

    With `remote`, metrics.json is a DVC-cached output pushed to that local-directory remote
    and the local cache is dropped: the base's metrics exist only on the remote."""
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _dvc(repo, "init", "-q")
    (repo / "eval").mkdir()
    dvc_yaml = DVC_YAML.replace("cache: false", "cache: true") if remote else DVC_YAML
    (repo / "dvc.yaml").write_text(dvc_yaml)
    (repo / "params.yaml").write_text(_params(100, 8, 42))
    (repo / "metrics.json").write_text(json.dumps(_metrics(0.0), indent=2))
    (repo / "eval" / "scores.yaml").write_text("loss: 0.121\nbrier: 0.043\n")
    if remote:
        _dvc(repo, "commit", "-f", "-q")
        _dvc(repo, "remote", "add", "-d", "store", str(remote))
        _dvc(repo, "push", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "baseline")
    _git(repo, "checkout", "-q", "-b", "pr")
    (repo / "params.yaml").write_text(_params(200, 10, 42))
    (repo / "metrics.json").write_text(json.dumps(_metrics(0.007), indent=2))
    (repo / "eval" / "scores.yaml").write_text("loss: 0.113\nbrier: 0.043\n")
    if remote:
        _dvc(repo, "commit", "-f", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "bigger forest")
    if remote:
        shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)


def _run(cmd: list[str], repo: Path) -> tuple[float, str]:
    sample = measure(cmd, repo)
    return sample.seconds, sample.stdout


def ours(repo: Path) -> tuple[float, dict[str, Any]]:
    cmd = [*command("mlops-actions"), "compare", "--json", "--all", "--base", "main"]
    seconds, out = _run(cmd, repo)
    return seconds, json.loads(out)


def theirs(repo: Path) -> tuple[float, dict[str, Any]]:
    total, result = 0.0, {}
    for kind in ("metrics", "params"):
        seconds, out = _run([*command("dvc"), kind, "diff", "--json", "--all", "main"], repo)
        total += seconds
        result[kind] = json.loads(out)
    return total, result


AIM = 3.0
AIM_REMOTE = 1.0  # reading the base from the DVC remote: not slower than dvc


def _row(remote: bool, runs: int, log: Any) -> tuple[Row, float, float]:
    tmp = Path(tempfile.mkdtemp(prefix="compare-bench-"))
    try:
        repo = tmp / "repo"
        build(repo, tmp / "remote" if remote else None)

        def fresh() -> None:  # each run reads the base from the remote, not a warm cache
            if remote:
                shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)

        fresh()
        _, want = theirs(repo)  # warm-up runs, and the numbers to match
        fresh()
        _, got = ours(repo)
        same = got == want
        if not same:
            log(
                f"MISMATCH\n  dvc:           {json.dumps(want)}\n  mlops-actions: {json.dumps(got)}"
            )
        mine_times, dvc_times = [], []
        for _ in range(runs):  # interleaved, so drift in the machine's load hits both alike
            fresh()
            mine_times.append(ours(repo)[0])
            fresh()
            dvc_times.append(theirs(repo)[0])
        mine, dvc = statistics.median(mine_times), statistics.median(dvc_times)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    keys = sum(len(v) for f in want.values() for v in f.values())
    where = "base on a DVC remote" if remote else "git-tracked"
    log(
        f"  compare ({where}): mlops-actions {mine * 1000:.0f} ms, dvc metrics+params diff "
        f"{dvc * 1000:.0f} ms ({dvc / mine:.1f}×), same numbers: {same} ({keys} keys)"
    )
    aim = AIM_REMOTE if remote else AIM
    title = "`compare --json --all` (metrics + params)"
    row = Row(
        f"{title}, base metrics on a DVC remote" if remote else title,
        fmt_seconds(mine),
        fmt_seconds(dvc),
        faster(dvc, mine),
        f"≥ {aim:.0f}× faster, same numbers" if not remote else "not slower, same numbers",
        same and dvc / mine >= aim,
        f"median of {runs}; {'same' if same else 'DIFFERENT'} numbers ({keys} keys)",
    )
    return row, mine, dvc


def run(runs: int = 7, log: Any = print) -> Result:
    """Medians after one warm-up of each; a mismatch of the numbers fails the row. Two rows:
    git-tracked metrics, and base metrics that only the DVC remote holds."""
    row, mine, dvc = _row(False, runs, log)
    remote_row, remote_mine, remote_dvc = _row(True, runs, log)
    series = {"compare": {"ours": mine, "dvc": dvc}}
    series["compare (remote)"] = {"ours": remote_mine, "dvc": remote_dvc}
    return Result(rows=[row, remote_row], series=series)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each (default 7)")
    args = parser.parse_args(argv)
    result = run(args.runs)
    return 0 if all(r.met for r in result.rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
