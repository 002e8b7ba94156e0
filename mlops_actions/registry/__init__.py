"""The model registry: GTO-format git tags (their grammar is in `mlops_actions.tag`).

- `events` / `index`: GTO's reading of the tags, rule for rule (event records and history order /
  artifacts, versions, stages, latest);
- `state`: the tags read as models, versions and stages (`models`, `find_model`, `history`);
- `shapes`: the JSON `models --json` and `models --history --json` print;
- `promote`: what a tag records about the workspace's model, and `promote`;
- `lifecycle`: the verbs after promotion (`assign`, `unassign`, `deregister`, `deprecate`);
- `writers`: where the tags are written (`GitTagWriter`, `RestTagWriter`);
- `sources`: where a registered model file is found, and `get`;
- `dispatch`: the repository_dispatch events after a registration or an assignment.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

from mlops_actions.registry.events import Event, TagRecord
from mlops_actions.registry.shapes import EventJson, ModelJson, VersionJson, event_json
from mlops_actions.registry.state import (
    Model,
    ModelVersion,
    find_model,
    history,
    models,
    next_version,
    read_tags,
)

if TYPE_CHECKING:
    from mlops_actions.registry.promote import (
        MAX_ATTEMPTS,
        PromoteResult,
        current_info,
        promote,
    )
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
    from mlops_actions.registry.writers import GitTagWriter, NewTag, RestTagWriter, TagWriter

# Imported on first use: listing the registry (`models`) needs only `state`, and the rest
# (DVC's remotes, GitHub's API) would double its start-up time.
_LAZY = {
    **dict.fromkeys(("MAX_ATTEMPTS", "PromoteResult", "current_info", "promote"), "promote"),
    **dict.fromkeys(
        (
            "GetResult",
            "ModelSource",
            "ReleaseSource",
            "RunCacheSource",
            "WorkspaceSource",
            "default_sources",
            "get",
            "resolve",
        ),
        "sources",
    ),
    **dict.fromkeys(("GitTagWriter", "NewTag", "RestTagWriter", "TagWriter"), "writers"),
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Loading the submodule `promote` sets the package's `promote` to the module; the
    function of that name stays what `registry.promote` means, whoever loads it first."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
