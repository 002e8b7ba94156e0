"""`mlops-actions train`: train on the verified data, or restore the same run from the run cache."""

from __future__ import annotations

from mlops_actions import console
from mlops_actions.config import settings
from mlops_actions.errors import MlopsError
from mlops_actions.flow import deliver, steps
from mlops_actions.github import context


def main(params: str, *, use_cache: bool, record: bool = False) -> int:
    cfg = settings.load(params)
    try:
        result = steps.train(cfg, steps.verified_data(cfg), use_cache=use_cache)
    except MlopsError as exc:
        if record:
            from mlops_actions.tracking.record import record_quietly

            record_quietly(cfg, None, error=str(exc))
        raise
    console.trained(result, cfg)
    console.metrics_table(result.metrics)
    deliver.write_outputs(context.load(), metrics=result.metrics.json())
    if record:
        from mlops_actions.tracking.record import record_quietly

        record_quietly(cfg, result)
    return 0
