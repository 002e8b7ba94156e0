"""`mlops-actions run`: the work for the current event (see pipeline.py)."""

from __future__ import annotations

from mlops_actions.config import settings
from mlops_actions.flow import deliver, pipeline
from mlops_actions.flow.steps import RunOptions
from mlops_actions.github import context

__all__ = ["RunOptions", "main"]


def main(
    params: str, *, token: str | None, options: RunOptions, check_checkout: bool = False
) -> int:
    cfg = settings.load(params)
    ctx = context.load(token=token)
    if check_checkout:  # before the action's `install` runs any of the checkout's code
        pipeline.refuse_untrusted_checkout(cfg, ctx)
        return 0
    return pipeline.run(cfg, ctx, deliver.client_in_actions(ctx), options)
