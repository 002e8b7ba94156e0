"""`dvc repro`: the user's DVC pipeline trains; we read the metrics it declares."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mlops_actions import dvcrepo
from mlops_actions.config import Config
from mlops_actions.data import outputs
from mlops_actions.errors import ConfigError, TrainingError
from mlops_actions.training.base import Artifacts
from mlops_actions.training.command import fresh_metrics, run_command
from mlops_actions.training.common import named_code, package_versions


def _path_of(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and len(entry) == 1:
        return str(next(iter(entry)))
    return None


def read_dvc_yaml(cfg: Config) -> dict[str, Any]:
    import yaml

    path = cfg.root / "dvc.yaml"
    if not path.is_file():
        raise ConfigError(f"{cfg.path}: train.mode: 'dvc' needs a dvc.yaml next to it; none found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"dvc.yaml: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("dvc.yaml: expected a mapping with 'stages'")
    return data


def declared_metrics(data: dict[str, Any]) -> list[str]:
    found = [p for p in map(_path_of, data.get("metrics") or []) if p]
    for stage in (data.get("stages") or {}).values():
        if isinstance(stage, dict):
            found += [p for p in map(_path_of, stage.get("metrics") or []) if p]
    return list(dict.fromkeys(found))


def stage_deps(data: dict[str, Any]) -> list[str]:
    deps: list[str] = []
    for stage in (data.get("stages") or {}).values():
        if isinstance(stage, dict):
            deps += [p for p in map(_path_of, stage.get("deps") or []) if p]
    return deps


class DvcTrainer:
    mode = "dvc"

    def code_files(self, cfg: Config) -> list[Path]:
        data = read_dvc_yaml(cfg)
        # Every dependency counts, files and directories alike, except DVC-tracked data: that
        # is in the key already through its .dvc hashes.
        tracked = [
            o.path for o in outputs(cfg.root, [f for f in cfg.data.dvc if cfg.resolve(f).is_file()])
        ]

        def is_data(path: Path) -> bool:
            return any(path == t or t in path.parents for t in tracked)

        deps = [
            d
            for d in stage_deps(data)
            if cfg.resolve(d).exists() and not is_data(cfg.resolve(d).resolve())
        ]
        return named_code(cfg, ["dvc.yaml", *deps])

    def versions(self, cfg: Config) -> dict[str, str]:
        return package_versions("dvc", "scikit-learn", "pandas", "numpy")

    def train(self, cfg: Config, staging: Path) -> Artifacts:
        data = read_dvc_yaml(cfg)
        declared = declared_metrics(data)
        if not declared:
            raise ConfigError(
                "dvc.yaml: declares no metrics; add a `metrics:` entry to the training stage"
            )
        if cfg.train.metrics not in declared:
            raise ConfigError(
                f"{cfg.path}: train.metrics: '{cfg.train.metrics}' is not a metrics file dvc.yaml "
                f"declares ({', '.join(declared)}); set train.metrics to it"
            )
        chosen = cfg.train.metrics
        started = time.time()
        run_command(cfg, [*dvcrepo.dvc_command(), "repro"], "dvc repro")
        metrics = fresh_metrics(cfg, cfg.resolve(chosen), started - 1e9, "dvc repro")
        model = cfg.resolve(cfg.train.model)
        if not metrics.is_file():
            raise TrainingError(f"{chosen}: dvc repro did not produce it")
        return Artifacts(metrics=metrics, model=model if model.is_file() else None)
