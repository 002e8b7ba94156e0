"""`mlops-actions sweep plan | trial | gather | run`: a hyper-parameter sweep as waves of
trials, planned by Optuna from the trials recorded as DVC experiments.

plan    the next wave as an Actions matrix `{"include": [{"trial": N, "params": {...}}]}`
trial   train one trial (its params set in a copy of the workspace) and record it
gather  the leaderboard, and whether budget remains (exit 0 either way)
run     the whole sweep on this machine through plan, trial and gather
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions import git, output
from mlops_actions.config import settings
from mlops_actions.config import sweep as spec
from mlops_actions.config.settings import Config
from mlops_actions.config.sweep import SweepSpec
from mlops_actions.errors import ConfigError
from mlops_actions.flow import deliver as publish
from mlops_actions.github import context
from mlops_actions.sweep import deliver, journal, leaderboard, overlay, planner, trial
from mlops_actions.sweep.journal import TrialRecord


@dataclass(frozen=True)
class GatherOptions:
    bundles: str | None = None  # a directory of trial bundles to take in
    push: bool = False  # push the experiment refs to origin
    fetch: bool = False  # fetch origin's experiment refs first
    issue: int | str | None = None  # the sticky comment's issue or pull request, or auto
    dispatch: str | None = None  # the workflow to dispatch for the next wave
    pull_request: bool = False  # at the end, open the best-params pull request
    author: str | None = None
    pr_token: str | None = field(default=None, repr=False)  # opens the best-params PR


def _records(cfg: Config, sweep: SweepSpec) -> list[TrialRecord]:
    top = overlay.top_of(cfg.root)
    metrics = Path(os.path.normpath(os.path.relpath(cfg.resolve(cfg.train.metrics), top)))
    return journal.read(cfg.root, sweep.id, sweep.metric, metrics.as_posix())


def _load(params: str) -> tuple[Config, SweepSpec]:
    cfg = settings.load(params)
    git.require_repository(cfg.root)
    return cfg, spec.from_config(cfg)


def _fetch(cfg: Config, ctx: context.Context) -> None:
    journal.fetch(cfg.root, "origin", git.auth_env(ctx.token, ctx.server_url))


def plan(params: str, *, as_json: bool, fetch: bool, token: str | None) -> int:
    cfg, sweep = _load(params)
    ctx = context.load(token=token)
    if fetch:
        _fetch(cfg, ctx)
    found = planner.plan(sweep, _records(cfg, sweep))
    matrix = found.matrix()
    publish.write_outputs(
        ctx,
        matrix=matrix,
        done=found.done,
        sweep_id=sweep.id,
        runs_on=_runs_on(sweep),
        parallel=sweep.parallel,
    )
    if as_json:
        output.info(output.printable_json(json.dumps(matrix)))
        return 0
    output.info(f"sweep {sweep.id}: {found.recorded} of {found.budget} trials recorded")
    if found.done:
        output.info("the budget is spent: nothing to plan")
    for t in found.trials:
        output.info(f"trial {t.number}: {_params_text(t.params)}")
    return 0


def _runs_on(sweep: SweepSpec) -> str:
    return json.dumps(sweep.runs_on)


def _params_text(values: dict[str, Any]) -> str:
    return " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(values.items()))


def trial_main(params: str, *, number: int, values: str, bundle: str | None) -> int:
    cfg, sweep = _load(params)
    try:
        parsed = json.loads(values)
    except ValueError as exc:
        raise ConfigError(f"--params: not valid JSON ({exc})") from None
    checked = trial.check_params(sweep, parsed, "--params")
    if number < 0:
        raise ConfigError(f"--trial: expected a trial number of at least 0, got {number}")
    ctx = context.load()
    outcome = trial.run(cfg, sweep, number, checked, ctx.run_url, _event(ctx))
    _progress(sweep, outcome)
    if bundle:
        Path(bundle).mkdir(parents=True, exist_ok=True)
        journal.bundle(cfg.root, [outcome.ref], Path(bundle) / f"trial-{number}.bundle")
    return 0 if outcome.record.state == "complete" else 1


_lock = threading.Lock()


def _progress(sweep: SweepSpec, outcome: trial.Outcome, count: int | None = None) -> None:
    """One line per trial; `count`: how many trials of the budget are recorded with it."""
    r = outcome.record
    where = (f"[{count}/{sweep.trials}] " if count else "") + f"trial {r.number}"
    result = f"{sweep.metric} {r.value:.6g}" if r.value is not None else f"failed: {r.error or '?'}"
    with _lock:
        output.info(
            f"{where}: {_params_text(r.params)} -> {result} ({outcome.seconds:.1f} s, {r.name})"
        )


def _summary(sweep: SweepSpec, records: list[TrialRecord]) -> dict[str, Any]:
    top = leaderboard.best(records, sweep.minimize)
    finished = len(records)
    return {
        "sweep": sweep.id,
        "metric": sweep.metric,
        "direction": "minimize" if sweep.minimize else "maximize",
        "trials": [leaderboard.to_json(r) for r in records],
        "best": leaderboard.to_json(top) if top else None,
        "recorded": finished,
        "budget": sweep.trials,
        "remaining": max(sweep.trials - finished, 0),
    }


def gather(params: str, *, as_json: bool, token: str | None, options: GatherOptions) -> int:
    cfg, sweep = _load(params)
    ctx = context.load(token=token)
    taken: list[str] = []
    if options.bundles and Path(options.bundles).is_dir():
        for path in sorted(Path(options.bundles).rglob("*.bundle")):
            taken += journal.unbundle(cfg.root, path)
    if options.fetch:
        _fetch(cfg, ctx)
    if options.push and taken:
        journal.push(cfg.root, "origin", taken, git.auth_env(ctx.token, ctx.server_url))
        output.info(f"recorded {len(taken)} trial(s) on origin")
    records = _records(cfg, sweep)
    remaining_plan = planner.plan(sweep, records)
    board = leaderboard.markdown(sweep, records)
    summary = _summary(sweep, records)
    summary["done"] = remaining_plan.done
    publish.write_outputs(ctx, done=remaining_plan.done, remaining=summary["remaining"])
    context.append_summary(ctx, board)
    gh = (
        publish.client(ctx) if (options.issue or options.dispatch or options.pull_request) else None
    )
    if gh is not None and options.issue:
        number = (
            deliver.tracking_issue(gh, sweep) if options.issue == "auto" else int(options.issue)
        )
        url = deliver.comment(gh, number, sweep, board, options.author)
        output.info(f"leaderboard: {url}")
    top = leaderboard.best(records, sweep.minimize)
    if options.dispatch == "":
        output.warning("--dispatch names no workflow: the next wave is not dispatched")
    if gh is not None and not remaining_plan.done and options.dispatch and not taken:
        # nothing came back from this wave: another would likely fare the same
        output.warning(
            "no trial of this wave was recorded: the next wave is not dispatched; run the "
            "workflow again to plan the same trials"
        )
    elif gh is not None and not remaining_plan.done and options.dispatch:
        name, ref = deliver.workflow_of(options.dispatch)
        deliver.dispatch(gh, name, ref or ctx.ref or ctx.default_branch or "main")
        output.info(f"dispatched {name} for the next wave")
    if gh is not None and remaining_plan.done and options.pull_request:
        if top is None:
            output.warning("no trial completed: no pull request with best params")
        else:
            body = deliver.evidence(sweep, top, ctx.run_url) + "\n" + board
            url = deliver.pull_request(cfg, ctx, gh, sweep, top, body, token=options.pr_token)
            output.info(f"best params: {url}")
    if as_json:
        output.info(output.printable_json(json.dumps(summary, indent=2)))
    else:
        output.info(board)
        output.info("budget remains: next wave to plan" if not remaining_plan.done else "done")
    return 0


def run(params: str, *, jobs: int, as_json: bool) -> int:
    """The whole sweep here: plan a wave, train its trials `jobs` at a time, gather, repeat."""
    cfg, sweep = _load(params)
    ctx = context.load()
    with _progress_to_stderr(as_json):
        waves = _waves(cfg, sweep, jobs, ctx)
    records = _records(cfg, sweep)
    summary = _summary(sweep, records)
    if as_json:
        output.info(output.printable_json(json.dumps(summary, indent=2)))
    else:
        output.info(leaderboard.markdown(sweep, records))
        output.info(f"{leaderboard.status_line(sweep, records)} ({waves} wave{'s' * (waves != 1)})")
    return 0 if summary["best"] is not None else 1


@contextlib.contextmanager
def _progress_to_stderr(enabled: bool) -> Iterator[None]:
    """With --json, stdout holds the JSON only: what the trials print (theirs and their
    training commands') goes to stderr."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _event(ctx: context.Context) -> str:
    return ctx.event_name if ctx.in_actions else "local"


def _waves(cfg: Config, sweep: SweepSpec, jobs: int, ctx: context.Context) -> int:
    waves = 0
    while True:
        wave = planner.plan(sweep, _records(cfg, sweep))
        if wave.done:
            return waves
        count = wave.recorded
        waves += 1
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [
                pool.submit(trial.run, cfg, sweep, t.number, t.params, ctx.run_url, _event(ctx))
                for t in wave.trials
            ]
            for future in as_completed(futures):
                count += 1
                _progress(sweep, future.result(), count)
