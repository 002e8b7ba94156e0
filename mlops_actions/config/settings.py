"""Our settings — params.yaml's `mlops:` section — and what dvc.yaml declares, validated into
typed objects.

Everything of ours lives under one top-level key, `mlops:`; every other key of params.yaml is
the user's own and never judged. A DVC pipeline project needs no `mlops:` at all: the mode,
metrics file, model name and path come from its dvc.yaml (`dvcproject`), and `mlops:` refines
them. Every mistake is reported as one line naming the file and the dotted key, e.g.
``params.yaml: mlops.model.estimatr: unknown key (did you mean 'estimator'?)``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args

from mlops_actions import tag
from mlops_actions.config.gates import NO_BASELINE, available
from mlops_actions.config.rules import Rule, parse_rule, parse_rules
from mlops_actions.dvcio import project as dvcproject
from mlops_actions.dvcio.project import DvcProject
from mlops_actions.errors import ConfigError, MetricsError
from mlops_actions.metrics import gate_names, is_number, with_declared
from mlops_actions.metrics import load as load_metrics
from mlops_actions.util import did_you_mean

DEFAULT_PARAMS = "params.yaml"
SECTION = "mlops"
DEFAULT_CACHE_DIR = ".mlops-cache"  # the old default in the workspace: never read unless named
# The training modes: training.TRAINERS holds one trainer for each (tests/test_architecture.py).
Mode = Literal["builtin", "command", "dvc"]
MODES: tuple[Mode, ...] = get_args(Mode)
TASKS = ("auto", "classification", "regression")


@dataclass(frozen=True)
class DataConfig:
    """The builtin trainer's table (`path`, `target` are required in builtin mode). `dvc`:
    the .dvc files to pull; None means every .dvc file of the project."""

    path: str | None = None
    target: str | None = None
    test_size: float = 0.2
    seed: int = 42
    task: str = "auto"
    dvc: list[str] | None = None


@dataclass(frozen=True)
class ModelConfig:
    name: str | None = None  # the registry name; from dvc.yaml's model artifact when unset
    estimator: str = "sklearn.ensemble.RandomForestClassifier"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainConfig:
    mode: str = "builtin"
    command: str | None = None
    metrics: str = "metrics.json"
    confusion_matrix: str = "confusion_matrix.json"
    model: str = "model/model.skops"
    card: str = "model/card.json"
    code: list[str] = field(default_factory=list)
    timeout: float | None = None


@dataclass(frozen=True)
class CacheConfig:
    """`dir` None: outside the workspace (see `default_cache_dir`), so nothing committed to
    the repository can pose as a finished run."""

    enabled: bool = True
    dir: str | None = None


def default_cache_dir(root: Path) -> Path:
    """The run cache of the project at `root`: $RUNNER_TEMP/mlops-actions/<key> in Actions,
    else $XDG_CACHE_HOME (~/.cache)/mlops-actions/<key>; the key tells projects apart."""
    runner_temp = os.environ.get("RUNNER_TEMP")
    if os.environ.get("GITHUB_ACTIONS") == "true" and runner_temp:
        base = Path(runner_temp)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", root.name)[:40] or "project"
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return base / "mlops-actions" / f"{name}-{digest}"


@dataclass(frozen=True)
class MetricsConfig:
    primary: str | None = None
    lower_is_better: list[str] = field(default_factory=list)
    higher_is_better: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PromoteConfig:
    bump: str = "patch"
    stage: str | None = None


@dataclass(frozen=True)
class GateOptions:
    """`no_baseline` is what a relative rule does without base metrics off pull requests; a
    pull request follows its base branch's setting, and is an error when that sets none.
    `rules_from`: what gates a pull request, as its BASE branch sets it: `base` (the default)
    its base branch's rules, `head` its own."""

    no_baseline: str = "skip"
    rules_from: str = "base"
    status_prefix: str = "mlops/gate"
    # pull_request_target with the PR's head checked out runs its code beside a write token.
    allow_pull_request_target: bool = False


@dataclass(frozen=True)
class MonitorConfig:
    """`monitor:`: drift and decay of production data against a version's training data.

    Defaults (see docs/monitoring.md): a feature drifts when its test rejects at the
    Benjamini-Hochberg false discovery rate `fdr` across all features AND its PSI is at least
    `psi` (the test alone flags negligible shifts on large samples, PSI alone is noisy on
    small ones); the data drifts when more than `share` of the features drift.
    """

    data: str
    stage: str | None = None
    fdr: float = 0.05
    psi: float = 0.1
    share: float = 0.0
    bins: int = 10
    decay: list[str] | None = None  # gate rules against the version's metrics (`base`)
    retrain: bool = False


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    gates: list[str] = field(default_factory=list)
    gate_options: GateOptions = field(default_factory=GateOptions)
    promote: PromoteConfig = field(default_factory=PromoteConfig)
    report: dict[str, Any] = field(default_factory=dict)
    monitor: MonitorConfig | None = None
    sweep: dict[str, Any] | None = None  # as written; config/sweep.py reads and validates it
    path: str = DEFAULT_PARAMS
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # whole file
    rules: tuple[Rule, ...] = ()  # `gates`, parsed once at load
    project: DvcProject | None = field(default=None, compare=False, repr=False)
    plots: tuple[str, ...] = ()  # what dvc.yaml declares under `plots:`, for the report

    @property
    def root(self) -> Path:
        return Path(self.path).resolve().parent

    def resolve(self, relative: str) -> Path:
        """A path from params.yaml, relative to the directory that holds it."""
        return self.root / relative

    @property
    def cache_dir(self) -> Path:
        """The run cache directory: `mlops.cache.dir` when set, else outside the workspace."""
        if self.cache.dir is not None:
            return self.resolve(self.cache.dir)
        return default_cache_dir(self.root)

    @property
    def cache_skip(self) -> tuple[str, ...]:
        """Directories the walk for .dvc and dvc.yaml files leaves out."""
        return (self.cache.dir or DEFAULT_CACHE_DIR,)

    @property
    def section(self) -> dict[str, Any]:
        """params.yaml's `mlops:` section as written (empty when there is none)."""
        found = self.raw.get(SECTION)
        return found if isinstance(found, dict) else {}

    @property
    def model_name(self) -> str:
        """The registry name, where one is required (promotion, the registry)."""
        if self.model.name is None:
            raise ConfigError(
                f"{self.path}: {SECTION}.model.name: not set; declare an artifact of type "
                f"model in dvc.yaml or set {SECTION}.model.name"
            )
        return self.model.name

    def training_params(self) -> dict[str, Any]:
        """The settings that decide what a builtin run produces (the run-cache key)."""
        return {key: self.section.get(key) for key in ("data", "model", "train")}


_INTERNAL = {"path", "raw", "rules", "project", "plots"}
# Our old layout, at the top level of params.yaml: keys no project uses for its own params.
_OLD_LAYOUT = {"gates": None, "gate_options": None, "promote": "bump", "model": "estimator"}


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return "a list"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, "null" if tp is type(None) else str(tp)
    )


def _convert(value: Any, tp: Any, key: str, file: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key, file)
            except ConfigError:
                continue
        raise ConfigError(f"{file}: {key}: expected {_type_name(tp)}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key, file)  # type: ignore[arg-type]
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{file}: {key}: expected a list, got {value!r}")
        (item,) = typing.get_args(tp)
        return [_convert(v, item, f"{key}[{i}]", file) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{file}: {key}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{file}: {key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{file}: {key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{file}: {key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{file}: {key}: expected a non-empty string, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {tp!r}")  # pragma: no cover


def _build(cls: type[Any], data: Any, prefix: str, file: str) -> Any:
    where = f"{prefix}: " if prefix else ""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: {where}expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    internal = _INTERNAL if cls is Config else set()
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in internal}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            hint = did_you_mean(str(key), set(fields))
            raise ConfigError(f"{file}: {dotted}: unknown key{hint}")
        kwargs[key] = _convert(value, hints[key], dotted, file)
    for name, f in fields.items():
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if name not in kwargs and no_default:
            dotted = f"{prefix}.{name}" if prefix else name
            raise ConfigError(f"{file}: {dotted}: required key is missing")
    return cls(**kwargs)


def _check_choice(value: str, choices: tuple[str, ...], key: str, file: str) -> None:
    if value not in choices:
        hint = did_you_mean(value, set(choices))
        raise ConfigError(f"{file}: {key}: '{value}' is not one of {', '.join(choices)}{hint}")


def is_registry_name(name: str) -> bool:
    """`churn-model`, or GTO's `sub/folder:churn-model` for a dvc.yaml in a subfolder."""
    folder, _, base = name.rpartition(":")
    return tag.is_model_name(base) and (not folder or tag.is_name(name))


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
    if cfg.model.name is not None and not is_registry_name(cfg.model.name):
        raise ConfigError(
            f"{file}: {m}.model.name: '{cfg.model.name}' is not a valid registry name "
            "(lowercase letters, digits and dashes, e.g. 'churn-model')"
        )
    if cfg.train.mode == "command" and not cfg.train.command:
        raise ConfigError(f"{file}: {m}.train.command: required when {m}.train.mode is 'command'")
    if cfg.train.mode == "builtin":
        missing = [k for k in ("path", "target") if getattr(cfg.data, k) is None]
        if missing:
            keys = " and ".join(f"{m}.data.{k}" for k in missing)
            raise ConfigError(
                f"{file}: {keys}: required when {m}.train.mode is 'builtin' (the table to "
                "train on and its target column)"
            )
    if "." not in cfg.model.estimator:
        raise ConfigError(
            f"{file}: {m}.model.estimator: '{cfg.model.estimator}' is not an import path "
            "(e.g. sklearn.ensemble.RandomForestClassifier)"
        )
    if cfg.project is not None and cfg.train.mode == "dvc":
        declared = cfg.project.metrics
        if declared and cfg.train.metrics not in declared:
            raise ConfigError(
                f"{file}: {m}.train.metrics: '{cfg.train.metrics}' is not a metrics file "
                f"dvc.yaml declares ({', '.join(declared)}); set {m}.train.metrics to one of them"
            )


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


def _derived(section: dict[str, Any], project: DvcProject | None, file: str) -> dict[str, Any]:
    """`section` with what dvc.yaml declares filled in where the user set nothing: mode dvc,
    the first declared metrics file, the model artifact's name and path, and our model card
    in the cache directory."""
    if project is None:
        return section
    train = section.get("train")
    train = dict(train) if isinstance(train, dict) else train
    mode = train.get("mode", "dvc") if isinstance(train, dict) else "dvc"
    if mode == "builtin" or not isinstance(train, (dict, type(None))):
        return section
    train = train or {}
    model = section.get("model")
    model = dict(model) if isinstance(model, dict) else ({} if model is None else model)
    if not isinstance(model, dict):
        return section
    train.setdefault("mode", mode)
    # Our model card stays out of the user's tree, beside the run cache.
    cache = section.get("cache")
    cache_dir = cache.get("dir") if isinstance(cache, dict) else None
    if not isinstance(cache_dir, str) or not cache_dir:
        cache_dir = str(default_cache_dir(Path(file).resolve().parent))
    train.setdefault("card", f"{cache_dir}/card.json")
    if project.metrics:
        train.setdefault("metrics", project.metrics[0])
    models = project.models
    name = model.get("name")
    if name is None and len(models) > 1:
        names = ", ".join(a.name for a in models)
        raise ConfigError(
            f"{project.files[0]}: declares {len(models)} model artifacts ({names}); set "
            f"{SECTION}.model.name in {file} to the one to register"
        )
    chosen = project.artifact(name) if isinstance(name, str) else (models[0] if models else None)
    if chosen is not None:
        if name is None and not is_registry_name(chosen.name):
            raise ConfigError(
                f"{chosen.file}: artifacts.{chosen.name.rpartition(':')[2]}: '{chosen.name}' "
                "is not a valid registry name (lowercase letters, digits and dashes); rename "
                f"it or set {SECTION}.model.name in {file}"
            )
        model.setdefault("name", chosen.name)
        if chosen.path:
            train.setdefault("model", chosen.path)
    return {**section, "train": train, "model": model}


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
    cfg: Config = _build(Config, _derived(section, project, file), SECTION, file)
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


def _cache_dir(data: Any) -> str:
    """mlops.cache.dir as written, leniently: the walk for dvc.yaml files skips it."""
    node: Any = data
    for key in (SECTION, "cache", "dir"):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, str) and node else DEFAULT_CACHE_DIR


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


def load(path: str | Path = DEFAULT_PARAMS, *, check_metrics: bool = False) -> Config:
    """params.yaml at `path`, validated. `check_metrics`: also check `mlops.metrics.primary`
    against the metrics file when it exists (for the commands that read the metrics; the
    ones that train check it against what the training wrote)."""
    cfg = _load(path)
    if check_metrics:
        _check_primary_file(cfg)
    return cfg


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
