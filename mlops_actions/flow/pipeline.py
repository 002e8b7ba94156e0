"""The work of `run` for one event, top to bottom.

- pull_request: pull, train, compare with the base branch, gates as statuses, the report.
- push to the default branch: pull, train, gates against the latest version, push a DVC
  pipeline's outputs and run cache to its remote, promote (only with gates, and never a commit
  whose dvc.lock CI had to reproduce: its lock would not describe the registered model).
- schedule / workflow_dispatch: with `monitor:` set, monitor drift and decay (the report in the
  job summary, one `mlops-drift` issue); retrain when the data changed, or on drift when
  `monitor.retrain` is on (see retrain.py).
- outside Actions: pull, train, the metrics table and the gates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from mlops_actions import console, git, inert, output, registry
from mlops_actions.config.settings import Config
from mlops_actions.errors import MlopsError
from mlops_actions.flow import deliver, gating, pr_rules, promotion, reporting, retrain, steps
from mlops_actions.flow.gating import GateRun
from mlops_actions.flow.steps import RunOptions
from mlops_actions.github import context
from mlops_actions.github.context import Context
from mlops_actions.monitor import issue as monitor_report
from mlops_actions.monitor import watch as monitoring
from mlops_actions.tracking import ci as tracking_ci
from mlops_actions.tracking import record as tracking
from mlops_actions.training.base import TrainResult

if TYPE_CHECKING:
    from mlops_actions.github.client import GitHub


@dataclass(frozen=True)
class Evaluated:
    trained: TrainResult
    gates: GateRun
    body: str
    stale: str | None = None  # why the committed dvc.lock does not describe the result


def run(cfg: Config, ctx: Context, gh: GitHub | None, options: RunOptions) -> int:
    """The exit code is the gates': 0 pass, 1 fail, 2 could not be evaluated."""
    if ctx.event_name in ("schedule", "workflow_dispatch"):
        return scheduled(cfg, ctx, gh, options)
    refuse_untrusted_checkout(cfg, ctx)
    gated = bool(cfg.rules) or pr_rules.gated_by_base(cfg, ctx)
    with deliver.GateStatuses(gh if gated else None, ctx, cfg.gate_options.status_prefix) as s:
        try:
            done = evaluate(cfg, ctx, options)
        except MlopsError as exc:
            _record(cfg, ctx, gh, options, None, str(exc))
            raise
        s.finish(done.gates.results)
    deliver.write_outputs(
        ctx,
        gates_passed=done.gates.passed,
        gates=[r.to_dict() for r in done.gates.results],
        metrics=done.trained.metrics.json(),
    )
    # After the statuses, so they tell the gates' verdict even when GitHub then refuses the
    # comment (that still fails the job, loudly; the report is in the job summary first).
    delivery = deliver.Delivery(
        options.comment_id,
        comment=gh is not None and ctx.is_pull_request,
        summary=ctx.in_actions,
        author=options.comment_author,
    )
    deliver.deliver_report(cfg, ctx, gh, done.body, delivery)
    _record(cfg, ctx, gh, options, done.trained, None)
    if ctx.is_default_branch_push:
        steps.push_outputs(cfg, remote=options.remote, jobs=options.jobs)
    if ctx.is_default_branch_push and options.promote and cfg.rules:
        # Inside Actions the tags are created through the REST API.
        promotion.promote(
            cfg,
            ctx,
            gh,
            bump=options.bump,
            stage=options.stage,
            push=gh is not None,
            release=options.release and gh is not None,
            gates_passed=done.gates.code == 0,
            gate_code=done.gates.code,
            stale=done.stale,
        )
    else:
        deliver.write_outputs(ctx, promoted=False, version="", tag="")
    return done.gates.code


def _record(
    cfg: Config,
    ctx: Context,
    gh: GitHub | None,
    options: RunOptions,
    trained: TrainResult | None,
    error: str | None,
) -> None:
    """The run as a DVC experiment: `--record` here, MLOPS_RECORD in Actions (tracking/)."""
    if ctx.in_actions:
        tracking_ci.record_run(cfg, ctx, gh, trained, error)
    elif options.record:
        tracking.record_quietly(cfg, trained, error=error)


def recording(ctx: Context, options: RunOptions) -> bool:
    """Whether this run is recorded (and its report ranks it among the recorded runs)."""
    return tracking_ci.enabled() if ctx.in_actions else options.record


def refuse_untrusted_checkout(cfg: Config, ctx: Context) -> None:
    """pull_request_target hands a write token to the workflow; training the pull request's
    head, or its merge commit, there runs its code (any fork's) next to that token. The opt-out
    counts only as the BASE branch's params.yaml sets it: a pull request cannot switch the guard
    off in its own."""
    if ctx.event_name != "pull_request_target" or not _pull_request_code(cfg, ctx):
        return
    settings = pr_rules.base_settings(cfg, ctx)
    if settings is not None and settings.allow_pull_request_target:
        return
    raise MlopsError(
        "pull_request_target with the pull request's code checked out (HEAD is not the base "
        "branch's commit: its head or merge commit, or a later push) would run it next to a "
        "write token: train on `pull_request` (read-only) and "
        "publish from a `workflow_run` job instead (docs/security.md), or, if you trust "
        "every author, set mlops.gate_options.allow_pull_request_target: true in "
        f"{cfg.path} on the base branch (a pull request's own setting does not count)"
    )


def _pull_request_code(cfg: Config, ctx: Context) -> bool:
    """The checkout may be the pull request's code: HEAD is its head, the event's merge commit,
    a commit with the head as a parent (read from the commit object, so a depth-1 clone counts
    too), or any commit but the base's own (the event's GITHUB_SHA or the pull request's
    base): `refs/pull/N/head` and `/merge` are fetched after the event was sent, so a head
    force-pushed in between is none of the others."""
    head = git.head_sha(cfg.root)
    if head is None or ctx.pr_head_sha is None:
        return False
    pull = ctx.event.get("pull_request")
    merge = pull.get("merge_commit_sha") if isinstance(pull, dict) else None
    if head in (ctx.pr_head_sha, merge):
        return True
    try:
        raw = git.run("cat-file", "commit", head, cwd=cfg.root)
    except MlopsError:
        raw = ""
    if f"parent {ctx.pr_head_sha}" in raw.split("\n\n", 1)[0].splitlines():
        return True
    return head not in {ctx.sha, ctx.pr_base_sha} - {None}


def scheduled(cfg: Config, ctx: Context, gh: GitHub | None, options: RunOptions) -> int:
    """Monitor, then retrain. The exit code is 1 when the monitor alarms, else retraining's."""
    found = monitor(cfg, ctx, gh)
    evidence: str | None = None
    also: tuple[str, ...] = ()
    if found is not None and found.alarm and cfg.monitor is not None and cfg.monitor.retrain:
        evidence = monitor_report.render(found, ctx.run_url)
        also = tuple(f for f in [cfg.monitor.data + ".dvc"] if cfg.resolve(f).is_file())
    code = retrain.run(cfg, ctx, gh, options, evidence=evidence, also=also)
    return max(code, found.code) if found is not None else code


def monitor(cfg: Config, ctx: Context, gh: GitHub | None) -> monitoring.MonitorResult | None:
    """On a schedule (or a dispatch on the default branch) with `monitor:` set: refresh the
    monitored data, compare it with the monitored version's training data, put the report in
    the job summary and open, update or close the drift issue. A failure is a warning: the
    retraining still runs."""
    if cfg.monitor is None:
        return None
    branch = ctx.default_branch or "main"
    if ctx.event_name == "workflow_dispatch" and ctx.ref != f"refs/heads/{branch}":
        output.info(f"monitor: runs on the default branch only ({branch}), not {ctx.ref}")
        return None
    try:
        monitoring.refresh(cfg)
        found = monitoring.check(cfg, sources=registry.default_sources(cfg, gh))
    except MlopsError as exc:
        output.warning(f"monitor: {exc}")
        context.append_summary(ctx, f"Monitoring could not run: {inert.text(exc)}\n")
        return None
    body = monitor_report.render(found, ctx.run_url)
    output.info(body.split("\n\n", 2)[1])  # the verdict line
    context.append_summary(ctx, body)
    issue = None
    if gh is not None:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        issue = deliver.drift_issue(gh, ctx, found, now)
    deliver.write_outputs(
        ctx,
        drift=found.drift.alarm,
        decay=bool(found.decay and found.decay.decayed),
        drift_issue=issue.url if issue else "",
    )
    return found


def evaluate(cfg: Config, ctx: Context, options: RunOptions) -> Evaluated:
    """Pull, train, compare and gate. A pull request is compared with its base branch; a push
    with the latest promoted version (the model it has to beat)."""
    pulled = steps.pull(cfg, remote=options.remote, jobs=options.jobs)
    console.pulled(pulled, cfg)
    # A promotion never rests on a cache entry: the push that may register a version trains.
    promoting = ctx.is_default_branch_push and options.promote and bool(cfg.rules)
    if promoting and options.use_cache and cfg.cache.enabled:
        output.info("run cache: not read on a push that may promote; training")
    trained = steps.train(cfg, pulled.version, use_cache=options.use_cache, restore=not promoting)
    console.trained(trained, cfg)
    console.metrics_table(trained.metrics)
    stale = steps.lock_problem(cfg)
    base = gating.latest_tag(cfg) if ctx.event_name == "push" else None
    try:
        found = gating.compare(cfg, ctx, base)
    except MlopsError as exc:
        if ctx.is_pull_request:
            raise
        output.warning(f"no comparison: {exc}")
        gates = gating.evaluate_gates(cfg, trained.metrics, None, "no comparison")
        console.gate_run(gates)
        body = reporting.standalone_body(
            cfg, ctx, trained.metrics, gates, options.comment_id, ranked=recording(ctx, options)
        )
        return Evaluated(trained, gates, body, stale)
    if ctx.event_name == "push":
        gates = gating.promotion_gates(cfg, trained.metrics)
    else:
        gates = gating.compared_gates(cfg, found, trained.metrics, ctx)
    console.gate_run(gates)
    ranked = recording(ctx, options)
    body = reporting.report_body(
        cfg, ctx, found, gates, trained, options.comment_id, stale, ranked=ranked
    )
    return Evaluated(trained, gates, body, stale)
