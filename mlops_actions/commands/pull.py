"""`mlops-actions pull`: dvc pull the tracked data and verify every file's hash."""

from __future__ import annotations

from mlops_actions import api, config, console


def main(params: str, *, remote: str | None, jobs: int | None) -> int:
    cfg = config.load(params)
    console.pulled(api.pull(cfg, remote=remote, jobs=jobs), cfg)
    return 0
