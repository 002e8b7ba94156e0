"""params.yaml, validated into typed objects.

Every mistake is reported as one line that names the file and the dotted key, e.g.
``params.yaml: model.estimatr: unknown key (did you mean 'estimator'?)``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from mlops_actions import tag
from mlops_actions.errors import ConfigError
from mlops_actions.gates import NO_BASELINE
from mlops_actions.rules import Rule, parse_rule, parse_rules
from mlops_actions.training import TRAINERS
from mlops_actions.util import did_you_mean

DEFAULT_PARAMS = "params.yaml"
MODES = tuple(TRAINERS)
TASKS = ("auto", "classification", "regression")


@dataclass(frozen=True)
class DataConfig:
    path: str
    target: str
    test_size: float = 0.2
    seed: int = 42
    task: str = "auto"
    dvc: list[str] = field(default_factory=lambda: ["data.dvc"])


@dataclass(frozen=True)
class ModelConfig:
    name: str
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
    enabled: bool = True
    dir: str = ".mlops-cache"


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
    no_baseline: str = "skip"
    status_prefix: str = "mlops/gate"


@dataclass(frozen=True)
class MonitorConfig:
    """`monitor:`: drift and decay of production data against a version's training data.

    Defaults (see the README's Monitoring): a feature drifts when its test rejects at the
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
    data: DataConfig
    model: ModelConfig
    train: TrainConfig = field(default_factory=TrainConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    gates: list[str] = field(default_factory=list)
    gate_options: GateOptions = field(default_factory=GateOptions)
    promote: PromoteConfig = field(default_factory=PromoteConfig)
    report: dict[str, Any] = field(default_factory=dict)
    monitor: MonitorConfig | None = None
    path: str = DEFAULT_PARAMS
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    rules: tuple[Rule, ...] = ()  # `gates`, parsed once at load

    @property
    def root(self) -> Path:
        return Path(self.path).resolve().parent

    def resolve(self, relative: str) -> Path:
        """A path from params.yaml, relative to the directory that holds it."""
        return self.root / relative

    def training_params(self) -> dict[str, Any]:
        """The sections that decide what a training run produces (the run-cache key)."""
        return {key: self.raw.get(key) for key in ("data", "model", "train")}


_INTERNAL = {"path", "raw", "rules"}


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


def _validate(cfg: Config, file: str) -> None:

    _check_choice(cfg.promote.bump, ("patch", "minor", "major"), "promote.bump", file)
    if cfg.promote.stage is not None and not tag.is_stage(cfg.promote.stage):
        raise ConfigError(f"{file}: promote.stage: '{cfg.promote.stage}' is not a valid stage name")
    _check_choice(cfg.gate_options.no_baseline, NO_BASELINE, "gate_options.no_baseline", file)
    _check_choice(cfg.train.mode, MODES, "train.mode", file)
    _check_choice(cfg.data.task, TASKS, "data.task", file)
    if not 0 < cfg.data.test_size < 1:
        raise ConfigError(
            f"{file}: data.test_size: must be between 0 and 1, got {cfg.data.test_size}"
        )
    if not tag.is_model_name(cfg.model.name):
        raise ConfigError(
            f"{file}: model.name: '{cfg.model.name}' is not a valid registry name "
            "(lowercase letters, digits and dashes, e.g. 'churn-model')"
        )
    if cfg.train.mode == "command" and not cfg.train.command:
        raise ConfigError(f"{file}: train.command: required when train.mode is 'command'")
    if "." not in cfg.model.estimator:
        raise ConfigError(
            f"{file}: model.estimator: '{cfg.model.estimator}' is not an import path "
            "(e.g. sklearn.ensemble.RandomForestClassifier)"
        )


def _validate_monitor(m: MonitorConfig, file: str) -> None:
    if m.stage is not None and not tag.is_stage(m.stage):
        raise ConfigError(f"{file}: monitor.stage: '{m.stage}' is not a valid stage name")
    if not 0 < m.fdr < 1:
        raise ConfigError(f"{file}: monitor.fdr: must be between 0 and 1, got {m.fdr}")
    if not 0 <= m.share < 1:
        raise ConfigError(f"{file}: monitor.share: must be at least 0 and below 1, got {m.share}")
    if m.psi < 0:
        raise ConfigError(f"{file}: monitor.psi: must be at least 0, got {m.psi}")
    if not 2 <= m.bins <= 100:
        raise ConfigError(f"{file}: monitor.bins: must be between 2 and 100, got {m.bins}")
    for index, text in enumerate(m.decay or []):
        try:
            parse_rule(text)
        except ValueError as exc:
            raise ConfigError(f"{file}: monitor.decay[{index}]: '{text}': {exc}") from None


def parse(data: Any, file: str = DEFAULT_PARAMS) -> Config:
    if data is None:
        raise ConfigError(f"{file}: the file is empty; it needs at least 'data' and 'model'")
    cfg: Config = _build(Config, data, "", file)
    _validate(cfg, file)
    if cfg.monitor is not None:
        _validate_monitor(cfg.monitor, file)
    rules = tuple(parse_rules(cfg.gates, file))
    return dataclasses.replace(cfg, path=file, raw=data, rules=rules)


def load(path: str | Path = DEFAULT_PARAMS) -> Config:
    import yaml

    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: not found; create it (see the README's params.yaml) or pass --params"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{file}: not valid YAML{where}: {problem}") from None
    return parse(data, file)
