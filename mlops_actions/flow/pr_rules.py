"""What a pull request is gated with: its base branch's settings, so that it cannot remove,
move or rename its own baseline, nor loosen its rules. The base branch's rules gate it unless
the base branch itself sets `mlops.gate_options.rules_from: head` (the pull request's own
params.yaml cannot choose that).
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from pathlib import Path

from mlops_actions.compare.baseline import BaseSettings, resolve_baseline, settings_at
from mlops_actions.compare.comparison import Comparison
from mlops_actions.compare.revision import WORKSPACE
from mlops_actions.config import gates
from mlops_actions.config.rules import Rule, parse_rules
from mlops_actions.config.settings import SECTION, Config
from mlops_actions.errors import ConfigError, GitError
from mlops_actions.github.context import Context

_MISSING: set[tuple[str, str]] = set()  # (project root, base branch) this clone lacks


def base_settings(cfg: Config, ctx: Context | None) -> BaseSettings | None:
    """On a pull request, our settings as its base branch has them (what it is gated with);
    None elsewhere, or when the base branch is not in this clone (compare says why)."""
    if ctx is None or not ctx.is_pull_request or not ctx.pr_base_ref:
        return None
    missing = (str(cfg.root), ctx.pr_base_ref)
    if missing in _MISSING:
        return None  # a fetch failed already in this run: one is enough
    try:
        found = resolve_baseline(None, ctx.pr_base_ref, cwd=cfg.root)
    except GitError:
        _MISSING.add(missing)
        return None
    if not found.sha:
        return None
    params = os.path.relpath(Path(cfg.path).resolve(), cfg.root)
    return settings_at(cfg.root, params, found.sha)


def gated_by_base(cfg: Config, ctx: Context | None) -> bool:
    """A pull request gated with its base branch's rules, whatever it left in its own
    params.yaml (even no rules at all: its statuses still report the base's)."""
    settings = base_settings(cfg, ctx)
    if settings is None or not rules_from_base(settings):
        return False
    return bool(settings.gates)


def rules_from_base(settings: BaseSettings) -> bool:
    """The base branch's rules gate a pull request unless the base opts into the pull
    request's own (`rules_from: head`); what the pull request's params.yaml says is not asked."""
    return settings.rules_from != "head"


def rules_change(own: list[Rule], base: list[Rule]) -> str | None:
    """What a pull request changed in the rules, for the report; None when nothing."""
    ours, theirs = [r.normalized for r in own], [r.normalized for r in base]
    if ours == theirs:
        return None
    added = [r for r in ours if r not in theirs]
    removed = [r for r in theirs if r not in ours]
    parts = [
        f"added {', '.join(added)}" if added else "",
        f"removed {', '.join(removed)}" if removed else "",
    ]
    change = "; ".join(p for p in parts if p) or "reordered"
    return f"mlops.gates changed in this pull request ({change}); the base branch's rules gate it"


def own_verdict(said: list[gates.GateResult]) -> str:
    """What a pull request's own rules would say, for the report: information, never a
    status."""
    if not said:
        return "it has no rules of its own"
    parts = [f"{r.rule.normalized}: {r.state} ({r.detail})" for r in said]
    return "its own rules would say (information only): " + "; ".join(parts)


def gated_config(cfg: Config, settings: BaseSettings | None) -> tuple[Config, str | None]:
    """The settings a pull request is gated with: a relative rule with no baseline is an
    error unless its base branch says otherwise (`no_baseline`), and the base branch's rules
    (unless it sets `rules_from: head`); with what the pull request changed in them, if
    anything (information for the report, not a status)."""
    if settings is None:
        return cfg, None
    no_baseline = settings.no_baseline if settings.no_baseline in gates.NO_BASELINE else "error"
    options = dataclasses.replace(cfg.gate_options, no_baseline=no_baseline)
    gated = dataclasses.replace(cfg, gate_options=options)
    if not rules_from_base(settings):
        return gated, None
    where = f"{cfg.path} at {settings.sha[:7]}"
    try:
        base_rules = tuple(parse_rules(settings.gates or [], where, f"{SECTION}.gates"))
    except ConfigError:
        base_rules = ()
    changed = rules_change(list(cfg.rules), list(base_rules))
    return dataclasses.replace(gated, gates=settings.gates or [], rules=base_rules), changed


def unreadable_base(cfg: Config, found: Comparison) -> str | None:
    """Why the base's metrics file, which is there, gave no values (e.g. not valid JSON)."""
    path = found.base_metrics or posixpath.normpath(cfg.train.metrics)
    for error in found.errors:
        if error.rev != WORKSPACE and error.path == path:
            return str(error)
    return None
