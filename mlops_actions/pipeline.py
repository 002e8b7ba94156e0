"""The path of one run, top to bottom: each step a plain function on plain data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from mlops_actions import data, output
from mlops_actions.config import Config
from mlops_actions.errors import ConfigError
from mlops_actions.training import TrainResult
from mlops_actions.util import file_hash


@dataclass(frozen=True)
class RunOptions:
    remote: str | None = None
    jobs: int | None = None
    use_cache: bool = True


def _dvc_files(cfg: Config) -> list[str]:
    """The .dvc files to use; the default data.dvc may be absent (data kept in git)."""
    explicit = isinstance(cfg.raw.get("data"), dict) and "dvc" in cfg.raw["data"]
    present = [f for f in cfg.data.dvc if cfg.resolve(f).is_file()]
    if explicit and len(present) < len(cfg.data.dvc):
        missing = next(f for f in cfg.data.dvc if f not in present)
        raise ConfigError(
            f"{cfg.path}: data.dvc: '{missing}' does not exist; run `dvc add` for the data"
        )
    return present


def _untracked_version(cfg: Config) -> dict[str, dict[str, Any]]:
    path = cfg.resolve(cfg.data.path)
    if not path.is_file():
        raise ConfigError(f"{cfg.path}: data.path: '{cfg.data.path}' does not exist")
    return {
        cfg.data.path: {
            "dvc_file": None,
            "sha256": file_hash(path),
            "md5": file_hash(path, "md5"),
            "size": path.stat().st_size,
            "nfiles": 1,
        }
    }


def pull(cfg: Config, options: RunOptions) -> dict[str, dict[str, Any]]:
    """Pull and verify the versioned data; returns the data version for training."""
    files = _dvc_files(cfg)
    if not files:
        output.info(f"no .dvc file found; using {cfg.data.path} as it is in the workspace")
        return _untracked_version(cfg)
    result = data.pull(cfg.root, files, remote=options.remote, jobs=options.jobs)
    verb = "pulled and verified" if result.pulled else "up to date:"
    output.info(
        f"data {verb} {_plural(result.files, 'file')}, {_size(result.size)} ({', '.join(files)})"
    )
    return data.describe(cfg.root, result.outputs)


def verified_data(cfg: Config) -> dict[str, dict[str, Any]]:
    """The data version of the workspace, checked against the .dvc files (no pull)."""
    files = _dvc_files(cfg)
    if not files:
        return _untracked_version(cfg)
    return data.describe(cfg.root, data.check(cfg.root, files))


def train(cfg: Config, version: dict[str, dict[str, Any]], options: RunOptions) -> TrainResult:
    from mlops_actions.training.runner import train as run_training

    result = run_training(cfg, version, use_cache=options.use_cache)
    where = os.path.relpath(result.metrics_path, cfg.root)
    if result.cache_hit:
        output.info(f"cache hit: restored {where} and the model from run {result.fingerprint[:12]}")
    else:
        output.info(f"trained ({result.mode}) in {result.seconds:.2f} s; wrote {where}")
    return result


def show_metrics(result: TrainResult) -> None:
    from tabulate import tabulate

    from mlops_actions.metrics import scalars

    rows = [(k, _fmt(v)) for k, v in scalars(result.metrics).items()]
    output.info(tabulate(rows, headers=["metric", "value"], tablefmt="simple"))


def run(cfg: Config, options: RunOptions) -> int:
    version = pull(cfg, options)
    result = train(cfg, version, options)
    show_metrics(result)
    return 0


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "—" if value is None else str(value)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
