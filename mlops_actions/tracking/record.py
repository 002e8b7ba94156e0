"""Record a local run as a DVC experiment (`run --record`, `train --record`)."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions import git, output
from mlops_actions.config.settings import Config
from mlops_actions.errors import MlopsError
from mlops_actions.tracking import localgit, runrecord, snapshot
from mlops_actions.training.base import TrainResult


def file_sha256(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Measured:
    """What a run's model card says it trained: the model's sha256, the data version (each
    DVC-tracked input's md5) and the training's seconds."""

    model_sha256: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    seconds: float | None = None


def measured(card_path: Path, seconds: float | None = None) -> Measured:
    """The model card of the run that just trained (`mlops-actions train` writes it, a run
    cache hit restores it): nothing is hashed again. Values not of their form are left out."""
    try:
        card = json.loads(card_path.read_bytes())
    except (OSError, ValueError):
        return Measured(seconds=seconds)
    if not isinstance(card, dict):
        return Measured(seconds=seconds)
    model = _mapping(card, "model")
    sha = model.get("sha256")
    data = {
        path: entry["md5"]
        for path, entry in _mapping(card, "data").items()
        if isinstance(entry, dict)
        and isinstance(entry.get("md5"), str)
        and runrecord.MD5.fullmatch(entry["md5"])
    }
    took = card.get("training_seconds")
    if seconds is None and isinstance(took, (int, float)) and not isinstance(took, bool):
        seconds = max(0.0, float(took))
    return Measured(
        sha if isinstance(sha, str) and runrecord.SHA256.fullmatch(sha) else None,
        dict(list(data.items())[:50]),
        round(seconds, 3) if seconds is not None else None,
    )


def _mapping(card: dict[str, Any], key: str) -> dict[str, Any]:
    found = card.get(key)
    return found if isinstance(found, dict) else {}


def of_run(trained: TrainResult | None) -> Measured:
    """What `trained` measured; nothing for a run that did not finish (the workspace's card
    would be an earlier run's)."""
    if trained is None:
        return Measured()
    found = measured(trained.card_path, trained.seconds)
    if found.model_sha256 is None and trained.model_path is not None:
        return Measured(file_sha256(trained.model_path), found.data, found.seconds)
    return found


def local_record(
    cfg: Config, trained: TrainResult | None, *, status: str = "ok", error: str | None = None
) -> runrecord.RunRecord:
    branch = git.run("rev-parse", "--abbrev-ref", "HEAD", cwd=cfg.root, check=False)
    found = of_run(trained)
    return runrecord.RunRecord(
        event="local",
        status=status,
        branch=None if branch in ("", "HEAD") else branch,
        runner=f"{platform.system()} {platform.machine()}",
        duration=found.seconds,
        data=found.data,
        model_sha256=found.model_sha256,
        error=error,
        created=runrecord.now(),
        model=cfg.model.name,
    )


def record_local(cfg: Config, record: runrecord.RunRecord, name: str | None = None) -> str:
    """Record the workspace's run on HEAD as an experiment; its name. One line on failure."""
    started = time.monotonic()
    top = snapshot.top_level(cfg.root)
    baseline = git.head_sha(top)
    if baseline is None:
        raise MlopsError(f"{top}: no commit to record the run on; commit your project first")
    name = name or runrecord.local_name()
    files = snapshot.collect(cfg)
    commit = localgit.write(top, baseline, name, files, record)
    output.info(
        f"recorded experiment {name} ({commit[:7]}, baseline {baseline[:7]}) in "
        f"{time.monotonic() - started:.2f}s; share it with `dvc exp push origin {name}`"
    )
    return name


def record_quietly(cfg: Config, trained: TrainResult | None, *, error: str | None = None) -> None:
    """Record a local run (a failed one as failed, with what it has); a problem is one warning
    line, never the run's failure."""
    status = "failed" if error is not None else "ok"
    try:
        record_local(cfg, local_record(cfg, trained, status=status, error=error))
    except MlopsError as exc:
        output.warning(f"the run was not recorded as an experiment: {exc}")
