"""`mlops-actions models [NAME] [--json]` and `models get REF [-o PATH]`: the registry."""

from __future__ import annotations

import json
import os

from mlops_actions import config, context, output, publish, registry
from mlops_actions.errors import MlopsError
from mlops_actions.registry import history as journal


def _metric(v: registry.ModelVersion) -> str:
    if v.info is None or not v.info.primary:
        return ""
    value = v.info.metrics.get(v.info.primary)
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{v.info.primary} {shown}" if value is not None else ""


HEADERS = ("name", "version", "stages", "commit", "date", "metric")


def table(models: dict[str, registry.Model]) -> str:
    """One row per version, newest first; plain columns (tabulate is slow on 10,000 rows)."""
    rows: list[tuple[str, ...]] = [HEADERS]
    for model in models.values():
        name = f"{model.name} (deprecated)" if model.deprecated else model.name
        for v in model.versions:
            version = f"{v.version} (deregistered)" if v.deregistered else v.version
            if not v.registered:
                version = f"{v.commit[:7]} (not registered)"
            date = v.date[:16].replace("T", " ")
            rows.append((name, version, ", ".join(v.stages), v.commit[:7], date, _metric(v)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    rows.insert(1, tuple("-" * w for w in widths))
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


HISTORY_HEADERS = ("date", "name", "event", "version", "stage", "by", "run")


def history_table(events: list[journal.EventJson]) -> str:
    """One row per event, newest first: when, what, who, and the workflow run."""
    if not events:
        return "no registry events yet (no annotated GTO tags)"
    rows: list[tuple[str, ...]] = [HISTORY_HEADERS]
    for e in events:
        date = e["timestamp"][:19].replace("T", " ")
        rows.append(
            (
                date,
                e["artifact"],
                e["event"],
                e["version"] or "",
                e["stage"] or "",
                e["author"],
                e["run_url"] or "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(HISTORY_HEADERS))]
    rows.insert(1, tuple("-" * w for w in widths))
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def to_json(models: dict[str, registry.Model]) -> str:
    """Indented JSON with one version per line: readable, and as fast as compact JSON."""
    blocks = []
    for name, model in models.items():
        data = model.to_json()
        versions = data["versions"]
        fields = [
            f"    {json.dumps(key)}: {json.dumps(value)}"
            for key, value in data.items()
            if key != "versions"
        ]
        rows = ",\n".join(f"      {json.dumps(v)}" for v in versions)
        fields.append(f'    "versions": [\n{rows}\n    ]' if versions else '    "versions": []')
        blocks.append(f"  {json.dumps(name)}: {{\n" + ",\n".join(fields) + "\n  }")
    return "{\n" + ",\n".join(blocks) + "\n}" if blocks else "{}"


def get(params: str, ref: str, out: str | None, *, token: str | None) -> int:
    """`models get REF`: the registered model file, verified by its sha256."""
    cfg = config.load(params)
    ctx = context.load(token=token)
    gh = publish.client(ctx) if ctx.token and ctx.repository else None
    result = registry.get(cfg, ref, out, sources=registry.default_sources(cfg, gh))
    where = os.path.relpath(result.path)
    output.info(
        f"wrote {result.name}@{result.version} to {where} "
        f"(from the {result.source}, sha256 {result.sha256[:12]} verified)"
    )
    return 0


def main(
    params: str,
    words: list[str],
    *,
    as_json: bool,
    out: str | None,
    token: str | None,
    history: bool = False,
) -> int:
    """`models [NAME] [--json] [--history]`, or `models get REF [-o PATH]`."""
    if words and words[0] == "get":
        if len(words) != 2:
            raise MlopsError(
                "usage: mlops-actions models get REF [-o PATH] (REF: NAME@vX.Y.Z or NAME#STAGE)"
            )
        return get(params, words[1], out, token=token)
    if len(words) > 1:
        raise MlopsError(f"models: expected one model name, got {' '.join(words)}")
    if out:
        raise MlopsError("-o/--output is for `models get REF`")
    name = words[0] if words else None
    found = registry.models(name)
    if name is not None and name not in found:
        everything = registry.models()
        have = ", ".join(everything) or "none"
        raise MlopsError(f"no model '{name}' in the registry (models: {have})")
    if history:
        events = journal.history(name)
        output.info(json.dumps(events, indent=2) if as_json else history_table(events))
    elif as_json:
        output.info(to_json(found))
    elif not found:
        output.info("no models registered yet (no NAME@vX.Y.Z tags); see `mlops-actions promote`")
    else:
        output.info(table(found))
    return 0
