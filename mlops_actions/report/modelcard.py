"""The model card as Markdown: the body of a version's GitHub release.

Every value from the card is untrusted text (a params.yaml, a trainer's metrics file): it is
either a number this module formats, or a code span, so no value can become a link, a mention,
HTML, a heading or a table column. The whole card follows as JSON in a collapsed block while the
body stays inside GitHub's release limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mlops_actions import inert
from mlops_actions.metrics import finite, intervals, is_number, scalars
from mlops_actions.report.markdown import number

RELEASE_LIMIT = 125_000  # GitHub's limit on a release body, in characters
_VALUE_LIMIT = 200  # longer values are cut: a card is read, not parsed, from the release
_TICKS = re.compile(r"`+")
CUT_NOTE = "\n_The model card was cut to fit GitHub's release limit; the whole card is {where}._\n"


def code(value: object, *, limit: int = _VALUE_LIMIT) -> str:
    """`value` as one inline code span safe in a table cell, cut at `limit` characters."""
    return inert.code(value, table=True, limit=limit)


def value(v: Any) -> str:
    """A card value in a table: numbers formatted, booleans and null spelled, text as code."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "true" if v else "false"
    if is_number(v):
        return number(float(v)) if finite(v) else code(v)
    if isinstance(v, (list, dict)):
        return code(json.dumps(v, sort_keys=True, default=str))
    return code(v)


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _section(title: str, headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    return [f"### {title}", "", _table(headers, rows), ""] if rows else []


def _mapping(card: Mapping[str, Any], key: str) -> dict[str, Any]:
    found = card.get(key)
    return dict(found) if isinstance(found, Mapping) else {}


def _summary(card: Mapping[str, Any]) -> Sequence[tuple[str, ...]]:
    git = _mapping(card, "git")
    model = _mapping(card, "model")
    commit = git.get("commit")
    rows = [
        ("name", card.get("name")),
        ("training mode", card.get("mode")),
        ("estimator", card.get("estimator")),
        ("trained at", card.get("trained_at")),
        ("training seconds", card.get("training_seconds")),
        ("commit", f"{commit} (uncommitted changes)" if commit and git.get("dirty") else commit),
        ("model file", model.get("path")),
        ("model sha256", model.get("sha256")),
        ("run-cache fingerprint", card.get("fingerprint")),
    ]
    return [(k, value(v)) for k, v in rows if v is not None]


def _metrics(card: Mapping[str, Any]) -> Sequence[tuple[str, ...]]:
    metrics = _mapping(card, "metrics")
    ci = intervals(metrics)
    flat = scalars({k: v for k, v in metrics.items() if k != "ci"})
    rows = []
    for name, v in flat.items():
        low_high = ci.get(name)
        interval = f"{number(low_high[0])} – {number(low_high[1])}" if low_high else ""
        rows.append((code(name), value(v), interval))
    return rows


def _data(card: Mapping[str, Any]) -> Sequence[tuple[str, ...]]:
    rows = []
    for path, entry in _mapping(card, "data").items():
        e = entry if isinstance(entry, Mapping) else {}
        rows.append(
            (
                code(path),
                value(e.get("dvc_file")),
                value(e.get("md5")),
                value(e.get("size")),
                value(e.get("nfiles")),
            )
        )
    return rows


def _fence(text: str) -> str:
    ticks = "`" * max(3, max((len(m) for m in _TICKS.findall(text)), default=0) + 1)
    return f"{ticks}json\n{text}\n{ticks}"


def release_body(
    tag: str, card: Mapping[str, Any], card_path: str, *, limit: int = RELEASE_LIMIT
) -> str:
    """The release body of `tag`: what was trained on what, its metrics, params and package
    versions as tables, then the card as JSON; within `limit` characters (the JSON goes first,
    then the last rows; `card_path` is where the whole card is)."""
    head = [f"Model {code(tag)}, promoted by mlops-actions.", ""]
    head += _section("Model", ("", ""), _summary(card))
    head += _section("Metrics", ("metric", "value", "95% interval"), _metrics(card))
    head += _section("Data", ("path", "DVC file", "md5", "bytes", "files"), _data(card))
    params = scalars(_mapping(card, "params"))
    tail = _section("Params", ("param", "value"), [(code(k), value(v)) for k, v in params.items()])
    versions = _mapping(card, "versions")
    tail += _section(
        "Packages", ("package", "version"), [(code(k), value(v)) for k, v in versions.items()]
    )
    raw = json.dumps(card, indent=2, sort_keys=True, default=str)
    full = [*head, *tail, "<details><summary>The model card as JSON</summary>", "", _fence(raw)]
    body = "\n".join([*full, "", "</details>", ""])
    if len(body) <= limit:
        return body
    note = CUT_NOTE.format(where=f"{code(card_path)} of the commit's training run")
    budget, kept = limit - len(note), []
    for line in "\n".join([*head, *tail]).split("\n"):
        budget -= len(line) + 1
        if budget < 0:
            break
        kept.append(line)
    return "\n".join(kept) + note
