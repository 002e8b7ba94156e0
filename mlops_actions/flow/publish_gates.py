"""The gates the publishing job posts: evaluated there, from rules it reads itself.

The results file comes from a job that ran the pull request's code, so its gate records say
only what that code wanted said. The publishing job takes from them nothing but the numbers
(which that code produced anyway) and evaluates, through the contents API:

- on a pull request, the rules of its BASE commit, with the base's `no_baseline` (an error
  when it sets none). Only the base can choose the pull request's own rules
  (`mlops.gate_options.rules_from: head`); when the pull request changes the rules, the base's
  still gate it (the training job's report says what its own would say, as information);
- on a push, the rules of the pushed commit.

A forged state, a rule the base does not have, or a rule left out of the records changes no
status.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops_actions import yaml12
from mlops_actions.config import gates
from mlops_actions.config.rules import Rule, parse_rules
from mlops_actions.errors import MlopsError
from mlops_actions.flow.results import Results

if TYPE_CHECKING:
    from mlops_actions.github.client import GitHub


@dataclass(frozen=True)
class Settings:
    """The gate settings of one commit's params file, read leniently."""

    sha: str
    gates: list[str] | None = None
    no_baseline: str | None = None
    rules_from: str | None = None


@dataclass(frozen=True)
class Trusted:
    """What the statuses are computed from, and where it was read."""

    rules: tuple[Rule, ...]
    no_baseline: str
    where: str  # "params.yaml at 3f2c1aa (the base branch)"


def settings_at(gh: GitHub, params: str, sha: str) -> Settings:
    """`mlops.gates` and its options in `params` at commit `sha`, asked of GitHub."""
    raw = gh.file_at(params, sha)
    try:
        loaded: Any = yaml12.load(raw) if raw else None
    except yaml12.YamlError:
        loaded = None
    section = loaded.get("mlops") if isinstance(loaded, dict) else None
    section = section if isinstance(section, dict) else {}
    options = section.get("gate_options")
    options = options if isinstance(options, dict) else {}
    found = section.get("gates")

    def text(key: str) -> str | None:
        value = options.get(key)
        return value if isinstance(value, str) and value else None

    return Settings(
        sha=sha,
        gates=[str(g) for g in found] if isinstance(found, list) else None,
        no_baseline=text("no_baseline"),
        rules_from=text("rules_from"),
    )


def _rules(settings: Settings, params: str) -> tuple[Rule, ...]:
    where = f"{params} at {settings.sha[:7]}"
    try:
        return tuple(parse_rules(settings.gates or [], where))
    except MlopsError as exc:
        raise MlopsError(f"{exc}; the gates cannot be evaluated") from None


def trusted(gh: GitHub, params: str, *, head: str, base: str | None, pull_request: bool) -> Trusted:
    """The rules to evaluate: the base commit's on a pull request, the commit's own else."""
    params = _relative(params)
    if pull_request and base is None:
        raise MlopsError(
            "the event names no base commit for the pull request: cannot read the rules that "
            "gate it; refusing to publish statuses"
        )
    if not pull_request or base is None:
        own = settings_at(gh, params, head)
        no_baseline = own.no_baseline if own.no_baseline in gates.NO_BASELINE else "skip"
        return Trusted(_rules(own, params), no_baseline, f"{params} at {head[:7]}")
    at_base = settings_at(gh, params, base)
    no_baseline = at_base.no_baseline if at_base.no_baseline in gates.NO_BASELINE else "error"
    if at_base.rules_from == "head":
        at_head = settings_at(gh, params, head)
        where = f"{params} at {head[:7]} (the pull request; its base sets `rules_from: head`)"
        return Trusted(_rules(at_head, params), no_baseline, where)
    where = f"{params} at {base[:7]} (the base branch)"
    return Trusted(_rules(at_base, params), no_baseline, where)


def _relative(params: str) -> str:
    """The params file as a path in the repository: `./params.yaml` is `params.yaml`."""
    path = posixpath.normpath(params.replace("\\", "/"))
    if path.startswith(("/", "../")) or path in ("..", "."):
        raise MlopsError(
            f"--params {params}: not a file inside the repository; give its path from the "
            "repository's root (e.g. params.yaml, or ml/params.yaml)"
        )
    return path


def values(found: Results) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, float]]:
    """The numbers of the results: this run's metrics, the base's (None when it had none) and
    the base's noise (half its confidence interval), by flattened metric name."""
    current: dict[str, Any] = {}
    base: dict[str, Any] = {}
    noise: dict[str, float] = {}
    report = found.report
    if report is not None:
        for row in report.metrics:
            if row.new is not None:
                current.setdefault(row.name, row.new)
            if row.old is not None:
                base.setdefault(row.name, row.old)
        noise = {name: (high - low) / 2 for name, (low, high) in report.base_intervals.items()}
    for rec in found.gates:  # a gate's metric the report left out
        metric = _metric(rec.rule)
        if metric is not None and rec.value is not None:
            current.setdefault(metric, rec.value)
        if metric is not None and rec.baseline is not None:
            base.setdefault(metric, rec.baseline)
    had_base = report is not None and report.baseline is not None
    return current, (base if base or had_base else None), noise


def _metric(text: str) -> str | None:
    try:
        return parse_rules([text], "results")[0].metric
    except MlopsError:
        return None


def evaluate(found: Results, rules: Trusted, prefix: str) -> list[gates.GateResult]:
    """The statuses: each trusted rule against the results' numbers."""
    current, base, noise = values(found)
    return gates.evaluate(
        rules.rules,
        current,
        base,
        no_baseline=rules.no_baseline,
        prefix=prefix,
        noise=noise,
        source="the results",
    )
