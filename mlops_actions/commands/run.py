from __future__ import annotations

import argparse
import os

from mlops_actions import config, context, pipeline


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.params)
    ctx = context.load(token=args.token)
    env = os.environ
    options = pipeline.RunOptions(
        remote=args.remote,
        jobs=args.jobs,
        use_cache=not args.no_cache,
        comment_id=env.get("MLOPS_COMMENT_ID") or "default",
        promote=_flag("MLOPS_PROMOTE", True),
        bump=env.get("MLOPS_BUMP") or None,
        stage=env.get("MLOPS_STAGE") or None,
        release=_flag("MLOPS_RELEASE", False),
        retrain_token=env.get("MLOPS_RETRAIN_TOKEN") or None,
    )
    return pipeline.run(cfg, ctx, options)
