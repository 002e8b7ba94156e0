"""The model registry: GTO-format git tags (their grammar is in `mlops_actions.tag`).

- `events`: GTO's reading of the tags, rule for rule (event order, stages, latest);
- `state`: the tags read as models, versions and stages (`models`, `find_model`, `history`);
- `promote`: what a tag records about the workspace's model, and `promote`;
- `writers`: where promote's tags are written (`GitTagWriter`, `RestTagWriter`);
- `sources`: where a registered model file is found, and `get`.
"""

from __future__ import annotations

from mlops_actions.registry.events import Event, TagRecord
from mlops_actions.registry.promote import MAX_ATTEMPTS, PromoteResult, current_info, promote
from mlops_actions.registry.sources import (
    GetResult,
    ModelSource,
    ReleaseSource,
    RunCacheSource,
    WorkspaceSource,
    default_sources,
    get,
    resolve,
)
from mlops_actions.registry.state import (
    EventJson,
    Model,
    ModelJson,
    ModelVersion,
    VersionJson,
    event_json,
    find_model,
    history,
    models,
    next_version,
    read_tags,
)
from mlops_actions.registry.writers import GitTagWriter, NewTag, RestTagWriter, TagWriter

__all__ = [
    "MAX_ATTEMPTS",
    "Event",
    "EventJson",
    "GetResult",
    "GitTagWriter",
    "Model",
    "ModelJson",
    "ModelSource",
    "ModelVersion",
    "NewTag",
    "PromoteResult",
    "ReleaseSource",
    "RestTagWriter",
    "RunCacheSource",
    "TagRecord",
    "TagWriter",
    "VersionJson",
    "WorkspaceSource",
    "current_info",
    "default_sources",
    "event_json",
    "find_model",
    "get",
    "history",
    "models",
    "next_version",
    "promote",
    "read_tags",
    "resolve",
]
