"""Promotion as `run` and `promote` both do it: the registry's verdict, the tags (through the
REST API inside Actions), the release, the step outputs and the lines a person reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_actions import console, publish, registry
from mlops_actions.config import Config
from mlops_actions.context import Context
from mlops_actions.errors import MlopsError
from mlops_actions.training.base import RESTORED
from mlops_actions.util import read_json


def restored(cfg: Config) -> str | None:
    """Why the workspace model cannot be promoted: it came from the run cache, not from
    training in this job (an entry is only files; anyone who can write the cache can forge
    one). None when it was trained here."""
    if read_json(cfg.resolve(cfg.train.card)).get(RESTORED) is not True:
        return None
    return (
        "the model was restored from the run cache, not trained in this job; a promotion "
        "never rests on a cache entry: run `mlops-actions train --no-cache` first"
    )


if TYPE_CHECKING:
    from mlops_actions.github import GitHub


def promote(
    cfg: Config,
    ctx: Context,
    gh: GitHub | None,
    *,
    bump: str | None,
    stage: str | None,
    push: bool,
    release: bool,
    gates_passed: bool | None,
    gate_code: int = 0,
    stale: str | None = None,
) -> registry.PromoteResult:
    """Tag HEAD as the next version when it passed (`gates_passed` None: no gates) and beats
    the latest version; `gate_code` 2 explains a refusal as a gate that could not be evaluated;
    `stale` says why the commit's dvc.lock does not describe the model (no tag then)."""
    name = cfg.model_name  # a ConfigError naming the key when there is no registry name
    writer = None
    if gh is not None and ctx.in_actions:
        writer, push = registry.RestTagWriter(gh, cfg.root, name), True
    refused = stale or restored(cfg)
    if refused:  # a stale dvc.lock or a cached model: never register it
        result = registry.PromoteResult(False, refused)
    else:
        result = registry.promote(
            cfg,
            bump=bump,
            stage=stage,
            push=push,
            gates_passed=gates_passed,
            writer=writer,
            run_url=ctx.run_url,
            release=release,
        )
    console.promotion(result, through_api=writer is not None, gate_code=gate_code)
    if result.promoted and result.tag and release:
        if gh is None:
            raise MlopsError("--release: needs a GitHub token (GITHUB_TOKEN or --token)")
        publish.release(gh, cfg, result.tag)
    publish.write_outputs(
        ctx,
        promoted=result.promoted,
        version=result.version if result.promoted else "",
        tag=result.tag if result.promoted else "",
    )
    return result
