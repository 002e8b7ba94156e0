"""`mlops-actions run`: the work for the current event (see pipeline.py)."""

from __future__ import annotations

from mlops_actions.config import settings
from mlops_actions.flow import deliver, pipeline
from mlops_actions.flow.steps import RunOptions
from mlops_actions.github import context

__all__ = ["RunOptions", "main"]


def main(params: str, *, token: str | None, options: RunOptions) -> int:
    cfg = settings.load(params)
    ctx = context.load(token=token)
    return pipeline.run(cfg, ctx, deliver.client_in_actions(ctx), options)
