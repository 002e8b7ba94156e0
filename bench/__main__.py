"""The benchmark suite: `make bench`, or `.venv/bin/python -m bench`.

Runs every benchmark, each against its peer in the same run (medians after a warm-up), prints
the table, and writes BENCHMARKS.md (repository root), bench/out/benchmarks.png and its
commit-worthy copy docs/benchmarks.png. Data for the big rows is generated in temp directories.
A partial run (--quick, --only) writes its BENCHMARKS.md and plot under bench/out only.

    .venv/bin/python -m bench [--quick] [--only NAME,...] [--train-sizes N,...]
        [--train-formats csv,parquet] [--no-write]

Each benchmark also runs on its own: `python -m bench.compare_bench`, `bench.models_bench`,
`bench.train_bench`, `bench.run_bench`, `bench.report_bench`, `bench.api_bench`,
`bench.install_bench`, `bench.pull_bench`, `bench.monitor_bench`, `bench.bootstrap_bench`,
`bench.sweep_bench`, `bench.runs_bench`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from bench import (
    api_bench,
    bootstrap_bench,
    compare_bench,
    install_bench,
    models_bench,
    monitor_bench,
    pull_bench,
    report_bench,
    run_bench,
    runs_bench,
    sweep_bench,
    train_bench,
)
from bench.common import Result, Row, machine

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
MARKS = {True: "✅", False: "❌", None: "—"}


def _suite(quick: bool) -> dict[str, Callable[[], Result]]:
    """Name -> benchmark. `quick` is a smoke run: small sizes, few repetitions."""
    if quick:
        return {
            "startup": lambda: run_bench.startup(3, log=_log),
            "compare": lambda: compare_bench.run(2, log=_log),
            "run": lambda: run_bench.run_cache(2, log=_log),
            "report": lambda: report_bench.run(1000, 2, log=_log),
            "plots": lambda: report_bench.run_plots(10_000, 2, log=_log),
            "bootstrap": lambda: bootstrap_bench.run(10_000, 2, log=_log),
            "models": lambda: models_bench.run([100, 1000], 2, log=_log),
            "train": lambda: train_bench.run([10_000], ["csv", "parquet"], log=_log),
            "api": lambda: api_bench.run(2, log=_log),
            "install": lambda: install_bench.run(1, log=_log),
            "pull": lambda: pull_bench.run(2, 64, 1000, log=_log),
            "monitor": lambda: monitor_bench.run([10_000], 1, 20, log=_log),
            "sweep": lambda: sweep_bench.run(2, log=_log),
            "runs": lambda: runs_bench.run((100,), 2, log=_log),
        }
    return {
        "startup": lambda: run_bench.startup(15, log=_log),
        "compare": lambda: compare_bench.run(7, log=_log),
        "run": lambda: run_bench.run_cache(7, log=_log),
        "report": lambda: report_bench.run(1000, 7, log=_log),
        "plots": lambda: report_bench.run_plots(100_000, 5, log=_log),
        "bootstrap": lambda: bootstrap_bench.run(100_000, 5, log=_log),
        # gto takes ~70 s at 10,000 tags: one run there, skipped if predicted over 180 s.
        "models": lambda: models_bench.run([100, 1000, 10_000], 5, 30.0, 180.0, log=_log),
        "train": lambda: train_bench.run(
            [10_000, 100_000, 1_000_000], ["csv", "parquet"], log=_log
        ),
        "api": lambda: api_bench.run(2, log=_log),
        "install": lambda: install_bench.run(3, log=_log),
        "pull": lambda: pull_bench.run(5, log=_log),
        "monitor": lambda: monitor_bench.run([100_000, 1_000_000], 3, 200, log=_log),
        "sweep": lambda: sweep_bench.run(5, log=_log),
        "runs": lambda: runs_bench.run((1000, 10_000), 5, log=_log),
    }


# The order of the table: the rows the issue lists, top to bottom.
ORDER = (
    "compare",
    "models",
    "train",
    "run",
    "pull",
    "startup",
    "report",
    "plots",
    "bootstrap",
    "api",
    "install",
    "monitor",
    "sweep",
    "runs",
)


def _log(text: str) -> None:
    print(text, flush=True)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| measure | mlops-actions | peer | ratio | aim | met | notes |",
        "| --- | ---: | ---: | ---: | --- | :---: | --- |",
    ]
    for r in rows:
        cells = (r.measure, r.ours, r.peer, r.ratio, r.aim, MARKS[r.met], r.note)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def text_table(rows: list[Row]) -> str:
    headers = ("measure", "ours", "peer", "ratio", "aim", "met")
    cells = [
        (r.measure.replace("`", ""), r.ours, r.peer, r.ratio, r.aim, MARKS[r.met]) for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(out)


METHOD = """\
## How these numbers are made

- One command: `make bench` (or `.venv/bin/python -m bench`). Every row is measured against its
  peer **in the same run**, on the same files, after one untimed warm-up of each side; the timed
  runs of the two sides alternate, so a change in the machine's load hits both alike. The figures
  are **medians**; the number of runs is in each row's notes. A full run takes about twenty
  minutes, most of it pip in the install row (`--only install` runs that row alone); it is not
  part of `make test`.
- Every command runs as a fresh process, as a user runs it, started by a small launcher that
  times it and reads its **peak memory** (peak resident set size, from `wait4`; the largest
  process in its tree) when it exits. Python bytecode caches are on for every side, as in a
  pip-installed package (`PYTHONPYCACHEPREFIX=bench/out/pycache`); the warm-ups fill them.
- The machine may be shared: the load average at the start is in the table above. Wall-time
  ratios of the `train` rows come with their CPU-time ratio in the notes, which load disturbs
  less.
- `compare`: a DVC project with a pipeline, two metrics files and a params file; the PR branch
  changes some of each. The peer is `dvc metrics diff --json --all main` plus
  `dvc params diff --json --all main`; the JSON must be identical.
- `models`: repositories with N GTO-format annotated tags over 10 models, written with
  `git fast-import`. The peer is `gto show --json`; the latest version of every model must agree.
  GTO is run once (no warm-up) where a run takes longer than 30 s.
- `train`: a DVC-tracked synthetic table (20 float features, a 0/1 label from a noisy linear
  rule), generated at run time, as CSV and as Parquet. Both sides fit
  `LogisticRegression(max_iter=200, random_state=42)` on the same stratified 75/25 split and
  compute the same metrics (accuracy, balanced accuracy, precision, recall, F1, ROC AUC, log loss,
  confusion matrix), which must agree. `mlops-actions train --no-cache` also verifies the data's
  md5 against `data.dvc` (a stat memo skips unchanged files), computes bootstrap intervals,
  writes the plot files, the model with skops, a model card and the metrics; the bare script
  (`bench/train_bench.py`, `BARE_SCRIPT`) reads with pandas and pickles the model. The notes
  time the bootstrap and the plot files in-process at the same test size. Two differences
  weigh in opposite directions: a bare script that saved with skops, the format `train`
  writes, would pay the import of `skops.io` (its time is in the notes; `train`'s saver child
  imports only skops' writer); and `train` ends its process without Python's interpreter
  teardown (about 0.3 s of CPU once scikit-learn is loaded), which the bare script pays. The
  wall-time aim is the issue's: within 1.10× of the bare script or within 0.3 s of it. Five
  timed runs a side at every size, interleaved; the notes give each side's fastest and slowest
  run. This machine is a VM whose kernel hands free memory back to the host (Linux free page
  reporting, in batches every 2 s or so); a page the host took back costs a host fault when it
  is touched again, which the guest counts as system time. The same bare script at a million
  Parquet rows spent 0.3 s of system time when it ran straight after another run had freed its
  memory and 2.2 s when it ran 8 s later (2026-12-06). That, and not `train`'s saver child, is
  why a million-row run's system time moved by a second or more between runs and its ratio by
  0.1–0.2 between runs of the suite. So each timed run waits until the kernel has stopped
  reporting (`bench.common.settle_memory`: this kernel's count of reported memory, which
  mainline Linux does not expose, unchanged for 3 s; no wait on a kernel without the count; the
  notes say if a wait ended at its 30 s limit instead). Every run of either side then pays a
  host fault for the fresh memory it touches; files read through the page cache stay warm.
  Peak memory comes from three runs a side of their own: the memory sampler walks the page
  tables of every process in the tree every 5 ms, which slowed a million-row run by 0.4 s
  with the bare script's one process and by 0.7 s with `train`'s two.
- `run`: the test suite's demo project (breast cancer data in `data.dvc`, a local DVC remote)
  with a `dvc.yaml` whose stage trains; both sides trained once, then `mlops-actions run` is a
  run-cache hit and `dvc repro` finds nothing changed.
- `report`: `mlops-actions report --base main -o report.md` with 1,000 metrics changed on the PR
  branch (whole command). The comment is checked as it would be posted (`report.fit`).
- `plots`: the same command on a built-in project trained by `mlops-actions train` at the base
  (its metrics and plot files committed) and again on the PR branch, 100,000 test rows each: the
  ROC, precision-recall and confusion files this run's model card records, read from git and
  the disk, charts and tables drawn.
- `bootstrap`: the built-in trainer's 95% intervals, 1,000 seeded resamples of 100,000 test
  rows (synthetic scores, ~all distinct), timed in-process: the confusion-matrix metrics with
  ROC AUC, and rmse, mae and r2.
- API requests: `mlops-actions run` in-process in a `pull_request` Actions environment against
  the test suite's fake GitHub (`tests/fakegithub.py`), which checks every request against
  GitHub's OpenAPI description; requests are counted by (method, path), statuses told apart by
  their context.
- `install`: the action's install step, `bash scripts/install.sh`, into a fresh venv under an
  empty RUNNER_TEMP, with uv (the action's default) against the same script with pip
  (`MLOPS_INSTALLER=pip`). Cold: empty caches, everything downloaded from the package index (uv
  itself by `pip install uv`). Warm: uv's cache and wheel as actions/cache restores them, pip's
  own cache for pip; the venv is made anew every run. This checkout's .venv is off PATH.
- `runs`: a DVC project whose one commit has N experiments at `refs/exps/…` (written with
  `git fast-import`), each a commit with its own params.yaml, metrics.json (`cache: false`) and
  dvc.lock, as `dvc exp run` leaves them. The peer is `dvc exp show -A --json` (one run); every
  experiment's params and metrics must be the same in both. A first listing runs with no row
  cache of ours (`.git/mlops` removed before each run); a repeated one uses it. The notes give
  both sides' CPU time and the load average, as the machine may be shared.
- `sweep plan`: a repository holding 1,000 recorded trials of one TPE sweep as DVC experiment
  refs (written with `git fast-import`); the whole command plans the next wave of 8.
- `sweep trial` overhead: `sweep trial` of a config on the demo project against
  `train --no-cache` of the same config (3 configs, medians): the copy of the workspace, the
  params set and the experiment recorded.
- `sweep run --jobs 2`: a 2×2 grid and a 6-trial TPE sweep of the built-in trainer's
  `max_depth` and `n_estimators` on the demo project. The peer trains the same configs one by
  one with `mlops-actions train --no-cache`; every trial's f1 must equal its run alone, and the
  sweep's best the best of them.
"""


def write_markdown(
    path: Path, rows: list[Row], info: dict[str, str], seconds: float, plot: Path | None
) -> None:
    missed = [r for r in rows if r.met is False]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {stamp}; the whole suite took {seconds / 60:.1f} min. "
        "Do not edit by hand: run it again.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {k} | {_cell(v)} |" for k, v in info.items()),
        "",
        "## Results",
        "",
        markdown_table(rows),
        "",
    ]
    if plot is not None:
        parts += [f"![How cost grows with rows and with tags]({plot.as_posix()})", ""]
    parts += [
        "## Aims missed in this run",
        "",
        *(
            [
                f"- {r.measure}: {r.ratio if r.ratio != '—' else r.ours}"
                + (f" ({r.ours} against {r.peer})" if r.peer != "—" else "")
                + f"; aim {r.aim}"
                + (f". {r.why}" if r.why else "")
                for r in missed
            ]
            if missed
            else ["None."]
        ),
        "",
        METHOD,
    ]
    path.write_text("\n".join(parts), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few runs (a smoke run)")
    parser.add_argument("--only", help="comma-separated benchmarks: " + ",".join(ORDER))
    parser.add_argument("--train-sizes", help="rows of the train rows, e.g. 100000,1000000")
    parser.add_argument("--train-formats", help="formats of the train rows, e.g. parquet")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; write no BENCHMARKS.md or plot"
    )
    args = parser.parse_args(argv)
    suite = _suite(args.quick)
    if args.train_sizes or args.train_formats:
        sizes = [int(n) for n in (args.train_sizes or "10000,100000,1000000").split(",")]
        formats = (args.train_formats or "csv,parquet").split(",")
        suite["train"] = lambda: train_bench.run(sizes, formats, log=_log)
    names = args.only.split(",") if args.only else list(ORDER)
    unknown = [n for n in names if n not in suite]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (choose from {', '.join(ORDER)})")

    started = time.perf_counter()
    info = machine()
    _log("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    results: dict[str, Result] = {}
    for name in ORDER:
        if name not in names:
            continue
        t0 = time.perf_counter()
        _log(f"[{name}]")
        results[name] = suite[name]()
        _log(f"  ({time.perf_counter() - t0:.0f} s)")
    seconds = time.perf_counter() - started
    rows = [row for name in ORDER if name in results for row in results[name].rows]
    series = {k: v for r in results.values() for k, v in r.series.items()}

    print()
    print(text_table(rows))
    print(f"\nwhole suite: {seconds:.0f} s ({seconds / 60:.1f} min)")
    if not args.no_write:
        title = f"mlops-actions benchmarks · {info['CPU']}, {info['cores']} cores · " + (
            f"Python {info['Python']}"
        )
        from bench.plot import plot

        png = plot(series, OUT / "benchmarks.png", title)
        # A smoke run (--quick, --only) writes under bench/out only, never the committed files.
        full = not args.quick and not args.only
        markdown = ROOT / "BENCHMARKS.md" if full else OUT / "BENCHMARKS.md"
        image = None
        if png is not None:
            image = Path("docs/benchmarks.png") if full else Path("benchmarks.png")
            if full:
                (ROOT / "docs").mkdir(exist_ok=True)
                shutil.copyfile(png, ROOT / image)
        write_markdown(markdown, rows, info, seconds, image)
        written = [markdown, *([png] if png else []), *([ROOT / image] if full and image else [])]
        print("wrote " + ", ".join(str(p.relative_to(ROOT)) for p in written))
    missed = [r.measure for r in rows if r.met is False]
    if missed:
        print(f"aims missed: {len(missed)} of {sum(r.met is not None for r in rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
