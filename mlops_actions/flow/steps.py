"""The steps of a run that fetch and train, each a plain function: settings and typed records
in, a typed record out. `gating` compares the run with its base and applies the gates,
`reporting` gathers what its report shows.

Nothing here prints or writes to GitHub: `console` shows the results to a person, `publish`
leaves them on GitHub and the runner, and `pipeline` puts the steps in order for an event.
What differs by training mode is the trainer's (`training.get_trainer`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from mlops_actions import metrics
from mlops_actions.config import gatenames
from mlops_actions.config.settings import Config, check_primary
from mlops_actions.dvcio import data, project
from mlops_actions.dvcio.data import DataVersion, PullResult
from mlops_actions.errors import ConfigError
from mlops_actions.metrics import Metrics
from mlops_actions.tag import BOT
from mlops_actions.training import get_trainer
from mlops_actions.training.base import TrainResult


@dataclass(frozen=True)
class RunOptions:
    """How `run` works for this event, from the command line (the action passes them as env)."""

    remote: str | None = None
    jobs: int | None = None
    use_cache: bool = True
    comment_id: str = "default"
    comment_author: str = BOT.name  # only this login's comments are updated
    promote: bool = True
    bump: str | None = None
    stage: str | None = None
    release: bool = False
    retrain_token: str | None = None
    record: bool = False  # record the run as a DVC experiment (tracking/)


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pulled:
    version: DataVersion
    dvc_files: list[str]
    result: PullResult | None  # None: no .dvc file, the workspace table is used as it is


def dvc_files(cfg: Config) -> list[str]:
    """The .dvc files to pull: `mlops.data.dvc` when set, else every .dvc file of the project.

    An explicit list must hold the .dvc file that tracks `mlops.data.path`: training on an
    untracked workspace copy would pass here and fail in a fresh clone.
    """
    found = project.tracked_files(cfg.root, skip=cfg.cache_skip)
    if cfg.data.dvc is None:
        return found
    key = f"{cfg.path}: mlops.data.dvc"
    for name in cfg.data.dvc:
        if not cfg.resolve(name).is_file():
            raise ConfigError(f"{key}: '{name}' does not exist; run `dvc add` for the data")
    if cfg.data.path is not None:
        table = cfg.resolve(cfg.data.path).resolve()
        listed = {os.path.normpath(f) for f in cfg.data.dvc}
        for name in found:
            if os.path.normpath(name) in listed:
                continue
            if any(
                o.path == table or o.path in table.parents for o in data.outputs(cfg.root, [name])
            ):
                raise ConfigError(
                    f"{key}: {cfg.data.path} is tracked by {name}; add it to the list"
                )
    return list(cfg.data.dvc)


def pull(cfg: Config, *, remote: str | None = None, jobs: int | None = None) -> Pulled:
    """Pull and verify the versioned data, and first what else the trainer can restore (for
    a DVC pipeline: what the committed dvc.lock records and the remote's run history)."""
    trainer = get_trainer(cfg.train.mode)
    trainer.pull_outputs(cfg, remote=remote, jobs=jobs)
    files = dvc_files(cfg)
    if not files:
        return Pulled(trainer.untracked_data(cfg), [], None)
    result = data.pull(cfg.root, files, remote=remote, jobs=jobs)
    return Pulled(data.describe(cfg.root, result.outputs), files, result)


def verified_data(cfg: Config) -> DataVersion:
    """The data version of the workspace, checked against the .dvc files (no pull)."""
    files = dvc_files(cfg)
    if not files:
        return get_trainer(cfg.train.mode).untracked_data(cfg)
    return data.describe(cfg.root, data.check(cfg.root, files))


# --- training and metrics -------------------------------------------------------------------


def train(
    cfg: Config, version: DataVersion, *, use_cache: bool = True, restore: bool = True
) -> TrainResult:
    """Train, or restore the same run from the run cache; `restore` False always trains
    (a run that may promote: a cache entry is only files, anyone could have written them).
    `mlops.metrics.primary` must name one of the run's metrics."""
    from mlops_actions.training.runner import train as run_training

    result = run_training(cfg, version, use_cache=use_cache, restore=restore)
    names = gatenames.values(cfg, result.metrics)
    check_primary(cfg, names.values, names.source)
    return result


def lock_problem(cfg: Config) -> str | None:
    """Why the committed lock does not describe this run's result (for a DVC pipeline: the
    stages CI re-ran), or None; registering such a commit would tag a model its lock lacks."""
    return get_trainer(cfg.train.mode).lock_problem(cfg)


def push_outputs(cfg: Config, *, remote: str | None = None, jobs: int | None = None) -> None:
    """What a registered version needs fetched later (a DVC pipeline: `dvc push --run-cache`)."""
    get_trainer(cfg.train.mode).push_outputs(cfg, remote=remote, jobs=jobs)


def current_metrics(cfg: Config) -> Metrics:
    return metrics.load(cfg.resolve(cfg.train.metrics), cfg.train.metrics)
