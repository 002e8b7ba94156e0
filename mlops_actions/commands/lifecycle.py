"""`mlops-actions assign | unassign | deregister | deprecate`: the registry's lifecycle verbs.

Inside GitHub Actions with a token the tag is created through the REST API (like promotion's)
and an assignment is announced as a `mlops-assigned` repository_dispatch event; elsewhere it is
an annotated git tag, pushed to origin with --push.
"""

from __future__ import annotations

import json

from mlops_actions import console, git, output
from mlops_actions.flow import deliver
from mlops_actions.github import context
from mlops_actions.registry import dispatch, lifecycle
from mlops_actions.registry.lifecycle import Change, VerbWriter
from mlops_actions.registry.state import find_model
from mlops_actions.registry.writers import GitTagWriter, RestTagWriter

VERBS = ("assign", "unassign", "deregister", "deprecate")


def _root() -> str:
    git.require_repository()  # outside one: the one line that says what to do
    return git.run("rev-parse", "--show-toplevel")


def main(
    verb: str, target: str, stage: str | None, *, push: bool, as_json: bool, token: str | None
) -> int:
    """`target` is NAME@vX.Y.Z for assign and deregister, NAME for unassign and deprecate."""
    if verb in ("assign", "deregister"):
        name, version = lifecycle.parse_version_ref(target)
    else:
        name, version = lifecycle.check_name(target), None
    if stage is not None:
        lifecycle.check_stage(stage)
    root = _root()
    ctx = context.load(token=token, cwd=root)
    gh = deliver.client_in_actions(ctx)
    writer: VerbWriter = RestTagWriter(gh, root, name) if gh else GitTagWriter(root)
    push = push or gh is not None
    change = _change(root, verb, name, version, stage, writer, push, ctx.run_url)
    if as_json:
        output.info(json.dumps(change.to_json(), indent=2))
    else:
        console.lifecycle(change, through_api=gh is not None, now=_now(root, change))
    if gh is not None and change.written and change.action == "assign" and change.version:
        data = dispatch.payload(
            name,
            change.version,
            change.tag,
            change.commit,
            stage=change.stage,
            sha256=change.sha256,
            run_url=ctx.run_url,
        )
        dispatch.send(gh, dispatch.ASSIGNED, data)
    deliver.write_outputs(
        ctx,
        tag=change.tag,
        name=change.name,
        version=change.version,
        stage=change.stage,
        commit=change.commit,
        written=change.written,
    )
    return 0


def _change(
    root: str,
    verb: str,
    name: str,
    version: str | None,
    stage: str | None,
    writer: VerbWriter,
    push: bool,
    run_url: str | None,
) -> Change:
    if verb == "assign" and version and stage:
        return lifecycle.assign(
            root, name, version, stage, writer=writer, push=push, run_url=run_url
        )
    if verb == "unassign" and stage:
        return lifecycle.unassign(root, name, stage, writer=writer, push=push, run_url=run_url)
    if verb == "deregister" and version:
        return lifecycle.deregister(root, name, version, writer=writer, push=push, run_url=run_url)
    if verb == "deprecate":
        return lifecycle.deprecate(root, name, writer=writer, push=push, run_url=run_url)
    raise ValueError(f"{verb} {name}: not one of {', '.join(VERBS)} with its arguments")


def _now(root: str, change: Change) -> str | None:
    """What the stage holds after an unassignment (an earlier version may hold it again)."""
    if change.action != "unassign" or not change.written or change.stage is None:
        return None
    model = find_model(change.name, cwd=root)
    holder = model.stages.get(change.stage) if model else None
    return f"stage {change.stage} now: {holder}" if holder else f"stage {change.stage} is empty now"
