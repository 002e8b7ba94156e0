"""`mlops-actions run`: the work for the current event (see pipeline.py)."""

from __future__ import annotations

from mlops_actions import config, context, pipeline, publish
from mlops_actions.api import RunOptions

__all__ = ["RunOptions", "main"]


def main(
    params: str, *, token: str | None, options: RunOptions, check_checkout: bool = False
) -> int:
    cfg = config.load(params)
    ctx = context.load(token=token)
    if check_checkout:  # before the action's `install` runs any of the checkout's code
        pipeline.refuse_untrusted_checkout(cfg, ctx)
        return 0
    return pipeline.run(cfg, ctx, publish.client_in_actions(ctx), options)
