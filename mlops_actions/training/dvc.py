"""`dvc repro`: the user's DVC pipeline trains; we read the metrics it declares."""

from __future__ import annotations

import time
from pathlib import Path

from mlops_actions import dvcrepo
from mlops_actions.config import Config
from mlops_actions.data import outputs
from mlops_actions.dvcproject import DvcProject, tracked_files
from mlops_actions.errors import ConfigError, TrainingError
from mlops_actions.training.base import Artifacts
from mlops_actions.training.command import fresh_metrics, run_command
from mlops_actions.training.common import named_code, package_versions


def project(cfg: Config) -> DvcProject:
    """What the project's dvc.yaml files declare (read once, at config load)."""
    if cfg.project is None:
        raise ConfigError(
            f"{cfg.path}: mlops.train.mode: 'dvc' needs a dvc.yaml next to it; none found"
        )
    return cfg.project


def dvc_files(cfg: Config) -> list[str]:
    """The .dvc files whose data the run key already holds (mlops.data.dvc, else all)."""
    if cfg.data.dvc is not None:
        return cfg.data.dvc
    return tracked_files(cfg.root, skip=(cfg.cache.dir,))


class DvcTrainer:
    mode = "dvc"

    def code_files(self, cfg: Config) -> list[Path]:
        declared = project(cfg)
        # Every dependency counts, files and directories alike, except DVC-tracked data: that
        # is in the key already through its .dvc hashes.
        tracked = [
            o.path
            for o in outputs(cfg.root, [f for f in dvc_files(cfg) if cfg.resolve(f).is_file()])
        ]

        def is_data(path: Path) -> bool:
            return any(path == t or t in path.parents for t in tracked)

        deps = [
            d
            for d in declared.deps
            if cfg.resolve(d).exists() and not is_data(cfg.resolve(d).resolve())
        ]
        return named_code(cfg, [*declared.files, *deps])

    def versions(self, cfg: Config) -> dict[str, str]:
        return package_versions("dvc", "scikit-learn", "pandas", "numpy")

    def train(self, cfg: Config, staging: Path) -> Artifacts:
        declared = project(cfg).metrics
        if not declared:
            raise ConfigError(
                "dvc.yaml: declares no metrics; add a `metrics:` entry to the training stage"
            )
        if cfg.train.metrics not in declared:
            raise ConfigError(
                f"{cfg.path}: mlops.train.metrics: '{cfg.train.metrics}' is not a metrics file "
                f"dvc.yaml declares ({', '.join(declared)}); set mlops.train.metrics to it"
            )
        chosen = cfg.train.metrics
        started = time.time()
        run_command(cfg, [*dvcrepo.dvc_command(), "repro"], "dvc repro")
        metrics = fresh_metrics(cfg, cfg.resolve(chosen), started - 1e9, "dvc repro")
        model = cfg.resolve(cfg.train.model)
        if not metrics.is_file():
            raise TrainingError(f"{chosen}: dvc repro did not produce it")
        return Artifacts(metrics=metrics, model=model if model.is_file() else None)
