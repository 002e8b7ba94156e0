"""`mlops-actions gate`: params.yaml's rules against the metrics; exit 0 pass, 1 fail, 2 error."""

from __future__ import annotations

from mlops_actions import console, output
from mlops_actions.config import settings
from mlops_actions.flow import deliver, gating, steps
from mlops_actions.github import context


def main(params: str, *, base: str | None, token: str | None, status: bool | None) -> int:
    """`status` None: post commit statuses inside Actions when a token is present."""
    cfg = settings.load(params, check_metrics=True)
    ctx = context.load(token=token)
    wanted = status if status is not None else ctx.in_actions and bool(ctx.token)
    gh = deliver.client(ctx) if wanted and cfg.rules else None
    if not cfg.rules:
        output.info("no gates in params.yaml; nothing to check")
        deliver.write_outputs(ctx, gates_passed=True, gates=[])
        return 0
    with deliver.GateStatuses(gh, ctx, cfg.gate_options.status_prefix) as statuses:
        found = gating.compare(cfg, ctx, base)
        run = gating.compared_gates(cfg, found, steps.current_metrics(cfg), ctx)
        console.gate_run(run)
        deliver.write_outputs(
            ctx, gates_passed=run.passed, gates=[r.to_dict() for r in run.results]
        )
        statuses.finish(run.results)
    return run.code
