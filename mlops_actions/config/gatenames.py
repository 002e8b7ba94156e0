"""What a gate's metric name means in a project with several metrics files.

Every metrics file the project's dvc.yaml files declare is read; a metric is `path:metric`
(the path as DVC's tables print it, relative to the project root), and a bare `metric` when
exactly one file has it. A bare name several files have is a configuration error that lists the
qualified spellings. With one metrics file nothing changes: its bare names, as always.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlops_actions import metrics
from mlops_actions.config.rules import Rule
from mlops_actions.config.settings import SECTION, Config
from mlops_actions.errors import ConfigError
from mlops_actions.metrics import GateNames, Metrics


def files(cfg: Config, current: Metrics) -> dict[str, dict[str, Any]]:
    """{path: flattened metrics} of the workspace: the training metrics file as read, and
    every other metrics file dvc.yaml declares that exists and can be read."""
    declared = cfg.project.metrics if cfg.project is not None else ()
    return metrics.with_declared(current, declared, cfg.resolve)


def values(cfg: Config, current: Metrics) -> GateNames:
    """Every metric of the workspace by the names gates and `metrics.primary` may use."""
    return metrics.gate_names(files(cfg, current))


def check(cfg: Config, names: GateNames, rules: Sequence[Rule]) -> None:
    """A ConfigError for the first rule whose metric several files have."""
    for i, rule in enumerate(rules):
        choices = names.ambiguous.get(rule.metric)
        if choices:
            raise ConfigError(
                f"{cfg.path}: {SECTION}.gates[{i}]: '{rule.metric}' is in {len(choices)} "
                f"metrics files; name one: {', '.join(choices)}"
            )


def current_names(cfg: Config, current: Metrics, rules: Sequence[Rule]) -> GateNames:
    names = values(cfg, current)
    check(cfg, names, rules)
    return names


def base_names(names: GateNames, base: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The base values under the names the workspace's gates use: a bare name means the file
    it means in the workspace (`base` holds bare names of the training file and `path:metric`
    of every file)."""
    if base is None:
        return None
    out = dict(base)
    for bare, full in names.aliases.items():
        if full in base:
            out[bare] = base[full]
    return out
