"""Record a local run as a DVC experiment (`run --record`, `train --record`)."""

from __future__ import annotations

import hashlib
import platform
import time
from pathlib import Path

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


def local_record(
    cfg: Config, trained: TrainResult | None, *, status: str = "ok", error: str | None = None
) -> runrecord.RunRecord:
    branch = git.run("rev-parse", "--abbrev-ref", "HEAD", cwd=cfg.root, check=False)
    return runrecord.RunRecord(
        event="local",
        status=status,
        branch=None if branch in ("", "HEAD") else branch,
        runner=f"{platform.system()} {platform.machine()}",
        duration=round(trained.seconds, 3) if trained else None,
        model_sha256=file_sha256(trained.model_path) if trained else None,
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
