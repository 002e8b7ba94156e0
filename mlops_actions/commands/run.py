from __future__ import annotations

import argparse

from mlops_actions import config, pipeline


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.params)
    options = pipeline.RunOptions(remote=args.remote, jobs=args.jobs, use_cache=not args.no_cache)
    return pipeline.run(cfg, options)
