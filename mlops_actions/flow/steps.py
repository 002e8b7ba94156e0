"""The steps of a run, each a plain function: settings and typed records in, a typed record out.

Nothing here prints or writes to GitHub: `console` shows the results to a person, `publish`
leaves them on GitHub and the runner, and `pipeline` puts the steps in order for an event.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_actions import git, metrics, registry, yaml12
from mlops_actions.compare import comparison as compare_mod
from mlops_actions.compare.baseline import Baseline, BaselineMetrics
from mlops_actions.config import gatenames, gates
from mlops_actions.config.settings import SECTION, Config, check_primary
from mlops_actions.dvcio import data, project
from mlops_actions.dvcio.data import DataVersion, PullResult
from mlops_actions.dvcio.diff import Entry
from mlops_actions.errors import ConfigError, GitError, MlopsError
from mlops_actions.flow import pr_rules
from mlops_actions.github.context import Context
from mlops_actions.metrics import Metrics
from mlops_actions.report import markdown
from mlops_actions.tag import BOT
from mlops_actions.training import dvc as dvc_mode
from mlops_actions.training.base import TrainResult
from mlops_actions.util import file_hash, read_json

if TYPE_CHECKING:
    from mlops_actions.report.plots import Plot


@dataclass(frozen=True)
class RunOptions:
    """How `run` works for this event, from the command line (the action passes them as env)."""

    remote: str | None = None
    jobs: int | None = None
    use_cache: bool = True
    comment_id: str = "default"
    comment_author: str = BOT.name  # only this login's comments are updated
    promote: bool = True
    bump: str | None = None
    stage: str | None = None
    release: bool = False
    retrain_token: str | None = None
    record: bool = False  # record the run as a DVC experiment (tracking/)


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pulled:
    version: DataVersion
    dvc_files: list[str]
    result: PullResult | None  # None: no .dvc file, the workspace table is used as it is


def dvc_files(cfg: Config) -> list[str]:
    """The .dvc files to pull: `mlops.data.dvc` when set, else every .dvc file of the project.

    An explicit list must hold the .dvc file that tracks `mlops.data.path`: training on an
    untracked workspace copy would pass here and fail in a fresh clone.
    """
    found = project.tracked_files(cfg.root, skip=cfg.cache_skip)
    if cfg.data.dvc is None:
        return found
    key = f"{cfg.path}: mlops.data.dvc"
    for name in cfg.data.dvc:
        if not cfg.resolve(name).is_file():
            raise ConfigError(f"{key}: '{name}' does not exist; run `dvc add` for the data")
    if cfg.data.path is not None:
        table = cfg.resolve(cfg.data.path).resolve()
        listed = {os.path.normpath(f) for f in cfg.data.dvc}
        for name in found:
            if os.path.normpath(name) in listed:
                continue
            if any(
                o.path == table or o.path in table.parents for o in data.outputs(cfg.root, [name])
            ):
                raise ConfigError(
                    f"{key}: {cfg.data.path} is tracked by {name}; add it to the list"
                )
    return list(cfg.data.dvc)


def _untracked(cfg: Config) -> DataVersion:
    assert cfg.data.path is not None  # config requires it in builtin mode
    return data.untracked(cfg.root, cfg.data.path, f"{cfg.path}: mlops.data.path")


def _no_data(cfg: Config) -> DataVersion:
    """No .dvc file: the builtin trainer's table as it is in the workspace (kept in git);
    a pipeline's own inputs are dvc repro's to check."""
    if cfg.train.mode != "builtin":
        return DataVersion(())
    return _untracked(cfg)


def pull(cfg: Config, *, remote: str | None = None, jobs: int | None = None) -> Pulled:
    """Pull and verify the versioned data; for a DVC pipeline, also what the committed
    dvc.lock records and the remote's run history (what `dvc repro` can restore)."""
    if cfg.train.mode == "dvc":
        dvc_mode.pull_pipeline(cfg, remote=remote, jobs=jobs)
    files = dvc_files(cfg)
    if not files:
        return Pulled(_no_data(cfg), [], None)
    result = data.pull(cfg.root, files, remote=remote, jobs=jobs)
    return Pulled(data.describe(cfg.root, result.outputs), files, result)


def verified_data(cfg: Config) -> DataVersion:
    """The data version of the workspace, checked against the .dvc files (no pull)."""
    files = dvc_files(cfg)
    if not files:
        return _no_data(cfg)
    return data.describe(cfg.root, data.check(cfg.root, files))


# --- training and metrics -------------------------------------------------------------------


def train(
    cfg: Config, version: DataVersion, *, use_cache: bool = True, restore: bool = True
) -> TrainResult:
    """Train, or restore the same run from the run cache; `restore` False always trains
    (a run that may promote: a cache entry is only files, anyone could have written them).
    `mlops.metrics.primary` must name one of the run's metrics."""
    from mlops_actions.training.runner import train as run_training

    result = run_training(cfg, version, use_cache=use_cache, restore=restore)
    names = gatenames.values(cfg, result.metrics)
    check_primary(cfg, names.values, names.source)
    return result


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


def registry_baseline(cfg: Config, name: str | None = None) -> BaselineMetrics | None:
    """The latest promoted version's metrics: the baseline when the base branch has none.
    `name`: the registry name to look up (a pull request's base names it), else ours."""
    name = name or cfg.model.name
    if name is None:
        return None  # no registry name: nothing was ever promoted
    model = registry.find_model(name, cwd=cfg.root)
    latest = model.latest() if model else None
    if latest is None or latest.info is None or not latest.info.metrics:
        return None
    found = Baseline("tag", ref=latest.tag, sha=latest.commit, label=f"`{latest.tag}`")
    return BaselineMetrics(found, {cfg.train.metrics: latest.info.metrics})


def compare(cfg: Config, ctx: Context, base: str | None) -> compare_mod.Comparison:
    """The workspace against `base`, else the PR's base branch, the default branch, the
    latest promoted version."""
    settings = pr_rules.base_settings(cfg, ctx) if base is None else None
    name = settings.model_name if settings is not None else None  # a rename keeps its baseline
    return compare_mod.compare(
        cfg.path,
        base=base,
        pr_base_ref=ctx.pr_base_ref,
        fallback=lambda: registry_baseline(cfg, name),
    )


def base_values(cfg: Config, found: compare_mod.Comparison) -> dict[str, object] | None:
    """The base values of the training metrics file, flattened; None with no baseline."""
    if found.baseline.kind == "none":
        return None
    # The base's own metrics file (comparison paths are root-relative): moving it in a pull
    # request does not remove its baseline.
    path = found.base_metrics or posixpath.normpath(cfg.train.metrics)
    entries = found.rows("metrics", all=True)
    values = {e.key: e.old for e in entries if e.path == path}
    if len({e.path for e in entries}) > 1:  # `path:metric` reaches any file's values
        values.update({metrics.qualified(e.path, e.key): e.old for e in entries})
    return {k: v for k, v in values.items() if v is not None} or None


def latest_tag(cfg: Config) -> str | None:
    if cfg.model.name is None:
        return None
    model = registry.find_model(cfg.model.name, cwd=cfg.root)
    latest = model.latest() if model else None
    return latest.tag if latest else None


# --- gates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateRun:
    """The gates' outcome, and what a person should be told about how they were evaluated."""

    results: list[gates.GateResult]
    note: str | None = None  # e.g. relative rules skipped for lack of a baseline
    # A pull request that changed the rules: what, and what its own would say (not a status).
    rules_note: str | None = None

    @property
    def code(self) -> int:
        return gates.exit_code(self.results)

    @property
    def passed(self) -> bool:
        return self.code == 0


def evaluate_gates(
    cfg: Config,
    current: Metrics,
    baseline: dict[str, object] | None,
    where: str,
    noise: dict[str, float] | None = None,
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
            f"(mlops.gate_options.no_baseline: {options.no_baseline})"
        )
    names = gatenames.current_names(cfg, current, cfg.rules)
    results = gates.evaluate(
        cfg.rules,
        names.values,
        gatenames.base_names(names, baseline),
        no_baseline=options.no_baseline,
        prefix=options.status_prefix,
        noise=noise,
        source=names.source,
    )
    return GateRun(results, note)


def _noise(found: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Half the width of each interval: what `base - noise` subtracts."""
    return {name: (high - low) / 2 for name, (low, high) in found.items()}


def base_intervals(cfg: Config, found: compare_mod.Comparison) -> dict[str, tuple[float, float]]:
    """The confidence intervals of the base's metrics file ("ci"), when it has them."""
    base = found.baseline
    if base.kind == "none":
        return {}
    if base.sha:
        rel = os.path.relpath(cfg.resolve(cfg.train.metrics), cfg.root)
        try:
            text = git.run("show", f"{base.sha}:./{rel}", cwd=cfg.root)
            loaded = metrics.parse(text, rel)
        except (GitError, MlopsError):
            loaded = None
        if isinstance(loaded, dict) and metrics.intervals(loaded):
            return metrics.intervals(loaded)
    if base.kind == "tag":
        supplied = registry_baseline(cfg)
        if supplied is not None:
            return metrics.intervals(supplied.metrics.get(cfg.train.metrics) or {})
    return {}


def compared_gates(
    cfg: Config, found: compare_mod.Comparison, current: Metrics, ctx: Context | None = None
) -> GateRun:
    """The gates against the comparison's baseline (a pull request's base branch); on a pull
    request with the base branch's settings (see `pull_gates.gated_config`)."""
    settings = pr_rules.base_settings(cfg, ctx)
    own = cfg
    cfg, changed = pr_rules.gated_config(cfg, settings)
    values = base_values(cfg, found)
    where = found.baseline.label
    unreadable = pr_rules.unreadable_base(cfg, found) if values is None else None
    if settings is not None and unreadable is not None:
        # The base has its metrics file but it cannot be read: a vanished baseline, never a skip.
        options = dataclasses.replace(cfg.gate_options, no_baseline="error")
        cfg, where = dataclasses.replace(cfg, gate_options=options), unreadable
    noise = _noise(base_intervals(cfg, found)) if any(r.noise for r in cfg.rules) else None
    run = evaluate_gates(cfg, current, values, where, noise)
    if changed is None:
        return run
    said = evaluate_gates(
        dataclasses.replace(own, gate_options=cfg.gate_options), current, values, where
    )
    rules_note = _one_line(f"{changed}; {pr_rules.own_verdict(said.results)}", 300)
    note = "; ".join(n for n in (run.note, rules_note) if n)
    return GateRun(run.results, note, rules_note)


def _one_line(text: str, limit: int) -> str:
    """A note as a results file holds it: one line, at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def promotion_gates(cfg: Config, current: Metrics | None = None) -> GateRun:
    """The gates against the latest promoted version: what a new version has to beat."""
    found = registry_baseline(cfg)
    baseline = None
    noise = None
    if found is not None:
        values = found.metrics[cfg.train.metrics]
        baseline = Metrics(values, cfg.train.metrics).flat()
        noise = _noise(metrics.intervals(values))
    where = found.baseline.label if found else "no promoted version yet"
    return evaluate_gates(cfg, current or current_metrics(cfg), baseline, where, noise)


# --- the report -----------------------------------------------------------------------------


def display_name(cfg: Config) -> str:
    """The registry name, else the project directory's (a project with no model artifact)."""
    return cfg.model.name or cfg.root.name


def _verdict(cfg: Config, run: GateRun | None) -> str | None:
    """The report's first line: the gates' outcome."""
    return gates.headline(run.results) if run is not None else None


def _plots(
    cfg: Config, found: compare_mod.Comparison, first: bool
) -> tuple[list[Plot], list[str], bool]:
    """What the Plots section shows: every declared plot (and the built-in trainer's) against
    the base, the notes on what could not be read, and whether it holds the built-in trainer's
    confusion matrix."""
    from mlops_actions.report import plots

    root = found.root or cfg.root
    extra = (
        plots.builtin_decls(root, cfg.root, _this_runs_plots(cfg))
        if cfg.train.mode == "builtin"
        else []
    )
    # The base commit's plots whenever there is one, metrics or not: `--base` or not, the same.
    base = None if first else found.baseline.sha
    drawn, notes = plots.read(root, base, extra)
    ids = {p.id for p in drawn if p.kind == "confusion"}
    return drawn, notes, any(d.id in ids for d in extra)


def _gates_markdown(cfg: Config, run: GateRun | None) -> str | None:
    if not cfg.rules and not (run and run.results):
        return gates.NO_GATES
    if not (run and run.results):
        return None
    return gates.render_markdown(run.results, with_headline=False)  # the report's first line


def _dvc_hash_at(cfg: Config, sha: str | None, dvc_file: str) -> str | None:
    if not sha:
        return None
    rel = os.path.relpath(cfg.resolve(dvc_file), cfg.root)
    try:
        loaded = yaml12.load(git.run("show", f"{sha}:./{rel}", cwd=cfg.root))
    except (GitError, yaml12.YamlError):
        return None
    outs = loaded.get("outs") if isinstance(loaded, dict) else None
    return str(outs[0].get("md5")) if isinstance(outs, list) and outs else None


def _data_changes(cfg: Config, base_sha: str | None) -> list[markdown.DataChange]:
    changes = []
    for name in dvc_files(cfg):
        for out in data.read_dvc_file(cfg.resolve(name), cfg.root):
            nfiles = out.nfiles or (None if out.is_dir else 1)
            old = _dvc_hash_at(cfg, base_sha, name)
            changes.append(markdown.DataChange(name, old, out.md5, nfiles, out.size))
    return changes


def _precision(cfg: Config) -> int | None:
    value = cfg.report.get("precision") if isinstance(cfg.report, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise ConfigError(
            f"{cfg.path}: report.precision: expected significant digits from 1 to 12, got {value!r}"
        )
    return value


def _head(cfg: Config, ctx: Context) -> tuple[str | None, str | None]:
    sha = ctx.status_sha or git.head_sha(cfg.root)
    if not sha:
        return None, None
    url = f"{ctx.server_url}/{ctx.repository}/commit/{sha}" if ctx.repository else None
    return sha, url


@dataclass(frozen=True)
class _Facts:
    head: str | None
    head_url: str | None
    training_seconds: float | None
    model_size: int | None
    mode: str | None


def _facts(cfg: Config, ctx: Context) -> _Facts:
    """What the report says about this run besides the metrics: commit, time, model size."""
    card = read_json(cfg.resolve(cfg.train.card))
    model = cfg.resolve(cfg.train.model)
    seconds = card.get("training_seconds")
    mode = card.get("mode")
    head, head_url = _head(cfg, ctx)
    return _Facts(
        head,
        head_url,
        float(seconds) if isinstance(seconds, (int, float)) and metrics.finite(seconds) else None,
        model.stat().st_size if model.is_file() else None,
        mode if isinstance(mode, str) else None,
    )


def _current_intervals(cfg: Config) -> dict[str, tuple[float, float]]:
    try:
        return metrics.intervals(metrics.read(cfg.resolve(cfg.train.metrics)))
    except MlopsError:
        return {}


def _user_params(cfg: Config, found: compare_mod.Comparison) -> list[markdown.Row]:
    """The params rows a reviewer reads: what the model learnt from. Our `mlops:` section is
    how the tool is set up (DVC's own diff shows it all); only the built-in trainer's data,
    model and train settings, which decide its run, stay."""
    ours = posixpath.normpath(os.path.relpath(cfg.path, cfg.root))
    trains = tuple(f"{SECTION}.{k}." for k in ("data", "model", "train"))

    def shown(e: Entry) -> bool:
        if e.path != ours or not (e.key == SECTION or e.key.startswith(f"{SECTION}.")):
            return True
        return cfg.train.mode == "builtin" and e.key.startswith(trains)

    return [markdown.Row(e.key, e.old, e.new, e.path) for e in found.rows("params") if shown(e)]


def _input(
    cfg: Config,
    ctx: Context,
    facts: _Facts,
    rows: list[markdown.Row],
    run: GateRun | None,
    intervals: dict[str, markdown.Interval],
) -> markdown.ReportInput:
    """What every report shows: this run's facts, its metrics rows and the gates."""
    return markdown.ReportInput(
        model=display_name(cfg),
        baseline=None,
        metrics=rows,
        gates_markdown=_gates_markdown(cfg, run),
        verdict=_verdict(cfg, run),
        failed=gates.failed_metrics(run.results) if run is not None else [],
        run_url=ctx.run_url,
        lower=cfg.metrics.lower_is_better,
        higher=cfg.metrics.higher_is_better,
        primary=cfg.metrics.primary,
        intervals=intervals,
        gated=[rule.metric for rule in cfg.rules],
        precision=_precision(cfg),
        head=facts.head,
        head_url=facts.head_url,
        training_seconds=facts.training_seconds,
        model_size=facts.model_size,
    )


def _this_runs_plots(cfg: Config) -> set[str]:
    """The plot files the last run wrote and the workspace still holds unchanged, as its model
    card records them (project-relative path → sha256)."""
    recorded = read_json(cfg.resolve(cfg.train.card)).get("plots")
    if not isinstance(recorded, dict):
        return set()
    kept = set()
    for path, sha in recorded.items():
        try:
            if isinstance(path, str) and file_hash(cfg.resolve(path)) == sha:
                kept.add(path)
        except OSError:
            continue
    return kept


def this_runs_confusion(cfg: Config) -> dict[str, object] | None:
    """The confusion matrix the last run wrote, as its model card records it (path and
    sha256); None when it wrote none: a committed, stale file is never shown as this run's."""
    record = read_json(cfg.resolve(cfg.train.card)).get("confusion_matrix")
    if not isinstance(record, dict) or not isinstance(record.get("path"), str):
        return None
    path = cfg.resolve(record["path"])
    try:
        if file_hash(path) != record.get("sha256"):
            return None
    except OSError:
        return None
    return read_json(path) or None


def report_input(
    cfg: Config,
    ctx: Context,
    found: compare_mod.Comparison,
    run: GateRun | None,
    trained: TrainResult | None = None,
    note: str | None = None,
) -> markdown.ReportInput:
    return report_parts(cfg, ctx, found, run, trained, note)[0]


def report_parts(
    cfg: Config,
    ctx: Context,
    found: compare_mod.Comparison,
    run: GateRun | None,
    trained: TrainResult | None = None,
    note: str | None = None,
) -> tuple[markdown.ReportInput, list[Plot], list[str]]:
    """The report's inputs, and the plots and notes its Plots section is drawn from (a results
    file carries those, for the publishing job to draw)."""
    from mlops_actions.report import charts

    base = found.baseline
    facts = _facts(cfg, ctx)
    label = None
    if base.kind != "none":
        label = base.label if base.kind == "tag" else f"`{base.name}` ({(base.sha or '')[:7]})"
    # The first run on the default branch resolves the base to the branch itself.
    first = ctx.is_default_branch_push and (
        base.kind == "none" or (bool(base.sha) and base.sha == facts.head)
    )
    confusion = this_runs_confusion(cfg)
    drawn, plot_notes, has_confusion = _plots(cfg, found, first)
    if has_confusion:
        confusion = None  # the Plots section has it, base beside this run
    rows = [markdown.Row(e.key, e.old, e.new, e.path) for e in found.rows("metrics", all=True)]
    if first:
        label = None
        rows = [markdown.Row(r.name, None, r.new, r.path) for r in rows]
    data = dataclasses.replace(
        _input(cfg, ctx, facts, rows, run, _current_intervals(cfg)),
        baseline=label,
        params=[] if first else _user_params(cfg, found),
        data=_data_changes(cfg, None if first else base.sha),
        mode=trained.mode if trained else facts.mode,
        cache_hit=trained.cache_hit if trained else None,
        confusion=confusion or None,
        plots=charts.render(drawn, plot_notes, ctx.run_url),
        base_intervals={} if first else base_intervals(cfg, found),
        first_version=first,
        note="; ".join(n for n in (note, run.rules_note if run else None) if n) or None,
    )
    return data, drawn, plot_notes


def report_body(
    cfg: Config,
    ctx: Context,
    found: compare_mod.Comparison,
    run: GateRun | None,
    trained: TrainResult | None = None,
    comment_id: str = "default",
    note: str | None = None,
) -> str:
    return markdown.render(report_input(cfg, ctx, found, run, trained, note), comment_id)


def standalone_body(
    cfg: Config, ctx: Context, current: Metrics, run: GateRun, comment_id: str = "default"
) -> str:
    """The report when nothing can be compared (e.g. outside a git repository): this run's
    values alone, and the gates."""
    rows = [markdown.Row(k, None, v, current.path) for k, v in current.flat().items()]
    facts = _facts(cfg, ctx)
    data = _input(cfg, ctx, facts, rows, run, metrics.intervals(current.values))
    return markdown.render(data, comment_id)
