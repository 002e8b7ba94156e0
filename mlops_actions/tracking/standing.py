"""Where a run stands among the recorded runs of the same model, for the report: "f1 0.951:
3rd of 214 recorded runs; best 0.962 in ci-…-1 (PR #41)" and the top five, from the
experiments `runs` lists (report.standing renders it)."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from mlops_actions import output
from mlops_actions.errors import MlopsError
from mlops_actions.metrics import finite, lower_is_better
from mlops_actions.report.markdown import ReportInput
from mlops_actions.report.standing import TOP, Placed, Standing
from mlops_actions.tracking import listing, runrecord, view
from mlops_actions.tracking.listing import Run

__all__ = ["Placed", "Standing", "of_report", "standing"]


def standing(
    runs: list[Run],
    metric: str,
    value: float,
    *,
    model: str | None = None,
    lower: list[str] | None = None,
    higher: list[str] | None = None,
    exclude: str | None = None,
) -> Standing | None:
    """This run's `value` of `metric` ranked among the recorded `runs` (of `model` when the
    runs say which model they trained; failed runs, runs a fork's pull request recorded (their
    numbers are the fork's own claim) and `exclude`, this run's own experiment, left out).
    None when no recorded run has the metric."""
    down = lower_is_better(metric, lower, higher)
    placed = []
    for run in runs:
        if run.status != "ok" or run.name == exclude or (run.record and run.record.fork):
            continue
        if model and run.record and run.record.model and run.record.model != model:
            continue
        found = view.number_of(view.value(run, metric))
        if found is not None:
            url = run.record.run_url if run.record else None
            # A ref's name is anyone's: cut to what a results file holds (rendered inert).
            pr = run.pr if run.pr and run.pr <= 2**53 else None
            placed.append(Placed(run.name[:200], found, pr, url[:500] if url else None))
    if not placed:
        return None
    placed.sort(key=lambda p: p.value, reverse=not down)
    better = sum(1 for p in placed if (p.value < value if down else p.value > value))
    return Standing(
        metric, value, better + 1, len(placed) + 1, down, placed[0], tuple(placed[:TOP])
    )


def of_report(
    start: Path,
    data: ReportInput,
    *,
    model: str | None,
    own: Collection[str] = (),
    model_sha256: str | None = None,
    run_id: str | None = None,
) -> Standing | None:
    """The standing of the report's primary metric among the experiments in this clone and on
    its git remote (fetched read-only). This run's own experiment, when it is recorded already
    (named in `own`, or on the same commit with the same model file), is counted once; the
    other attempts of this Actions run (`run_id`: a re-run's first attempt) are left out, not
    to count the same model twice. Nothing here fails the report: a problem listing the runs,
    or any other error, is one warning and the report goes out without the line."""
    metric = data.primary
    value = next((r.new for r in data.metrics if r.name == metric), None)
    if not metric or value is None or not finite(value):
        return None
    try:
        top = listing.top_of(start)
        runs = listing.gather(start, remote=listing.default_remote(top))
    except (MlopsError, OSError, ValueError) as exc:
        output.warning(f"the report leaves out the run's standing: experiments not listed: {exc}")
        return None
    except Exception as exc:  # a bug: still never the report's failure, but said as one
        _unexpected(exc)
        return None
    head = data.head

    def mine(run: Run) -> bool:
        same_model = bool(model_sha256) and run.record and run.record.model_sha256 == model_sha256
        return (
            run.name in own
            or bool(same_model and run.baseline == head)
            or bool(run_id and same_run(run, run_id))
        )

    try:
        return standing(
            [r for r in runs if not mine(r)],
            metric,
            float(value),
            model=model,
            lower=data.lower,
            higher=data.higher,
        )
    except Exception as exc:  # a bug: still never the report's failure, but said as one
        _unexpected(exc)
        return None


def _unexpected(exc: Exception) -> None:
    output.warning(
        "the report leaves out the run's standing: unexpected "
        f"{type(exc).__name__}: {str(exc)[:200]} (a bug in mlops-actions; please report it)"
    )


def same_run(run: Run, run_id: str) -> bool:
    """Whether `run` is an attempt of the Actions run `run_id`: by its record's run link, or
    by its name (ci-<run id>-<attempt>[-suffix]) when it has no record."""
    if run.record and run.record.run_url:
        found = runrecord.run_id_of(run.record.run_url)
        return found is not None and found[0] == run_id
    return re.fullmatch(rf"ci-{re.escape(run_id)}-\d+(?:-.*)?", run.name) is not None


def ci_names(run_url: str | None) -> set[str]:
    """The experiment an Actions run records (by its run id and attempt), if it has one."""
    found = runrecord.run_id_of(run_url)
    return {runrecord.ci_name(*found)} if found else set()
