"""`mlops-actions monitor [--json] [--stage STAGE]`: drift and decay of monitor.data against
the training data of a registered version. Exit 0 clean, 1 drift or decay, 2 an error."""

from __future__ import annotations

import json

from mlops_actions import output, registry
from mlops_actions.config import settings
from mlops_actions.flow import deliver
from mlops_actions.github import context
from mlops_actions.metrics import json_safe
from mlops_actions.monitor import watch as monitoring


def text(result: monitoring.MonitorResult) -> str:
    d = result.drift
    lines = [
        f"{result.data} ({result.rows_current:,} rows) against the training data of "
        f"{result.model}@{result.version} ({result.reference}, {result.rows_reference:,} rows)",
        f"drift: {len(d.drifted)} of {len(d.features)} features drifted ({d.share:.0%})"
        + (" - ALARM" if d.alarm else ""),
    ]
    width = max([len(f.name) for f in d.features] + [7])
    lines.append(f"  {'feature'.ljust(width)}  test  statistic   p (adj.)      PSI  drifted")
    for f in sorted(d.features, key=lambda f: (not f.drifted, -f.psi)):
        lines.append(
            f"  {f.name.ljust(width)}  {f.test.ljust(4)}  {f.statistic:9.4f}  {f.p_adjusted:9.3g}"
            f"  {f.psi:7.4f}  {'yes' if f.drifted else 'no'}"
        )
    if result.decay is not None:
        lines.append(
            f"decay on {result.decay.rows:,} labelled rows"
            + (" - ALARM" if result.decay.decayed else "")
        )
        for e in result.decay.entries:
            lines.append(f"  {e.metric}: {e.recorded:.4g} -> {e.current:.4g} ({e.change:+.4f})")
        for g in result.decay.gates:
            lines.append(f"  {g.state}: {g.description}")
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def main(params: str, *, stage: str | None, as_json: bool, token: str | None) -> int:
    cfg = settings.load(params)
    ctx = context.load(token=token)
    gh = deliver.client(ctx) if ctx.token and ctx.repository else None
    result = monitoring.check(cfg, stage, sources=registry.default_sources(cfg, gh))
    if as_json:
        output.info(json.dumps(json_safe(result.to_json()), indent=2, allow_nan=False))
    else:
        output.info(text(result))
    return result.code
