"""`mlops-actions report`: render the comparison; post the sticky comment and the job summary."""

from __future__ import annotations

import argparse
import json
import os

from mlops_actions import config, context, metrics, output, pipeline, report


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.params)
    ctx = context.load(token=args.token)
    found = pipeline.comparison(cfg, ctx, args.base)
    current = pipeline.current_metrics(cfg)
    context.set_output(ctx, "metrics", json.dumps(metrics.json_safe(current), default=str))
    results = None
    if cfg.gates:
        results = pipeline.evaluate_gates(
            cfg,
            current,
            pipeline.baseline_metrics(cfg, found),
            found.baseline.label,
        )
    comment_id = args.comment_id or os.environ.get("MLOPS_COMMENT_ID") or "default"
    body = report.render(pipeline.report_input(cfg, ctx, found, results), comment_id)
    pipeline.deliver_report(
        cfg, ctx, body, comment_id, args.comment, args.summary, args.pr, args.output
    )
    if not (args.comment or args.summary or args.output):
        output.info(body)
    return 0
