"""`mlops-actions report`: render the comparison; post the sticky comment and the job summary."""

from __future__ import annotations

from mlops_actions import output
from mlops_actions.config import settings
from mlops_actions.flow import deliver, gating, reporting, steps
from mlops_actions.flow.deliver import Delivery
from mlops_actions.github import context
from mlops_actions.tracking import ci as tracking

__all__ = ["Delivery", "main"]


def main(params: str, *, base: str | None, token: str | None, delivery: Delivery) -> int:
    cfg = settings.load(params, check_metrics=True)
    ctx = context.load(token=token)
    found = gating.compare(cfg, ctx, base)
    current = steps.current_metrics(cfg)
    deliver.write_outputs(ctx, metrics=current.json())
    gates = gating.compared_gates(cfg, found, current, ctx) if cfg.rules else None
    # With recording on (MLOPS_RECORD), the run's standing among the recorded runs.
    ranked = tracking.enabled()
    body = reporting.report_body(
        cfg, ctx, found, gates, comment_id=delivery.comment_id, ranked=ranked
    )
    gh = deliver.client(ctx) if delivery.comment and ctx.token else None
    on_stdout = not (delivery.comment or delivery.summary or delivery.path)
    deliver.deliver_report(cfg, ctx, gh, body, delivery, body_on_stdout=on_stdout)
    if on_stdout:
        output.info(body)
    return 0
