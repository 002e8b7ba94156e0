"""One training run: fingerprint, run cache, the trainer, the model card."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_actions import __version__, git, output
from mlops_actions import metrics as metrics_mod
from mlops_actions.config.settings import Config
from mlops_actions.dvcio import data as data_mod
from mlops_actions.dvcio.data import DataVersion
from mlops_actions.training import get_trainer
from mlops_actions.training.base import RESTORED, Artifacts, Trainer, TrainResult
from mlops_actions.training.cache import RunCache, fingerprint, refuse_tracked
from mlops_actions.util import atomic_path, file_hash, read_json, write_json


def _install(src: Path, target: Path) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(src, tmp)


def model_card(
    cfg: Config,
    data: DataVersion,
    key: str,
    versions: dict[str, str],
    metrics: dict[str, Any],
    model: Path | None,
    seconds: float,
) -> dict[str, Any]:
    return {
        "name": cfg.model.name,
        "mode": cfg.train.mode,
        "estimator": cfg.model.estimator if cfg.train.mode == "builtin" else None,
        "params": cfg.training_params() if cfg.train.mode == "builtin" else cfg.raw,
        "data": data.to_json(),
        "git": {"commit": git.head_sha(cfg.root), "dirty": git.is_dirty(cfg.root)},
        "versions": {**versions, "mlops-actions": __version__},
        "metrics": metrics,
        "model": {
            "path": os.path.relpath(model, cfg.root) if model else None,
            "sha256": file_hash(model) if model else None,
        },
        "fingerprint": key,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_seconds": round(seconds, 3),
    }


def _inside(cfg: Config, target: str) -> bool:
    """A workspace path an entry may restore to: inside the project, or the model card."""
    path = cfg.resolve(target).resolve()
    return path == cfg.resolve(cfg.train.card).resolve() or cfg.root in path.parents


def train(
    cfg: Config, data: DataVersion, use_cache: bool = True, restore: bool = True
) -> TrainResult:
    """Train, or restore an identical earlier run from the run cache.

    `data` describes the verified input data (hashes per .dvc output); it is part of the key.
    `restore` False trains even on a hit (and stores the run): what a promotion rests on.
    """
    started = time.perf_counter()
    trainer = get_trainer(cfg.train.mode)
    versions = trainer.versions(cfg)
    key = _key(cfg, trainer, data, versions)
    cache = RunCache(cfg.cache_dir)
    enabled = use_cache and cfg.cache.enabled
    if enabled:
        refuse_tracked(cache.dir, cfg.root, f"{cfg.path}: mlops.cache.dir")
    hit = cache.lookup(key) if enabled and restore else None
    if hit is not None and not all(_inside(cfg, target) for _, target in hit.values()):
        output.warning(f"run cache entry {key[:12]} restores outside the project; training")
        hit = None
    if hit is not None:
        return _restored(cfg, hit, key, started)
    targets = {
        "metrics": cfg.train.metrics,
        "model": cfg.train.model,
        "confusion": cfg.train.confusion_matrix,
        "card": cfg.train.card,
    }
    with tempfile.TemporaryDirectory(prefix="mlops-train-") as tmp:
        staging = Path(tmp)
        artifacts = trainer.train(cfg, staging)
        seconds = time.perf_counter() - started
        files = _staged(cfg, artifacts, staging, targets)
        metrics = metrics_mod.load(artifacts.metrics, files["metrics"][1])
        card = model_card(cfg, data, key, versions, metrics.json(), artifacts.model, seconds)
        _describe_outputs(card, files)
        write_json(staging / "card.json", card)
        files["card"] = (staging / "card.json", targets["card"])
        # Install the workspace files only once every one of them exists.
        for src, target in files.values():
            if staging in src.parents:
                _install(src, cfg.resolve(target))
        if enabled:
            cache.store(key, files)
    if not enabled:
        output.info("run cache disabled")
    return TrainResult(
        mode=cfg.train.mode,
        cache_hit=False,
        fingerprint=key,
        metrics=metrics,
        metrics_path=cfg.resolve(files["metrics"][1]),
        model_path=cfg.resolve(files["model"][1]) if "model" in files else None,
        card_path=cfg.resolve(targets["card"]),
        seconds=seconds,
        up_to_date=artifacts.up_to_date,
    )


def _key(cfg: Config, trainer: Trainer, data: DataVersion, versions: dict[str, str]) -> str:
    """The run-cache key: the data's hashes, the params, the code and the library versions."""
    params = cfg.training_params() if cfg.train.mode == "builtin" else cfg.raw
    hashes = data.hashes()
    if cfg.train.mode == "builtin" and cfg.data.path is not None and cfg.data.path not in data:
        # A table DVC does not record (added to a tracked directory without `dvc add`, or
        # outside DVC) needs its own hash: otherwise a changed file could hit the cache.
        table = cfg.resolve(cfg.data.path)
        if table.is_file() and not data_mod.recorded(cfg.root, data.dvc_files, table):
            hashes[f"table:{cfg.data.path}"] = file_hash(table)
    return fingerprint(hashes, params, trainer.code_files(cfg), cfg.root, versions, cfg.train.mode)


def _restored(
    cfg: Config, hit: dict[str, tuple[Path, str]], key: str, started: float
) -> TrainResult:
    """Install a run cache hit's files in the workspace."""
    for src, target in hit.values():
        _install(src, cfg.resolve(target))
    if "card" in hit:  # tells `promote` this model was not trained in this job
        card_path = cfg.resolve(hit["card"][1])
        write_json(card_path, {**read_json(card_path), RESTORED: True})
    metrics_path = cfg.resolve(hit["metrics"][1])
    return TrainResult(
        mode=cfg.train.mode,
        cache_hit=True,
        fingerprint=key,
        metrics=metrics_mod.load(metrics_path, hit["metrics"][1]),
        metrics_path=metrics_path,
        model_path=cfg.resolve(hit["model"][1]) if "model" in hit else None,
        card_path=cfg.resolve(hit["card"][1]),
        seconds=time.perf_counter() - started,
    )


def _staged(
    cfg: Config, artifacts: Artifacts, staging: Path, targets: dict[str, str]
) -> dict[str, tuple[Path, str]]:
    """Role -> (the file the trainer wrote, where it goes in the project)."""
    files: dict[str, tuple[Path, str]] = {}
    for role, path in (
        ("metrics", artifacts.metrics),
        ("model", artifacts.model),
        ("confusion", artifacts.confusion),
    ):
        if path is None:
            continue
        in_staging = staging in path.parents
        target = targets[role] if in_staging else os.path.relpath(path, cfg.root)
        files[role] = (path, target)
    for plot in artifacts.plots:  # staged at the path they take in the project
        files[f"plot-{plot.stem}"] = (plot, plot.relative_to(staging).as_posix())
    return files


def _describe_outputs(card: dict[str, Any], files: dict[str, tuple[Path, str]]) -> None:
    """The model card names the files this run wrote: the report shows no others as its."""
    if "model" in files:
        card["model"]["path"] = files["model"][1]
    confusion = files.get("confusion")
    card["confusion_matrix"] = (
        {"path": confusion[1], "sha256": file_hash(confusion[0])} if confusion else None
    )
    card["plots"] = {
        target: file_hash(src) for role, (src, target) in files.items() if role[:5] == "plot-"
    }
