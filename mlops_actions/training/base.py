"""What every training mode shares: the Trainer protocol and the records it returns.

Everything that differs by `train.mode` is a method or attribute of the trainer, so the rest of
the package asks `training.get_trainer(cfg.train.mode)` instead of comparing mode names:
what a run reads when no .dvc file tracks it, what it fetches and pushes besides the data,
whether the committed dvc.lock describes it, what it records (its settings and plot files).
`NoPipeline` holds the answers of a mode with no DVC pipeline behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mlops_actions.dvcio.data import DataVersion

# The workspace model card of a run cache hit carries this key: promotion refuses such a model.
RESTORED = "restored_from_run_cache"

if TYPE_CHECKING:
    from mlops_actions.config.settings import Config
    from mlops_actions.dvcio.dvcyaml import PlotDecl
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
    # Keys of params.yaml's `mlops:` section that decide what a run produces: the report shows
    # their changes beside the user's own params (the rest of `mlops:` only sets the tool up).
    run_settings: tuple[str, ...]
    # The run's outputs are DVC outputs (its dvc.lock records them): `dvc push` stores them.
    outputs_in_dvc: bool

    def code_files(self, cfg: Config) -> list[Path]: ...

    def versions(self, cfg: Config) -> dict[str, str]: ...

    def train(self, cfg: Config, staging: Path) -> Artifacts: ...

    def untracked_data(self, cfg: Config) -> DataVersion:
        """The data a run reads when no .dvc file tracks any (part of its run-cache key)."""
        ...

    def pull_outputs(self, cfg: Config, *, remote: str | None, jobs: int | None) -> None:
        """Before the data pull: fetch what else the run can restore instead of recomputing."""
        ...

    def push_outputs(self, cfg: Config, *, remote: str | None, jobs: int | None) -> None:
        """After a run that registers: store what a registered version needs fetched later."""
        ...

    def lock_problem(self, cfg: Config) -> str | None:
        """Why the committed lock does not describe this run's result, or None."""
        ...

    def plot_decls(self, cfg: Config, root: Path) -> list[PlotDecl]:
        """The plot files the last run wrote that no dvc.yaml declares, relative to `root`."""
        ...


class NoPipeline:
    """The answers of a mode with no DVC pipeline behind it: nothing to fetch or push besides
    the data, no lock, no table of its own and no plot files beyond what dvc.yaml declares."""

    run_settings: tuple[str, ...] = ()
    outputs_in_dvc = False

    def untracked_data(self, cfg: Config) -> DataVersion:
        return DataVersion(())

    def pull_outputs(self, cfg: Config, *, remote: str | None, jobs: int | None) -> None:
        return None

    def push_outputs(self, cfg: Config, *, remote: str | None, jobs: int | None) -> None:
        return None

    def lock_problem(self, cfg: Config) -> str | None:
        return None

    def plot_decls(self, cfg: Config, root: Path) -> list[PlotDecl]:
        return []


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
