"""The model registry: GTO-format git tags (their grammar is in `mlops_actions.tag`).

- `state`: the tags read as models, versions and stages (`models`, `find_model`);
- `promote`: what a tag records about the workspace's model, and `promote`;
- `lifecycle`: the verbs after promotion (`assign`, `unassign`, `deregister`, `deprecate`);
- `history`: the journal of events, as `gto history` has it;
- `writers`: where the tags are written (`GitTagWriter`, `RestTagWriter`);
- `sources`: where a registered model file is found, and `get`.
"""

from __future__ import annotations

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
    Model,
    ModelJson,
    ModelVersion,
    TagRecord,
    VersionJson,
    find_model,
    models,
    next_version,
    read_tags,
)
from mlops_actions.registry.writers import GitTagWriter, NewTag, RestTagWriter, TagWriter

__all__ = [
    "MAX_ATTEMPTS",
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
    "find_model",
    "get",
    "models",
    "next_version",
    "promote",
    "read_tags",
    "resolve",
]
