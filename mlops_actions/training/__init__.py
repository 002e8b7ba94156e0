"""Training: three modes behind one protocol, and the run cache in front of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlops_actions.config import Config


@dataclass(frozen=True)
class Artifacts:
    """Where a training run put its files (absolute paths; model and confusion optional)."""

    metrics: Path
    model: Path | None = None
    confusion: Path | None = None


class Trainer(Protocol):
    """A training mode. `code_files` feed the run-cache fingerprint; `train` does the work."""

    mode: str

    def code_files(self, cfg: Config) -> list[Path]: ...

    def versions(self, cfg: Config) -> dict[str, str]: ...

    def train(self, cfg: Config, staging: Path) -> Artifacts: ...


def get_trainer(mode: str) -> Trainer:
    if mode == "builtin":
        from mlops_actions.training.builtin import BuiltinTrainer

        return BuiltinTrainer()
    if mode == "command":
        from mlops_actions.training.command import CommandTrainer

        return CommandTrainer()
    from mlops_actions.training.dvc import DvcTrainer

    return DvcTrainer()


@dataclass(frozen=True)
class TrainResult:
    mode: str
    cache_hit: bool
    fingerprint: str
    metrics: dict[str, Any]
    metrics_path: Path
    model_path: Path | None
    card_path: Path
    seconds: float
