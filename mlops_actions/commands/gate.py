"""`mlops-actions gate`: params.yaml's rules against the metrics; exit 0 pass, 1 fail, 2 error."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from mlops_actions import config, context, gates, output, pipeline
from mlops_actions.context import Context

_LABELS = {gates.PASS: "pass", gates.FAIL: "FAIL", gates.ERROR: "ERROR", gates.SKIPPED: "skipped"}


def statuses_wanted(flag: bool | None, ctx: Context) -> bool:
    """--status/--no-status; by default on inside Actions when a token is present."""
    if flag is not None:
        return flag
    return ctx.in_actions and bool(ctx.token)


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.params)
    ctx = context.load(token=args.token)
    gh = None
    if statuses_wanted(args.status, ctx) and cfg.gates:
        from mlops_actions.github import GitHub

        gh = GitHub.from_context(ctx)
        if not pipeline.start_statuses(gh, ctx, cfg):
            gh = None
    try:
        results = evaluate(cfg, ctx, args.base)
        if gh is not None:
            from mlops_actions import publish

            publish.post_statuses(gh, ctx, results, cfg.gate_options.status_prefix)
    except Exception as exc:
        # Never leave the overall context pending, also when posting the statuses failed.
        if gh is not None:
            pipeline.publish_error(gh, ctx, cfg, str(exc))
        raise
    return gates.exit_code(results)


def evaluate(cfg: config.Config, ctx: Context, base: str | None) -> list[gates.GateResult]:
    """Evaluate, print the table, write the step outputs."""
    if not cfg.gates:
        output.info("no gates in params.yaml; nothing to check")
        write_outputs(ctx, [])
        return []
    current = pipeline.current_metrics(cfg)
    found = pipeline.comparison(cfg, ctx, base)
    baseline = pipeline.baseline_metrics(cfg, found)
    results = pipeline.evaluate_gates(cfg, current, baseline, found.baseline.label)
    output.info(render_table(results))
    for result in results:
        if result.state == gates.ERROR:
            output.error(f"gate '{result.text}': {result.detail}")
    output.info(gates.summary(results))
    write_outputs(ctx, results)
    return results


def write_outputs(ctx: Context, results: Sequence[gates.GateResult]) -> None:
    passed = gates.exit_code(results) == 0
    context.set_output(ctx, "gates-passed", "true" if passed else "false")
    context.set_output(ctx, "gates", json.dumps([r.to_dict() for r in results], ensure_ascii=False))


def render_table(results: Sequence[gates.GateResult]) -> str:
    from tabulate import tabulate

    rows = [
        [
            r.text,
            gates.format_number(r.value),
            gates.format_number(r.baseline),
            f"{_LABELS[r.state]}: {r.detail}",
        ]
        for r in results
    ]
    return tabulate(
        rows,
        headers=["rule", "value", "baseline", "result"],
        tablefmt="simple",
        disable_numparse=True,
    )
