"""The steps that judge a run: which base it is compared with, the base's values, and the
gates against them (a pull request's with its base branch's rules, a promotion's against the
latest promoted version).
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from dataclasses import dataclass

from mlops_actions import git, metrics, registry
from mlops_actions.compare import comparison as compare_mod
from mlops_actions.compare.baseline import Baseline, BaselineMetrics
from mlops_actions.config import gatenames, gates
from mlops_actions.config.settings import Config
from mlops_actions.errors import GitError, MlopsError
from mlops_actions.flow import pr_rules
from mlops_actions.flow.steps import current_metrics
from mlops_actions.github.context import Context
from mlops_actions.metrics import Metrics


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
