"""Our settings as typed records: params.yaml's `mlops:` section, one dataclass per key.

`settings` builds them (`settings.load`), checks them and fills in what dvc.yaml declares;
everything else only reads them.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions.config.rules import Rule
from mlops_actions.dvcio.project import DvcProject
from mlops_actions.errors import ConfigError

DEFAULT_PARAMS = "params.yaml"
SECTION = "mlops"
DEFAULT_CACHE_DIR = ".mlops-cache"  # the old default in the workspace: never read unless named
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


# Config fields `settings` fills itself: never keys of `mlops:`.
INTERNAL = frozenset({"path", "raw", "rules", "project", "plots"})
