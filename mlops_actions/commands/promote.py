"""`mlops-actions promote`: tag a passing, better model as the next registry version."""

from __future__ import annotations

from mlops_actions import api, config, console, context, publish, registry
from mlops_actions.errors import MlopsError


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
    cfg = config.load(params)
    ctx = context.load(token=token)
    gates = api.promotion_gates(cfg) if cfg.rules else None
    if release and not ctx.token:
        raise MlopsError("--release: needs a GitHub token (GITHUB_TOKEN or --token)")
    gh = publish.client(ctx) if release or (ctx.in_actions and ctx.token) else None
    writer = None
    if gh is not None and ctx.in_actions:
        writer, push = registry.RestTagWriter(gh, cfg.root, cfg.model.name), True
    result = api.promote(
        cfg,
        ctx,
        writer=writer,
        bump=bump,
        stage=stage,
        push=push,
        gates_passed=gates.passed if gates is not None else None,
        release=release,
    )
    console.promotion(result, through_api=writer is not None, gate_code=0)
    if result.promoted and release and gh is not None and result.tag:
        publish.release(gh, cfg, result.tag)
    publish.write_outputs(
        ctx,
        promoted=result.promoted,
        version=result.version if result.promoted else "",
        tag=result.tag if result.promoted else "",
    )
    return 0
