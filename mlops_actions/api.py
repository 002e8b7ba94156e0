"""The steps of a run, each a plain function: settings and typed records in, a typed record out.

Nothing here prints or writes to GitHub: `console` shows the results to a person, `publish`
leaves them on GitHub and the runner, and `pipeline` puts the steps in order for an event.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass

import yaml

from mlops_actions import compare as compare_mod
from mlops_actions import data, gates, git, metrics, registry, report
from mlops_actions.baseline import Baseline, BaselineMetrics
from mlops_actions.config import Config
from mlops_actions.context import Context
from mlops_actions.data import DataVersion, PullResult
from mlops_actions.errors import ConfigError, GitError
from mlops_actions.metrics import Metrics
from mlops_actions.training import dvc as dvc_mode
from mlops_actions.training.base import TrainResult
from mlops_actions.util import read_json


@dataclass(frozen=True)
class RunOptions:
    """How `run` works for this event, from the command line (the action passes them as env)."""

    remote: str | None = None
    jobs: int | None = None
    use_cache: bool = True
    comment_id: str = "default"
    promote: bool = True
    bump: str | None = None
    stage: str | None = None
    release: bool = False
    retrain_token: str | None = None


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pulled:
    version: DataVersion
    dvc_files: list[str]
    result: PullResult | None  # None: no .dvc file, the workspace table is used as it is


def dvc_files(cfg: Config) -> list[str]:
    """The .dvc files to use; the default data.dvc may be absent (data kept in git)."""
    explicit = isinstance(cfg.raw.get("data"), dict) and "dvc" in cfg.raw["data"]
    present = [f for f in cfg.data.dvc if cfg.resolve(f).is_file()]
    if explicit and len(present) < len(cfg.data.dvc):
        missing = next(f for f in cfg.data.dvc if f not in present)
        raise ConfigError(
            f"{cfg.path}: data.dvc: '{missing}' does not exist; run `dvc add` for the data"
        )
    return present


def _untracked(cfg: Config) -> DataVersion:
    return data.untracked(cfg.root, cfg.data.path, f"{cfg.path}: data.path")


def pull(cfg: Config, *, remote: str | None = None, jobs: int | None = None) -> Pulled:
    """Pull and verify the versioned data; for a DVC pipeline, also what the committed
    dvc.lock records and the remote's run history (what `dvc repro` can restore)."""
    if cfg.train.mode == "dvc":
        dvc_mode.pull_pipeline(cfg, remote=remote, jobs=jobs)
    files = dvc_files(cfg)
    if not files:
        return Pulled(_untracked(cfg), [], None)
    result = data.pull(cfg.root, files, remote=remote, jobs=jobs)
    return Pulled(data.describe(cfg.root, result.outputs), files, result)


def verified_data(cfg: Config) -> DataVersion:
    """The data version of the workspace, checked against the .dvc files (no pull)."""
    files = dvc_files(cfg)
    if not files:
        return _untracked(cfg)
    return data.describe(cfg.root, data.check(cfg.root, files))


# --- training and metrics -------------------------------------------------------------------


def train(cfg: Config, version: DataVersion, *, use_cache: bool = True) -> TrainResult:
    from mlops_actions.training.runner import train as run_training

    return run_training(cfg, version, use_cache=use_cache)


def lock_problem(cfg: Config) -> str | None:
    """For a DVC pipeline: why the committed dvc.lock does not describe this run's result (the
    stages CI re-ran), or None; registering such a commit would tag a model its lock lacks."""
    return dvc_mode.lock_check(cfg) if cfg.train.mode == "dvc" else None


def push_outputs(cfg: Config, *, remote: str | None = None, jobs: int | None = None) -> None:
    """For a DVC pipeline: `dvc push --run-cache`, so what a version registers can be fetched."""
    if cfg.train.mode == "dvc":
        dvc_mode.push_pipeline(cfg, remote=remote, jobs=jobs)


def current_metrics(cfg: Config) -> Metrics:
    return metrics.load(cfg.resolve(cfg.train.metrics), cfg.train.metrics)


# --- comparison -----------------------------------------------------------------------------


def registry_baseline(cfg: Config) -> BaselineMetrics | None:
    """The latest promoted version's metrics: the baseline when the base branch has none."""
    model = registry.find_model(cfg.model.name, cwd=cfg.root)
    latest = model.latest() if model else None
    if latest is None or latest.info is None or not latest.info.metrics:
        return None
    found = Baseline("tag", ref=latest.tag, sha=latest.commit, label=f"`{latest.tag}`")
    return BaselineMetrics(found, {cfg.train.metrics: latest.info.metrics})


def compare(cfg: Config, ctx: Context, base: str | None) -> compare_mod.Comparison:
    """The workspace against `base`, else the PR's base branch, the default branch, the
    latest promoted version."""
    return compare_mod.compare(
        cfg.path, base=base, pr_base_ref=ctx.pr_base_ref, fallback=lambda: registry_baseline(cfg)
    )


def base_values(cfg: Config, found: compare_mod.Comparison) -> dict[str, object] | None:
    """The base values of the training metrics file, flattened; None with no baseline."""
    if found.baseline.kind == "none":
        return None
    path = posixpath.normpath(cfg.train.metrics)  # comparison paths are root-relative
    values = {e.key: e.old for e in found.rows("metrics", all=True) if e.path == path}
    return {k: v for k, v in values.items() if v is not None} or None


def latest_tag(cfg: Config) -> str | None:
    model = registry.find_model(cfg.model.name, cwd=cfg.root)
    latest = model.latest() if model else None
    return latest.tag if latest else None


# --- gates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateRun:
    """The gates' outcome, and what a person should be told about how they were evaluated."""

    results: list[gates.GateResult]
    note: str | None = None  # e.g. relative rules skipped for lack of a baseline

    @property
    def code(self) -> int:
        return gates.exit_code(self.results)

    @property
    def passed(self) -> bool:
        return self.code == 0


def evaluate_gates(
    cfg: Config, current: Metrics, baseline: dict[str, object] | None, where: str
) -> GateRun:
    """The rules of params.yaml against the current metrics and the base values (flattened)."""
    if not cfg.rules:
        return GateRun([])
    options = cfg.gate_options
    note = None
    relative = sum(rule.relative for rule in cfg.rules)
    if baseline is None and relative:
        outcome = {"skip": "skipped", "fail": "failed", "error": "errors"}[options.no_baseline]
        note = (
            f"no base metrics ({where}): {relative} relative gate(s) {outcome} "
            f"(gate_options.no_baseline: {options.no_baseline})"
        )
    results = gates.evaluate(
        cfg.rules,
        current.flat(),
        baseline,
        no_baseline=options.no_baseline,
        prefix=options.status_prefix,
    )
    return GateRun(results, note)


def compared_gates(cfg: Config, found: compare_mod.Comparison, current: Metrics) -> GateRun:
    """The gates against the comparison's baseline (a pull request's base branch)."""
    return evaluate_gates(cfg, current, base_values(cfg, found), found.baseline.label)


def promotion_gates(cfg: Config, current: Metrics | None = None) -> GateRun:
    """The gates against the latest promoted version: what a new version has to beat."""
    found = registry_baseline(cfg)
    baseline = None
    if found is not None:
        baseline = Metrics(found.metrics[cfg.train.metrics], cfg.train.metrics).flat()
    where = found.baseline.label if found else "no promoted version yet"
    return evaluate_gates(cfg, current or current_metrics(cfg), baseline, where)


# --- the report -----------------------------------------------------------------------------


def _dvc_hash_at(cfg: Config, sha: str | None, dvc_file: str) -> str | None:
    if not sha:
        return None
    rel = os.path.relpath(cfg.resolve(dvc_file), cfg.root)
    try:
        loaded = yaml.safe_load(git.run("show", f"{sha}:./{rel}", cwd=cfg.root))
    except (GitError, yaml.YAMLError):
        return None
    outs = loaded.get("outs") if isinstance(loaded, dict) else None
    return str(outs[0].get("md5")) if isinstance(outs, list) and outs else None


def _data_changes(cfg: Config, base_sha: str | None) -> list[report.DataChange]:
    changes = []
    for name in dvc_files(cfg):
        for out in data.read_dvc_file(cfg.resolve(name), cfg.root):
            nfiles = out.nfiles or (None if out.is_dir else 1)
            old = _dvc_hash_at(cfg, base_sha, name)
            changes.append(report.DataChange(name, old, out.md5, nfiles, out.size))
    return changes


def report_input(
    cfg: Config,
    ctx: Context,
    found: compare_mod.Comparison,
    run: GateRun | None,
    trained: TrainResult | None = None,
    note: str | None = None,
) -> report.ReportInput:
    base = found.baseline
    label = None
    if base.kind != "none":
        label = base.label if base.kind == "tag" else f"`{base.name}` ({(base.sha or '')[:7]})"
    confusion_path = cfg.resolve(cfg.train.confusion_matrix)
    confusion = read_json(confusion_path) if confusion_path.is_file() else None
    card = read_json(cfg.resolve(cfg.train.card))
    return report.ReportInput(
        model=cfg.model.name,
        baseline=label,
        metrics=[report.Row(e.key, e.old, e.new, e.path) for e in found.rows("metrics", all=True)],
        params=[report.Row(e.key, e.old, e.new, e.path) for e in found.rows("params")],
        data=_data_changes(cfg, base.sha),
        gates_markdown=gates.render_markdown(run.results) if run and run.results else None,
        mode=trained.mode if trained else card.get("mode"),
        cache_hit=trained.cache_hit if trained else None,
        run_url=ctx.run_url,
        confusion=confusion or None,
        lower=cfg.metrics.lower_is_better,
        higher=cfg.metrics.higher_is_better,
        primary=cfg.metrics.primary,
        note=note,
    )


def report_body(
    cfg: Config,
    ctx: Context,
    found: compare_mod.Comparison,
    run: GateRun | None,
    trained: TrainResult | None = None,
    comment_id: str = "default",
    note: str | None = None,
) -> str:
    return report.render(report_input(cfg, ctx, found, run, trained, note), comment_id)


def standalone_body(
    cfg: Config, ctx: Context, current: Metrics, run: GateRun, comment_id: str = "default"
) -> str:
    """The report when nothing can be compared (e.g. outside a git repository): this run's
    values alone, and the gates."""
    rows = [report.Row(k, None, v, current.path) for k, v in current.flat().items()]
    data = report.ReportInput(
        cfg.model.name,
        None,
        rows,
        gates_markdown=gates.render_markdown(run.results) if run.results else None,
        run_url=ctx.run_url,
        lower=cfg.metrics.lower_is_better,
        higher=cfg.metrics.higher_is_better,
        primary=cfg.metrics.primary,
    )
    return report.render(data, comment_id)


# --- promotion ------------------------------------------------------------------------------


def promote(
    cfg: Config,
    ctx: Context,
    *,
    writer: registry.TagWriter | None,
    bump: str | None,
    stage: str | None,
    push: bool,
    gates_passed: bool | None,
    release: bool = False,
) -> registry.PromoteResult:
    """Tag the workspace's model as the next version when it passes and beats the latest."""
    return registry.promote(
        cfg,
        bump=bump,
        stage=stage,
        push=push,
        gates_passed=gates_passed,
        writer=writer,
        run_url=ctx.run_url,
        release=release,
    )
