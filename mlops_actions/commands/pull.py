from __future__ import annotations

import argparse

from mlops_actions import config, pipeline


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.params)
    pipeline.pull(cfg, pipeline.RunOptions(remote=args.remote, jobs=args.jobs))
    return 0
