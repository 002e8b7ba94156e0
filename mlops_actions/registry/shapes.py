"""The shapes `mlops-actions models --json` and `models --history --json` print."""

from __future__ import annotations

from typing import TypedDict

from mlops_actions import tag as tags
from mlops_actions.registry.events import Event


class VersionJson(TypedDict):
    """One version in `mlops-actions models --json`."""

    version: str
    commit: str
    tag: str | None
    created_at: str
    registered: bool
    deregistered: bool
    stages: list[str]
    primary: str | None
    metrics: dict[str, object]
    model_sha256: str | None
    model_path: str | None
    data: dict[str, str]
    params_sha256: str | None
    fingerprint: str | None
    run_url: str | None
    conflicts: list[str]


class ModelJson(TypedDict):
    """One model in `mlops-actions models --json`."""

    latest: str | None
    stages: dict[str, str]
    registered: bool
    deprecated: bool
    versions: list[VersionJson]


class EventJson(TypedDict):
    """One event in `mlops-actions models NAME --history --json`: `gto history --json`'s
    fields, plus the workflow run that wrote the tag (from its message, when it records one)."""

    timestamp: str
    artifact: str
    event: str
    priority: int
    version: str | None
    stage: str | None
    commit: str
    author: str
    author_email: str
    message: str
    ref: str
    run_url: str | None


def event_json(e: Event) -> EventJson:
    info = tags.parse_message(e.message)
    return {
        "timestamp": e.date,
        "artifact": e.artifact,
        "event": e.kind.name.lower(),
        "priority": int(e.kind),
        "version": e.version,
        "stage": e.stage,
        "commit": e.commit,
        "author": e.author,
        "author_email": e.email,
        "message": e.message,
        "ref": e.ref,
        "run_url": info.run_url if info else None,
    }
