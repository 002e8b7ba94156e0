"""What every training mode shares: the Trainer protocol and the records it returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

# The workspace model card of a run cache hit carries this key: promotion refuses such a model.
RESTORED = "restored_from_run_cache"

if TYPE_CHECKING:
    from mlops_actions.config.settings import Config
    from mlops_actions.metrics import Metrics


@dataclass(frozen=True)
class Artifacts:
    """Where a training run put its files (absolute paths; model, confusion and plots optional)."""

    metrics: Path
    model: Path | None = None
    confusion: Path | None = None
    plots: tuple[Path, ...] = ()  # plot data files, under the staging directory
    up_to_date: bool = False  # `dvc repro` found every stage up to date: nothing was trained


class Trainer(Protocol):
    """A training mode. `code_files` and `versions` feed the run-cache key; `train` works."""

    mode: str

    def code_files(self, cfg: Config) -> list[Path]: ...

    def versions(self, cfg: Config) -> dict[str, str]: ...

    def train(self, cfg: Config, staging: Path) -> Artifacts: ...


@dataclass(frozen=True)
class TrainResult:
    mode: str
    cache_hit: bool
    fingerprint: str
    metrics: Metrics
    metrics_path: Path
    model_path: Path | None
    card_path: Path
    seconds: float
    up_to_date: bool = False  # see Artifacts
