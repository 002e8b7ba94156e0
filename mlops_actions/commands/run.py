"""`mlops-actions run`: the work for the current event (see pipeline.py)."""

from __future__ import annotations

from mlops_actions import config, context, pipeline, publish
from mlops_actions.api import RunOptions

__all__ = ["RunOptions", "main"]


def main(params: str, *, token: str | None, options: RunOptions) -> int:
    cfg = config.load(params)
    ctx = context.load(token=token)
    return pipeline.run(cfg, ctx, publish.client_in_actions(ctx), options)
