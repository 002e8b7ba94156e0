"""What a run's report shows, gathered from its records: the metrics against the base, the
gates, params and data changes, plots, and the facts of the run (commit, time, model size).
`report.markdown` renders it.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_actions import git, metrics, yaml12
from mlops_actions.compare import comparison as compare_mod
from mlops_actions.config import gates
from mlops_actions.config.settings import SECTION, Config
from mlops_actions.dvcio import data
from mlops_actions.dvcio.diff import Entry
from mlops_actions.errors import ConfigError, GitError, MlopsError
from mlops_actions.flow.gating import GateRun, base_intervals
from mlops_actions.flow.steps import dvc_files
from mlops_actions.github.context import Context
from mlops_actions.metrics import Metrics
from mlops_actions.report import markdown
from mlops_actions.training import get_trainer
from mlops_actions.training.base import TrainResult
from mlops_actions.util import file_hash, read_json

if TYPE_CHECKING:
    from mlops_actions.report.plots import Plot
    from mlops_actions.report.standing import Standing


def report_body(
    cfg: Config,
    ctx: Context,
    found: compare_mod.Comparison,
    run: GateRun | None,
    trained: TrainResult | None = None,
    comment_id: str = "default",
    note: str | None = None,
    *,
    ranked: bool = False,
) -> str:
    data = report_parts(cfg, ctx, found, run, trained, note, ranked=ranked)[0]
    return markdown.render(data, comment_id)


def report_parts(
    cfg: Config,
    ctx: Context,
    found: compare_mod.Comparison,
    run: GateRun | None,
    trained: TrainResult | None = None,
    note: str | None = None,
    *,
    ranked: bool = False,
) -> tuple[markdown.ReportInput, list[Plot], list[str]]:
    """The report's inputs, and the plots and notes its Plots section is drawn from (a results
    file carries those, for the publishing job to draw). `ranked` (recording is on): with the
    run's standing among the recorded runs."""
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
    if ranked:
        data = dataclasses.replace(data, standing=standing_of(cfg, ctx, data))
    return data, drawn, plot_notes


def standing_of(cfg: Config, ctx: Context, data: markdown.ReportInput) -> Standing | None:
    """Where this run stands among the recorded runs of its model (tracking.standing). Outside
    Actions a run recorded before the report (`train --record`, then `report`) is this one
    when it is on the same commit with the same model file."""
    from mlops_actions.tracking import runrecord, standing
    from mlops_actions.tracking.record import file_sha256

    own = standing.ci_names(ctx.run_url) if ctx.in_actions else set()
    attempt = runrecord.run_id_of(ctx.run_url) if ctx.in_actions else None
    sha = None if ctx.in_actions else file_sha256(cfg.resolve(cfg.train.model))
    return standing.of_report(
        cfg.root,
        data,
        model=cfg.model.name,
        own=own,
        model_sha256=sha,
        run_id=attempt[0] if attempt else None,
    )


def standalone_body(
    cfg: Config,
    ctx: Context,
    current: Metrics,
    run: GateRun,
    comment_id: str = "default",
    *,
    ranked: bool = False,
) -> str:
    """The report when nothing can be compared (e.g. outside a git repository): this run's
    values alone, and the gates."""
    rows = [markdown.Row(k, None, v, current.path) for k, v in current.flat().items()]
    facts = _facts(cfg, ctx)
    data = _input(cfg, ctx, facts, rows, run, metrics.intervals(current.values))
    if ranked:
        data = dataclasses.replace(data, standing=standing_of(cfg, ctx, data))
    return markdown.render(data, comment_id)


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


def display_name(cfg: Config) -> str:
    """The registry name, else the project directory's (a project with no model artifact)."""
    return cfg.model.name or cfg.root.name


def _verdict(cfg: Config, run: GateRun | None) -> str | None:
    """The report's first line: the gates' outcome."""
    return gates.headline(run.results) if run is not None else None


def _gates_markdown(cfg: Config, run: GateRun | None) -> str | None:
    if not cfg.rules and not (run and run.results):
        return gates.NO_GATES
    if not (run and run.results):
        return None
    return gates.render_markdown(run.results, with_headline=False)  # the report's first line


def _precision(cfg: Config) -> int | None:
    value = cfg.report.get("precision") if isinstance(cfg.report, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise ConfigError(
            f"{cfg.path}: report.precision: expected significant digits from 1 to 12, got {value!r}"
        )
    return value


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


def _head(cfg: Config, ctx: Context) -> tuple[str | None, str | None]:
    sha = ctx.status_sha or git.head_sha(cfg.root)
    if not sha:
        return None, None
    url = f"{ctx.server_url}/{ctx.repository}/commit/{sha}" if ctx.repository else None
    return sha, url


def _current_intervals(cfg: Config) -> dict[str, tuple[float, float]]:
    try:
        return metrics.intervals(metrics.read(cfg.resolve(cfg.train.metrics)))
    except MlopsError:
        return {}


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


def _plots(
    cfg: Config, found: compare_mod.Comparison, first: bool
) -> tuple[list[Plot], list[str], bool]:
    """What the Plots section shows: every declared plot (and those of the trainer's own that
    no dvc.yaml declares) against the base, the notes on what could not be read, and whether it
    holds the trainer's own confusion matrix."""
    from mlops_actions.report import plots

    root = found.root or cfg.root
    extra = get_trainer(cfg.train.mode).plot_decls(cfg, root)
    # The base commit's plots whenever there is one, metrics or not: `--base` or not, the same.
    base = None if first else found.baseline.sha
    drawn, notes = plots.read(root, base, extra)
    ids = {p.id for p in drawn if p.kind == "confusion"}
    return drawn, notes, any(d.id in ids for d in extra)


def _user_params(cfg: Config, found: compare_mod.Comparison) -> list[markdown.Row]:
    """The params rows a reviewer reads: what the model learnt from. Our `mlops:` section is
    how the tool is set up (DVC's own diff shows it all); only the settings that decide the
    trainer's run (the built-in trainer's data, model and train) stay."""
    ours = posixpath.normpath(os.path.relpath(cfg.path, cfg.root))
    trains = tuple(f"{SECTION}.{k}." for k in get_trainer(cfg.train.mode).run_settings)

    def shown(e: Entry) -> bool:
        if e.path != ours or not (e.key == SECTION or e.key.startswith(f"{SECTION}.")):
            return True
        return e.key.startswith(trains)

    return [markdown.Row(e.key, e.old, e.new, e.path) for e in found.rows("params") if shown(e)]


def _data_changes(cfg: Config, base_sha: str | None) -> list[markdown.DataChange]:
    changes = []
    for name in dvc_files(cfg):
        for out in data.read_dvc_file(cfg.resolve(name), cfg.root):
            nfiles = out.nfiles or (None if out.is_dir else 1)
            old = _dvc_hash_at(cfg, base_sha, name)
            changes.append(markdown.DataChange(name, old, out.md5, nfiles, out.size))
    return changes


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
