"""`mlops-actions train`: train on the verified data, or restore the same run from the run cache."""

from __future__ import annotations

from mlops_actions import api, config, console, context, publish
from mlops_actions.errors import MlopsError


def main(params: str, *, use_cache: bool, record: bool = False) -> int:
    cfg = config.load(params)
    try:
        result = api.train(cfg, api.verified_data(cfg), use_cache=use_cache)
    except MlopsError as exc:
        if record:
            from mlops_actions.tracking.record import record_quietly

            record_quietly(cfg, None, error=str(exc))
        raise
    console.trained(result, cfg)
    console.metrics_table(result.metrics)
    publish.write_outputs(context.load(), metrics=result.metrics.json())
    if record:
        from mlops_actions.tracking.record import record_quietly

        record_quietly(cfg, result)
    return 0
