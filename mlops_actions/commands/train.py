from __future__ import annotations

import argparse
import json
import os

from mlops_actions import config, context, pipeline


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.params)
    options = pipeline.RunOptions(use_cache=not args.no_cache)
    result = pipeline.train(cfg, pipeline.verified_data(cfg), options)
    pipeline.show_metrics(result)
    if os.environ.get("GITHUB_OUTPUT"):
        metrics = json.dumps(result.metrics, allow_nan=False)
        context.set_output(context.load(), "metrics", metrics)
    return 0
