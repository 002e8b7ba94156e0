"""`mlops-actions results DIR`: compare, gate and write the report's inputs for the publishing job.

Runs where the pull request's code runs, with no write token: it posts nothing. A run that
cannot finish still leaves a results file with its one-line error, so the publishing job can
mark the gate status `error` instead of leaving it missing.
"""

from __future__ import annotations

import re
from typing import Any

from mlops_actions import console, output
from mlops_actions.config import settings
from mlops_actions.config.gates import DEFAULT_PREFIX
from mlops_actions.errors import MlopsError
from mlops_actions.flow import gating, pr_rules, reporting, results, steps
from mlops_actions.flow.results import GateRecord, Results
from mlops_actions.github import context
from mlops_actions.tracking import ci as tracking


def main(
    params: str, *, directory: str, base: str | None, comment_id: str, error: str | None = None
) -> int:
    """`error`: the run failed before (the pull or the training); record it, evaluate nothing:
    the metrics in the checkout would be the committed ones, not this run's."""
    ctx = context.load()

    def claimed(prefix: str, **rest: Any) -> Results:
        """What the publishing job must find again in its own event: event, commit, PR."""
        return Results(ctx.event_name, ctx.status_sha, ctx.pr_number, comment_id, prefix, **rest)

    prefix = DEFAULT_PREFIX
    cfg: settings.Config | None = None
    trained = error is None  # else the workspace's model card is an earlier run's
    try:
        cfg = settings.load(params)
        prefix = cfg.gate_options.status_prefix
        if error is not None:
            raise MlopsError(error)
        found = gating.compare(cfg, ctx, base)
        current = steps.current_metrics(cfg)
        # With this run's event, as `run` gates: the base branch's settings on a pull request.
        gated = bool(cfg.rules) or pr_rules.gated_by_base(cfg, ctx)
        run = gating.compared_gates(cfg, found, current, ctx) if gated else gating.GateRun([])
        console.gate_run(run)
        # The standing is read here, where the clone is: the publishing job has none.
        ranked = tracking.enabled()
        data, drawn, plot_notes = reporting.report_parts(cfg, ctx, found, run, ranked=ranked)
    except MlopsError as exc:
        error = re.sub(r"[\x00-\x1f\x7f]", " ", output.redact(str(exc)))[:400]
        results.write(directory, claimed(prefix, report=None, gates=[], error=error))
        if tracking.enabled():
            tracking.write_files(directory, cfg, trained=trained, fork=ctx.is_fork)
        raise
    records = [
        GateRecord(r.text, r.state, r.value, r.baseline, r.threshold, r.detail, r.description)
        for r in run.results
    ]
    done = claimed(
        prefix, report=data, gates=records, gates_note=run.note, plots=drawn, plot_notes=plot_notes
    )
    try:
        path = results.write(directory, done)
    except MlopsError as exc:  # the publishing job still marks the gate status `error`
        results.write(directory, claimed(prefix, report=None, gates=[], error=str(exc)[:400]))
        raise
    if tracking.enabled():
        tracking.write_files(directory, cfg, trained=trained, fork=ctx.is_fork)
    output.info(f"results written to {path}; the publishing job posts them")
    return 0
