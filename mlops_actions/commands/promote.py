"""`mlops-actions promote`: tag a passing, better model as the next registry version."""

from __future__ import annotations

import argparse
import shlex

from mlops_actions import config, context, gates, output, pipeline, registry
from mlops_actions.errors import MlopsError


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.params)
    ctx = context.load(token=args.token)
    # The pipeline passes the verdict of the gates it already ran; alone, promote runs them
    # against the latest promoted version (the model it has to beat).
    passed: bool | None = getattr(args, "gates_passed", None)
    if passed is None and cfg.gates:
        passed = gates.exit_code(pipeline.promotion_gates(cfg)) == 0
    gh = None
    if args.release or (ctx.in_actions and ctx.token):
        gh = pipeline.github_client(ctx)
    writer = None
    push = args.push
    if gh is not None and ctx.in_actions:
        from mlops_actions.registry import RestTagWriter

        writer, push = RestTagWriter(gh, cfg.root, cfg.model.name), True
    result = registry.promote(
        cfg,
        bump=args.bump,
        stage=args.stage,
        push=push,
        gates_passed=passed,
        writer=writer,
        run_url=ctx.run_url,
    )
    if result.promoted:
        output.info(f"promoted {result.tag} ({result.reason})")
        if result.stage_tag:
            output.info(f"assigned stage {result.stage} ({result.stage_tag})")
        names = " ".join(shlex.quote(t) for t in (result.tag, result.stage_tag) if t)
        if writer is not None:
            output.info(f"created {names} through the GitHub API")
        elif result.pushed:
            output.info(f"pushed {names} to origin")
        else:
            output.info(f"the tags are local; publish them with: git push --atomic origin {names}")
        if args.release:
            release(cfg, gh, result.tag or "")
    else:
        output.info(f"not promoted: {result.reason}")
    context.set_output(ctx, "promoted", result.promoted)
    context.set_output(ctx, "version", (result.version or "") if result.promoted else "")
    context.set_output(ctx, "tag", (result.tag or "") if result.promoted else "")
    return 0


def release(cfg: config.Config, gh: object, tag: str) -> None:
    from mlops_actions import git
    from mlops_actions.github import GitHub
    from mlops_actions.publish import create_release

    if not isinstance(gh, GitHub):
        raise MlopsError("--release: needs a GitHub token (GITHUB_TOKEN or --token)")
    card = pipeline.read_json(cfg.resolve(cfg.train.card))
    model = cfg.resolve(cfg.train.model)
    url = create_release(
        gh, tag, git.head_sha(cfg.root) or "", card, model if model.is_file() else None
    )
    output.info(f"released {tag}: {url}")
