"""What a run leaves on GitHub: the sticky report comment, commit statuses, the job summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from mlops_actions import output, report
from mlops_actions.context import Context
from mlops_actions.errors import GitHubError

if TYPE_CHECKING:
    from mlops_actions.gates import GateResult
    from mlops_actions.github import GitHub
    from mlops_actions.github_types import StatusState


@dataclass(frozen=True)
class Posted:
    where: str  # "pull request #12", "commit abc1234", or "" when nothing was posted
    url: str | None
    created: bool
    fallback: bool  # the token could not write; the report went to the job summary only


def comment_target(ctx: Context, pr: int | None) -> tuple[str, int | str] | None:
    """Where the sticky comment goes: an explicit PR, the event's PR, or the pushed commit."""
    if pr is not None:
        return "pr", pr
    if ctx.is_pull_request and ctx.pr_number is not None:
        return "pr", ctx.pr_number
    if ctx.event_name == "push" and ctx.sha:
        return "commit", ctx.sha
    return None


def post_comment(gh: GitHub, ctx: Context, body: str, comment_id: str, pr: int | None) -> Posted:
    """Create or update the one comment that carries this report's marker.

    A read-only token (a pull request from a fork) is a warning, not a failure: the report is
    in the job summary instead.
    """
    from mlops_actions.github import GitHubRequestError

    target = comment_target(ctx, pr)
    if target is None:
        output.info(f"no pull request or pushed commit to comment on ({ctx.event_name} event)")
        return Posted("", None, False, False)
    kind, key = target
    marker = report.marker(comment_id)
    body = report.fit(body, report.COMMENT_LIMIT, summary_url=ctx.run_url)
    try:
        if kind == "pr":
            comment: Any
            comment, created = gh.upsert_issue_comment(int(key), body, marker)
            where = f"pull request #{key}"
        else:
            comment, created = gh.upsert_commit_comment(str(key), body, marker)
            where = f"commit {str(key)[:7]}"
    except GitHubRequestError as exc:
        if exc.status == 403:
            why = "a pull request from a fork gets a read-only token" if ctx.is_fork else str(exc)
            output.warning(
                f"could not comment on the {kind} ({why}); the report is in the job summary"
            )
            return Posted("", None, False, True)
        if exc.status == 404 and kind == "pr":
            raise GitHubError(
                f"pull request #{key} not found in {gh.repository}, or the token cannot read it: "
                "check the number (--pr, or the event's) and the job's `permissions:` "
                f"`pull-requests: write` ({exc.method} {exc.path}: 404 {exc.github_message})"
            ) from None
        raise
    verb = "posted" if created else "updated"
    output.info(f"report {verb} on {where}: {comment.get('html_url', '')}")
    return Posted(where, comment.get("html_url"), created, False)


def post_pending(gh: GitHub, ctx: Context, prefix: str) -> None:
    """Mark the overall gate context pending at the start, so a required check never goes missing."""
    from mlops_actions.gates import overall_context

    sha = ctx.status_sha
    if sha:
        gh.create_status(
            sha, "pending", overall_context(prefix), "training and evaluating…", ctx.run_url
        )


def post_statuses(gh: GitHub, ctx: Context, results: list[GateResult], prefix: str) -> int:
    """One status per rule and one overall; returns how many were sent."""
    from mlops_actions import gates

    sha = ctx.status_sha
    if not sha:
        output.warning("no commit to put statuses on (no GITHUB_SHA); statuses not posted")
        return 0
    for result in results:
        state = cast("StatusState", gates.GITHUB_STATES[result.state])
        gh.create_status(sha, state, result.context, result.description, ctx.run_url)
    overall = cast("StatusState", gates.GITHUB_STATES[gates.overall(results)])
    gh.create_status(
        sha, overall, gates.overall_context(prefix), gates.summary(results), ctx.run_url
    )
    return len(results) + 1


def post_error(gh: GitHub, ctx: Context, prefix: str, message: str) -> None:
    """The overall context ends `error` when the run itself failed, never stays pending."""
    from mlops_actions.gates import overall_context

    sha = ctx.status_sha
    if sha:
        gh.create_status(sha, "error", overall_context(prefix), message, ctx.run_url)


def create_release(
    gh: GitHub, tag: str, commit: str, card: dict[str, Any], model: Path | None
) -> str:
    """A GitHub release for `tag`: the model card as its body, the model file as an asset."""
    body = (
        f"Model **{tag}**, promoted by mlops-actions.\n\n"
        f"```json\n{json.dumps(card, indent=2, sort_keys=True, default=str)}\n```\n"
    )
    existing = gh.get_release_by_tag(tag)
    release = existing or gh.create_release(
        tag, name=tag, body=body[:125_000], target_commitish=commit, make_latest="false"
    )
    if model is not None and model.is_file():
        name = f"{tag.replace('@', '-').replace('/', '-')}{''.join(model.suffixes[-1:])}"
        if not any(a.get("name") == name for a in release.get("assets", [])):
            gh.upload_release_asset(
                release, model, name=name, content_type="application/octet-stream"
            )
    return str(release.get("html_url", ""))
