"""Promotion as `run` and `promote` both do it: the registry's verdict, the tags (through the
REST API inside Actions), the release, the step outputs and the lines a person reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_actions import console, registry
from mlops_actions.config.settings import Config
from mlops_actions.errors import MlopsError
from mlops_actions.flow import deliver
from mlops_actions.github.context import Context
from mlops_actions.registry import dispatch
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
    from mlops_actions.github.client import GitHub


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
    `stale` says why the commit's dvc.lock does not describe the model (no tag then). Tags
    written through the API are announced as repository_dispatch events (`events`)."""
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
        deliver.release(gh, cfg, result.tag)
    if result.promoted and gh is not None and writer is not None:
        _send_events(gh, name, result, ctx.run_url)
    deliver.write_outputs(
        ctx,
        promoted=result.promoted,
        version=result.version if result.promoted else "",
        tag=result.tag if result.promoted else "",
    )
    return result


def _send_events(
    gh: GitHub, name: str, result: registry.PromoteResult, run_url: str | None
) -> None:
    """mlops-registered for a new version, mlops-assigned for its stage, after the release
    (a deploy workflow may fetch the model from it)."""
    if not (result.version and result.tag and result.commit):
        return
    common = {"sha256": result.sha256, "run_url": run_url}
    if result.registered:
        data = dispatch.payload(name, result.version, result.tag, result.commit, **common)
        dispatch.send(gh, dispatch.REGISTERED, data)
    if result.stage_tag:
        data = dispatch.payload(
            name, result.version, result.stage_tag, result.commit, stage=result.stage, **common
        )
        dispatch.send(gh, dispatch.ASSIGNED, data)
