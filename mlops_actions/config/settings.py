"""Our settings — params.yaml's `mlops:` section — and what dvc.yaml declares, loaded and
validated into typed objects (`records`).

Everything of ours lives under one top-level key, `mlops:`; every other key of params.yaml is
the user's own and never judged. A DVC pipeline project needs no `mlops:` at all: the mode,
metrics file, model name and path come from its dvc.yaml (`declared`), and `mlops:` refines
them. Every mistake is reported as one line naming the file and the dotted key, e.g.
``params.yaml: mlops.model.estimatr: unknown key (did you mean 'estimator'?)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_actions import tag
from mlops_actions.config import declared
from mlops_actions.config.gates import NO_BASELINE, available
from mlops_actions.config.modes import MODES as MODES
from mlops_actions.config.modes import NEEDS
from mlops_actions.config.modes import Mode as Mode
from mlops_actions.config.records import DEFAULT_CACHE_DIR, INTERNAL, TASKS
from mlops_actions.config.records import DEFAULT_PARAMS as DEFAULT_PARAMS
from mlops_actions.config.records import SECTION as SECTION
from mlops_actions.config.records import CacheConfig as CacheConfig
from mlops_actions.config.records import Config as Config
from mlops_actions.config.records import DataConfig as DataConfig
from mlops_actions.config.records import GateOptions as GateOptions
from mlops_actions.config.records import MetricsConfig as MetricsConfig
from mlops_actions.config.records import ModelConfig as ModelConfig
from mlops_actions.config.records import MonitorConfig as MonitorConfig
from mlops_actions.config.records import PromoteConfig as PromoteConfig
from mlops_actions.config.records import TrainConfig as TrainConfig
from mlops_actions.config.records import default_cache_dir as default_cache_dir
from mlops_actions.config.rules import parse_rule, parse_rules
from mlops_actions.config.typed import build
from mlops_actions.dvcio import project as dvcproject
from mlops_actions.dvcio.project import DvcProject
from mlops_actions.errors import ConfigError, MetricsError
from mlops_actions.metrics import gate_names, is_number, with_declared
from mlops_actions.metrics import load as load_metrics
from mlops_actions.util import did_you_mean

# Our old layout, at the top level of params.yaml: keys no project uses for its own params.
_OLD_LAYOUT = {"gates": None, "gate_options": None, "promote": "bump", "model": "estimator"}


def load(path: str | Path = DEFAULT_PARAMS, *, check_metrics: bool = False) -> Config:
    """params.yaml at `path`, validated. `check_metrics`: also check `mlops.metrics.primary`
    against the metrics file when it exists (for the commands that read the metrics; the
    ones that train check it against what the training wrote)."""
    cfg = _load(path)
    if check_metrics:
        _check_primary_file(cfg)
    return cfg


def _check_primary_file(cfg: Config) -> None:
    """check_primary against the metrics file, when one exists and can be read."""
    if cfg.metrics.primary is None:
        return
    try:
        found = load_metrics(cfg.resolve(cfg.train.metrics), cfg.train.metrics)
    except MetricsError:
        return  # no metrics yet, or unreadable: the command that reads them says so
    declared = cfg.project.metrics if cfg.project is not None else ()
    names = gate_names(with_declared(found, declared, cfg.resolve))
    check_primary(cfg, names.values, names.source)


def check_primary(cfg: Config, values: Mapping[str, Any], source: str) -> None:
    """`mlops.metrics.primary` against the flattened metrics `source` holds: a ConfigError
    naming the file, the key and the metrics there are when it is not a numeric metric."""
    primary = cfg.metrics.primary
    if primary is None:
        return
    key = f"{cfg.path}: {SECTION}.metrics.primary"
    if primary not in values:
        raise ConfigError(
            f"{key}: '{primary}' is not a metric in {source}{did_you_mean(primary, set(values))}"
            f"; {available(primary, dict(values), source)}"
        )
    if not is_number(values[primary]):
        raise ConfigError(
            f"{key}: '{primary}' is {values[primary]!r} in {source}, not a number; promotion "
            "compares versions on it, so name a numeric metric"
        )


def _load(path: str | Path) -> Config:
    from mlops_actions import yaml12

    file = str(path)
    root = Path(path).resolve().parent
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        project = dvcproject.read(root) if root.is_dir() else None
        if project is not None:  # a DVC pipeline needs no params file of ours
            return parse({}, file, project)
        raise ConfigError(
            f"{file}: not found; create it (see docs/params.md) or pass --params"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from None
    try:
        data = yaml12.load(text)
    except yaml12.YamlError as exc:
        raise ConfigError(f"{file}: not valid YAML{exc.where}: {exc.problem}") from None
    return parse(data, file, dvcproject.read(root, skip=(_cache_dir(data),)))


def _cache_dir(data: Any) -> str:
    """mlops.cache.dir as written, leniently: the walk for dvc.yaml files skips it."""
    node: Any = data
    for key in (SECTION, "cache", "dir"):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, str) and node else DEFAULT_CACHE_DIR


def parse(data: Any, file: str = DEFAULT_PARAMS, project: DvcProject | None = None) -> Config:
    """Config from params.yaml's parsed content and the project's dvc.yaml declarations."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a mapping, got {data!r}")
    section = data.get(SECTION)
    if section is None:
        old = _old_layout(data)
        if old:
            raise ConfigError(
                f"{file}: {', '.join(old)}: our settings now live under one top-level key; "
                f"move them under `{SECTION}:` (your own params stay where they are)"
            )
        if project is None:
            raise ConfigError(
                f"{file}: no `{SECTION}:` section and no dvc.yaml; add `{SECTION}:` with "
                "data and model (see docs/params.md) or a DVC pipeline"
            )
        section = {}
    if not isinstance(section, dict):
        raise ConfigError(f"{file}: {SECTION}: expected a mapping, got {section!r}")
    cfg: Config = build(Config, declared.filled(section, project, file), SECTION, file, INTERNAL)
    cfg = dataclasses.replace(
        cfg, path=file, raw=data, project=project, plots=project.plots if project else ()
    )
    _validate(cfg, file)
    if cfg.monitor is not None:
        _validate_monitor(cfg.monitor, file)
    if cfg.sweep is not None:
        _validate_sweep(cfg)
    rules = tuple(parse_rules(cfg.gates, file, f"{SECTION}.gates"))
    return dataclasses.replace(cfg, rules=rules)


def _old_layout(data: dict[str, Any]) -> list[str]:
    """Top-level keys of ours from before `mlops:` (e.g. `gates:`, `model.estimator`)."""
    found = []
    for key, marker in _OLD_LAYOUT.items():
        value = data.get(key)
        if value is not None and (marker is None or (isinstance(value, dict) and marker in value)):
            found.append(key)
    data_section = data.get("data")
    if isinstance(data_section, dict) and "target" in data_section and found:
        found.append("data")
    return found


def _validate(cfg: Config, file: str) -> None:
    m = SECTION
    _check_choice(cfg.promote.bump, ("patch", "minor", "major"), f"{m}.promote.bump", file)
    if cfg.promote.stage is not None and not tag.is_stage(cfg.promote.stage):
        raise ConfigError(
            f"{file}: {m}.promote.stage: '{cfg.promote.stage}' is not a valid stage name"
        )
    no_baseline = f"{m}.gate_options.no_baseline"
    _check_choice(cfg.gate_options.no_baseline, NO_BASELINE, no_baseline, file)
    rules_from = f"{m}.gate_options.rules_from"
    _check_choice(cfg.gate_options.rules_from, ("head", "base"), rules_from, file)
    _check_choice(cfg.train.mode, MODES, f"{m}.train.mode", file)
    _check_choice(cfg.data.task, TASKS, f"{m}.data.task", file)
    if not 0 < cfg.data.test_size < 1:
        raise ConfigError(
            f"{file}: {m}.data.test_size: must be between 0 and 1, got {cfg.data.test_size}"
        )
    if cfg.model.name is not None and not declared.is_registry_name(cfg.model.name):
        raise ConfigError(
            f"{file}: {m}.model.name: '{cfg.model.name}' is not a valid registry name "
            "(lowercase letters, digits and dashes, e.g. 'churn-model')"
        )
    _check_mode_settings(cfg, file)
    if "." not in cfg.model.estimator:
        raise ConfigError(
            f"{file}: {m}.model.estimator: '{cfg.model.estimator}' is not an import path "
            "(e.g. sklearn.ensemble.RandomForestClassifier)"
        )
    _check_mode_metrics(cfg, file)


def _check_choice(value: str, choices: tuple[str, ...], key: str, file: str) -> None:
    if value not in choices:
        hint = did_you_mean(value, set(choices))
        raise ConfigError(f"{file}: {key}: '{value}' is not one of {', '.join(choices)}{hint}")


def _check_mode_settings(cfg: Config, file: str) -> None:
    """The keys the mode cannot run without (`modes.NEEDS`), all missing ones in one line."""
    needs = NEEDS[cfg.train.mode]
    missing = [key for key in needs.required if _value(cfg, key) is None]
    if missing:
        keys = " and ".join(f"{SECTION}.{key}" for key in missing)
        raise ConfigError(
            f"{file}: {keys}: required when {SECTION}.train.mode is "
            f"'{cfg.train.mode}'{needs.required_for}"
        )


def _value(cfg: Config, dotted: str) -> Any:
    """The setting at a dotted key of `mlops:` (e.g. `data.path`)."""
    node: Any = cfg
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def _check_mode_metrics(cfg: Config, file: str) -> None:
    """For a mode that reads only what dvc.yaml declares: `train.metrics` is one of them."""
    listed = cfg.project.metrics if cfg.project is not None else ()
    if NEEDS[cfg.train.mode].declared_metrics and listed and cfg.train.metrics not in listed:
        key = f"{SECTION}.train.metrics"
        raise ConfigError(
            f"{file}: {key}: '{cfg.train.metrics}' is not a metrics file dvc.yaml declares "
            f"({', '.join(listed)}); set {key} to one of them"
        )


def _validate_monitor(m: MonitorConfig, file: str) -> None:
    if m.stage is not None and not tag.is_stage(m.stage):
        raise ConfigError(f"{file}: {SECTION}.monitor.stage: '{m.stage}' is not a valid stage name")
    if not 0 < m.fdr < 1:
        raise ConfigError(f"{file}: {SECTION}.monitor.fdr: must be between 0 and 1, got {m.fdr}")
    if not 0 <= m.share < 1:
        raise ConfigError(
            f"{file}: {SECTION}.monitor.share: must be at least 0 and below 1, got {m.share}"
        )
    if m.psi < 0:
        raise ConfigError(f"{file}: {SECTION}.monitor.psi: must be at least 0, got {m.psi}")
    if not 2 <= m.bins <= 100:
        raise ConfigError(
            f"{file}: {SECTION}.monitor.bins: must be between 2 and 100, got {m.bins}"
        )
    for index, text in enumerate(m.decay or []):
        try:
            parse_rule(text)
        except ValueError as exc:
            raise ConfigError(
                f"{file}: {SECTION}.monitor.decay[{index}]: '{text}': {exc}"
            ) from None


def _validate_sweep(cfg: Config) -> None:
    from mlops_actions.config import sweep

    sweep.from_config(cfg)
