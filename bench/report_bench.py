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
    from mlops_actions import report

    cmd = [*command("mlops-actions"), "report", "--base", "main", "-o", "report.md"]
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        repo = Path(tmp) / "repo"
        build(repo, n)
        count = _count(json.loads((repo / "metrics.json").read_text()))
        stats = median_of(lambda: measure(cmd, repo), runs)
        body = (repo / "report.md").read_text(encoding="utf-8")
    started = time.perf_counter()
    posted = report.fit(body, report.COMMENT_LIMIT, summary_url="https://example.invalid/run")
    fit_ms = (time.perf_counter() - started) * 1000
    rows_shown = posted.count("\n| ")
    within = len(posted) <= report.COMMENT_LIMIT
    log(
        f"  report, {count} metrics: {stats.seconds * 1000:.0f} ms; full body {len(body):,} "
        f"chars, as posted {len(posted):,} chars (limit {report.COMMENT_LIMIT:,}); "
        f"fit took {fit_ms:.1f} ms"
    )
    row = Row(
        f"`report` with {count:,} metrics",
        fmt_seconds(stats.seconds),
        "—",
        "—",
        f"under {AIM} s; comment ≤ {report.COMMENT_LIMIT:,} chars",
        stats.seconds < AIM and within,
        f"median of {runs}, whole command incl. the git reads; full report {len(body):,} chars, "
        f"posted comment {len(posted):,} chars (~{rows_shown} table rows; cut notice links the "
        "job summary)"
        if len(posted) < len(body)
        else f"median of {runs}; report {len(body):,} chars, posted whole",
    )
    return Result(rows=[row], series={"report": {"seconds": stats.seconds, "chars": len(posted)}})


PLOTS_AIM = 1.0


def _plot_files(repo: Path, rows: int, noise: float) -> None:
    """The built-in trainer's three plot files for `rows` test rows (~all-distinct scores)."""
    import numpy as np

    from mlops_actions.plots import BUILTIN_FILES

    rng = np.random.default_rng(int(noise * 100))
    y = rng.integers(0, 2, rows)
    scores = np.clip(0.4 * y + rng.normal(0.3, noise, rows), 0, 1)
    order = np.argsort(-scores)
    tpr = np.cumsum(y[order]) / max(int(y.sum()), 1)
    fpr = np.cumsum(1 - y[order]) / max(int((1 - y).sum()), 1)
    precision = np.cumsum(y[order]) / np.arange(1, rows + 1)
    content = {
        "roc": {
            "roc": [
                {"fpr": f, "tpr": t, "threshold": s}
                for f, t, s in zip(fpr.tolist(), tpr.tolist(), scores[order].tolist(), strict=True)
            ]
        },
        "precision_recall": {
            "precision_recall": [
                {"precision": p, "recall": r, "threshold": s}
                for p, r, s in zip(
                    precision.tolist(), tpr.tolist(), scores[order].tolist(), strict=True
                )
            ]
        },
        "confusion_matrix": [
            {"actual": str(a), "predicted": str(int(s > 0.5))}
            for a, s in zip(y.tolist(), scores.tolist(), strict=True)
        ],
    }
    for name, data in content.items():
        path = repo / BUILTIN_FILES[name]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))


def run_plots(rows: int = 100_000, runs: int = 5, log: Any = print) -> Result:
    """`mlops-actions report --base main` with the built-in trainer's plot files at `rows` test
    rows on both sides (ROC and PR curves of `rows` points, a confusion file of `rows` rows)."""
    cmd = [*command("mlops-actions"), "report", "--base", "main", "-o", "report.md"]
    with tempfile.TemporaryDirectory(prefix="report-plots-bench-") as tmp:
        repo = Path(tmp) / "repo"
        build(repo, 20)
        git(repo, "checkout", "-q", "main")
        _plot_files(repo, rows, 0.3)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "plots at the base")
        git(repo, "checkout", "-q", "pr")
        git(repo, "rebase", "-q", "main")
        _plot_files(repo, rows, 0.2)
        size = sum(p.stat().st_size for p in (repo / "plots").rglob("*.json"))
        stats = median_of(lambda: measure(cmd, repo), runs)
        body = (repo / "report.md").read_text(encoding="utf-8")
    charts = body.count("```mermaid")
    tables = body.count("actual \\ predicted")
    log(
        f"  report with plots, {rows:,} rows: {stats.seconds * 1000:.0f} ms; "
        f"{charts} charts, {tables} tables, {len(body):,} chars"
    )
    row = Row(
        f"`report` with the built-in plots at {rows:,} test rows",
        fmt_seconds(stats.seconds),
        "—",
        "—",
        f"under {PLOTS_AIM:g} s",
        stats.seconds < PLOTS_AIM and charts >= 2 and tables == 2,
        f"median of {runs}, whole command; ROC, PR and confusion files on both sides "
        f"({size / 2**20:.0f} MB in this run), {charts} charts and {tables} tables drawn, "
        f"report {len(body):,} chars",
    )
    return Result(rows=[row], series={"report plots": {"seconds": stats.seconds}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plot-rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    rows = [*run(args.metrics, args.runs).rows, *run_plots(args.plot_rows, args.runs).rows]
    return 0 if all(r.met for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
