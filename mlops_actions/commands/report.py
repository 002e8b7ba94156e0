"""`mlops-actions report`: render the comparison; post the sticky comment and the job summary."""

from __future__ import annotations

from mlops_actions import api, config, context, output, publish
from mlops_actions.publish import Delivery

__all__ = ["Delivery", "main"]


def main(params: str, *, base: str | None, token: str | None, delivery: Delivery) -> int:
    cfg = config.load(params, check_metrics=True)
    ctx = context.load(token=token)
    found = api.compare(cfg, ctx, base)
    current = api.current_metrics(cfg)
    publish.write_outputs(ctx, metrics=current.json())
    gates = api.compared_gates(cfg, found, current, ctx) if cfg.rules else None
    body = api.report_body(cfg, ctx, found, gates, comment_id=delivery.comment_id)
    gh = publish.client(ctx) if delivery.comment and ctx.token else None
    publish.deliver_report(cfg, ctx, gh, body, delivery)
    if not (delivery.comment or delivery.summary or delivery.path):
        output.info(body)
    return 0
