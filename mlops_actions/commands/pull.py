"""`mlops-actions pull`: dvc pull the tracked data and verify every file's hash."""

from __future__ import annotations

from mlops_actions import console
from mlops_actions.config import settings
from mlops_actions.flow import steps


def main(params: str, *, remote: str | None, jobs: int | None) -> int:
    cfg = settings.load(params)
    console.pulled(steps.pull(cfg, remote=remote, jobs=jobs), cfg)
    return 0
