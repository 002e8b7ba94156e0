"""`mlops-actions promote`: tag a passing, better model as the next registry version."""

from __future__ import annotations

from mlops_actions import git
from mlops_actions.config import settings
from mlops_actions.errors import MlopsError
from mlops_actions.flow import deliver, gating, promotion
from mlops_actions.github import context


def main(
    params: str,
    *,
    token: str | None,
    bump: str | None,
    stage: str | None,
    push: bool,
    release: bool,
) -> int:
    """Alone, promote runs the gates against the latest promoted version (the model it has to
    beat); inside Actions it creates the tags through the REST API."""
    cfg = settings.load(params, check_metrics=True)
    git.require_repository(cfg.root)  # the registry is the repository's tags
    ctx = context.load(token=token)
    gates = gating.promotion_gates(cfg) if cfg.rules else None
    if release and not ctx.token:
        raise MlopsError("--release: needs a GitHub token (GITHUB_TOKEN or --token)")
    gh = deliver.client(ctx) if release or (ctx.in_actions and ctx.token) else None
    promotion.promote(
        cfg,
        ctx,
        gh,
        bump=bump,
        stage=stage,
        push=push,
        release=release,
        gates_passed=gates.passed if gates is not None else None,
    )
    return 0
