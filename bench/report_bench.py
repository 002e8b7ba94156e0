"""The report with 1,000 metrics: `mlops-actions report --base main -o report.md` on a project
whose metrics file holds 1,000 metrics (nested, as per-class and per-slice scores are), all
changed on the PR branch. The aim has no peer: under 0.5 s, and the comment as it would be posted
(`report.fit`, GitHub's 65,536-character limit) within the limit.

    .venv/bin/python -m bench.report_bench [--metrics 1000] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.common import Result, Row, command, fmt_seconds, git, measure, median_of

AIM = 0.5


def _metrics(n: int, shift: float) -> dict[str, Any]:
    """`n` metrics: 10 headline scores, the rest per slice (slice_000.f1, …)."""
    headline = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc")
    result: dict[str, Any] = {
        name: round(0.9 + shift + i / 1000, 4) for i, name in enumerate(headline)
    }
    result.update(log_loss=round(0.2 - shift, 4), rows={"train": 4268, "test": 1423})
    slices: dict[str, dict[str, float]] = {}
    names = ("f1", "precision", "recall", "support_share", "auc")
    for i in range(n - len(result) - 1):
        group = slices.setdefault(f"slice_{i // len(names):03d}", {})
        group[names[i % len(names)]] = round(0.5 + ((i * 37) % 400) / 1000 + shift, 4)
    result["slices"] = slices
    return result


def build(repo: Path, n: int) -> None:
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    params = {
        "data": {"path": "data/table.csv", "target": "label"},
        "model": {"name": "bench-model", "estimator": "sklearn.linear_model.LogisticRegression"},
        "train": {"mode": "builtin", "metrics": "metrics.json"},
        "metrics": {"primary": "f1"},
    }
    (repo / "params.yaml").write_text(yaml.safe_dump({"mlops": params}, sort_keys=False))
    (repo / "metrics.json").write_text(json.dumps(_metrics(n, 0.0), indent=2))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "baseline")
    git(repo, "checkout", "-q", "-b", "pr")
    params["model"]["params"] = {"C": 0.5}
    (repo / "params.yaml").write_text(yaml.safe_dump({"mlops": params}, sort_keys=False))
    (repo / "metrics.json").write_text(json.dumps(_metrics(n, 0.003), indent=2))
    git(repo, "commit", "-q", "-am", "less regularization")


def _count(metrics: dict[str, Any]) -> int:
    return sum(_count(v) if isinstance(v, dict) else 1 for v in metrics.values())


def run(n: int = 1000, runs: int = 7, log: Any = print) -> Result:
    from mlops_actions.report import markdown

    cmd = [*command("mlops-actions"), "report", "--base", "main", "-o", "report.md"]
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        repo = Path(tmp) / "repo"
        build(repo, n)
        count = _count(json.loads((repo / "metrics.json").read_text()))
        stats = median_of(lambda: measure(cmd, repo), runs)
        body = (repo / "report.md").read_text(encoding="utf-8")
    started = time.perf_counter()
    posted = markdown.fit(body, markdown.COMMENT_LIMIT, summary_url="https://example.invalid/run")
    fit_ms = (time.perf_counter() - started) * 1000
    rows_shown = posted.count("\n| ")
    within = len(posted) <= markdown.COMMENT_LIMIT
    log(
        f"  report, {count} metrics: {stats.seconds * 1000:.0f} ms; full body {len(body):,} "
        f"chars, as posted {len(posted):,} chars (limit {markdown.COMMENT_LIMIT:,}); "
        f"fit took {fit_ms:.1f} ms"
    )
    row = Row(
        f"`report` with {count:,} metrics",
        fmt_seconds(stats.seconds),
        "—",
        "—",
        f"under {AIM} s; comment ≤ {markdown.COMMENT_LIMIT:,} chars",
        stats.seconds < AIM and within,
        f"median of {runs}, whole command incl. the git reads; full report {len(body):,} chars, "
        f"posted comment {len(posted):,} chars (~{rows_shown} table rows; cut notice links the "
        "job summary)"
        if len(posted) < len(body)
        else f"median of {runs}; report {len(body):,} chars, posted whole",
    )
    return Result(rows=[row], series={"report": {"seconds": stats.seconds, "chars": len(posted)}})


PLOTS_AIM = 1.0


def _trained_project(repo: Path, test_rows: int) -> None:
    """A built-in project trained twice by `mlops-actions train`: on main (its metrics and plot
    files committed) and on the PR branch with another C, whose model card records the plot
    files this run wrote. `test_rows` rows in the test split of each run."""
    import yaml

    from bench import train_bench

    rows = round(test_rows / train_bench.TEST_SIZE)
    train_bench.build(repo, rows, "parquet")
    train = [*command("mlops-actions"), "train", "--no-cache"]
    measure(train, repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "trained at the base")
    git(repo, "checkout", "-q", "-b", "pr")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["mlops"]["model"]["params"]["C"] = 0.01
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    measure(train, repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "stronger regularization")


def run_plots(test_rows: int = 100_000, runs: int = 5, log: Any = print) -> Result:
    """`mlops-actions report --base main` on a built-in project trained at the base and on the
    PR branch with `test_rows` test rows: the ROC, precision-recall and confusion files `train`
    wrote, read at both sides and drawn."""
    from mlops_actions.report.plots import BUILTIN_FILES

    cmd = [*command("mlops-actions"), "report", "--base", "main", "-o", "report.md"]
    with tempfile.TemporaryDirectory(prefix="report-plots-bench-") as tmp:
        repo = Path(tmp) / "repo"
        _trained_project(repo, test_rows)
        files = {name: repo / path for name, path in BUILTIN_FILES.items()}
        size = sum(p.stat().st_size for p in files.values())
        points = {
            name: len(next(iter(json.loads(files[name].read_text()).values())))
            for name in ("roc", "precision_recall")
        }
        confusion_rows = len(json.loads(files["confusion_matrix"].read_text()))
        stats = median_of(lambda: measure(cmd, repo), runs)
        body = (repo / "report.md").read_text(encoding="utf-8")
    # the closed Plots section only (not the metric tables above it)
    section = body.partition("<details><summary>Plots</summary>")[2].partition("</details>")[0]
    charts = section.count("```mermaid")
    tables = section.count("actual \\ predicted")
    log(
        f"  report with plots, {test_rows:,} test rows: {stats.seconds * 1000:.0f} ms "
        f"(CPU {stats.cpu * 1000:.0f} ms); "
        f"{charts} charts, {tables} tables, {len(body):,} chars; curve points {points}, "
        f"{confusion_rows:,} confusion rows"
    )
    row = Row(
        f"`report` with the built-in plots at {test_rows:,} test rows",
        fmt_seconds(stats.seconds),
        "—",
        "—",
        f"under {PLOTS_AIM:g} s",
        stats.seconds < PLOTS_AIM and charts == 2 and tables == 2,
        f"median of {runs}, whole command (CPU {fmt_seconds(stats.cpu)}, git's included); "
        f"the plot files `train` wrote at the base and on "
        f"the PR branch ({size / 2**20:.1f} MB a side: ROC {points['roc']:,} and "
        f"precision-recall {points['precision_recall']:,} points, {confusion_rows:,} "
        f"confusion rows), {charts} charts and {tables} confusion tables drawn, report "
        f"{len(body):,} chars",
    )
    return Result(rows=[row], series={"report plots": {"seconds": stats.seconds}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plot-rows", type=int, default=100_000, help="test rows")
    args = parser.parse_args(argv)
    rows = [*run(args.metrics, args.runs).rows, *run_plots(args.plot_rows, args.runs).rows]
    return 0 if all(r.met for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
