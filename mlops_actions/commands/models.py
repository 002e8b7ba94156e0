"""`mlops-actions models [NAME] [--json]`, `models [NAME] --history [--json]` and
`models get REF [-o PATH]`: the registry."""

from __future__ import annotations

import json
import os

from mlops_actions import inert, output, registry
from mlops_actions import tag as tags
from mlops_actions.errors import MlopsError


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
        if not model.versions:
            rows.append((name, "(not registered)", "", "", "", ""))
        for v in model.versions:
            version = f"{v.version} (deregistered)" if v.deregistered else v.version
            if v.conflicts:
                version += " (conflict)"
            if not v.registered:
                version = f"{v.commit[:7]} (not registered)"
            date = v.date[:16].replace("T", " ")
            rows.append((name, version, ", ".join(v.stages), v.commit[:7], date, _metric(v)))
    # A metric's name and value come from a tag message, anyone's text: one printable line.
    return _columns([tuple(inert.terminal(c) for c in row) for row in rows])


def problems(models: dict[str, registry.Model]) -> list[str]:
    """One line per version whose tags the registry cannot trust: a later registration that
    records another model sha256, or a tag field that is not what mlops-actions writes."""
    lines = []
    for model in models.values():
        for v in model.versions:
            for c in v.conflicts:
                lines.append(
                    f"{model.name}@{v.version}: {c.tag} records {_sha(c.sha256)}, but the first "
                    f"registration {v.tag} recorded {_sha(v.sha256)}; `models get` refuses it"
                )
            bad = tags.check_info(v.info) if v.info else None
            if bad:
                lines.append(f"{model.name}@{v.version}: tag {v.tag or v.commit[:7]}: {bad}")
        for stage, assigned in model.assignments.items():
            bad = tags.check_info(assigned.info) if assigned.info else None
            if bad:
                lines.append(f"{model.name}#{stage}: tag {assigned.tag}: {bad}")
    return lines


def _sha(sha: str | None) -> str:
    return f"sha256 {sha[:12]}" if sha else "no sha256"


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rows.insert(1, tuple("-" * w for w in widths))
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


HISTORY_HEADERS = ("date", "name", "event", "version", "stage", "by", "run")


def _short(version: str | None) -> str:
    """A hexsha version (an unregistered commit) shortened, as `gto history` prints it."""
    if version and len(version) == 40 and not version.startswith("v"):
        return version[:7]
    return version or ""


def history_table(events: list[registry.Event]) -> str:
    """`gto history`'s events, newest first: who made each tag, and the run that did."""
    rows: list[tuple[str, ...]] = [HISTORY_HEADERS]
    for e in events:
        run = registry.event_json(e)["run_url"] or ""
        by = f"{e.author} <{e.email}>" if e.email else e.author
        rows.append(
            (
                e.date[:19].replace("T", " "),
                e.artifact,
                e.kind.name.lower(),
                _short(e.version),
                e.stage or "",
                by,
                run,
            )
        )
    # Tag messages and tagger names are anyone's text: no control character reaches the
    # terminal or the runner's log (each row starts with the date, never with `::`).
    return _columns([tuple(inert.terminal(c) for c in row) for row in rows])


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
    from mlops_actions.config import settings
    from mlops_actions.flow import deliver  # not needed to list the registry
    from mlops_actions.github import context

    cfg = settings.load(params)
    ctx = context.load(token=token)
    gh = deliver.client(ctx) if ctx.token and ctx.repository else None
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
        if history:
            raise MlopsError("--history is for `models [NAME]`, not `models get`")
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
        events = registry.history(found)
        if as_json:
            output.info(json.dumps([registry.event_json(e) for e in events], indent=2))
        else:
            output.info(history_table(events) if events else "no registry events yet")
    elif as_json:
        output.info(to_json(found))
    elif not found:
        output.info("no models registered yet (no NAME@vX.Y.Z tags); see `mlops-actions promote`")
    else:
        output.info(table(found))
    if not history and not as_json:  # --json lists each version's conflicts
        for line in problems(found):
            output.warning(inert.terminal(line))
    return 0
