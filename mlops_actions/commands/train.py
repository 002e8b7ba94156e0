from __future__ import annotations

import argparse

from mlops_actions import config, pipeline


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.params)
    options = pipeline.RunOptions(use_cache=not args.no_cache)
    result = pipeline.train(cfg, pipeline.verified_data(cfg), options)
    pipeline.show_metrics(result)
    return 0
