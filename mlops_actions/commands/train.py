"""`mlops-actions train`: train on the verified data, or restore the same run from the run cache."""

from __future__ import annotations

from mlops_actions import api, config, console, context, publish


def main(params: str, *, use_cache: bool) -> int:
    cfg = config.load(params)
    result = api.train(cfg, api.verified_data(cfg), use_cache=use_cache)
    console.trained(result, cfg)
    console.metrics_table(result.metrics)
    publish.write_outputs(context.load(), metrics=result.metrics.json())
    return 0
