"""The publishing half of a run: the sticky comment, the commit statuses and the job summary
from a results file that another job wrote.

That job ran the pull request's code, so nothing in the file is trusted: the commit and pull
request to report on come from this job's own event (the `workflow_run` GitHub sent, or the
pull request event itself) and the file must agree with them; the comment's marker and the
statuses' prefix are this job's settings; the gates' verdict is recomputed from their states;
the Plots section is drawn here from the plot records; every text is rendered through the
inert module. No project code is imported or run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_actions import context, gates, output, plots_render, publish, pull_gates, report
from mlops_actions.context import Context
from mlops_actions.errors import MlopsError
from mlops_actions.gates import GateResult, State
from mlops_actions.results import GateRecord, Results
from mlops_actions.rules import parse_rule

if TYPE_CHECKING:
    from mlops_actions.github import GitHub


@dataclass(frozen=True)
class Target:
    """What this job reports on, from its own event."""

    event_name: str
    sha: str
    pr: int | None
    run_url: str | None


def target(ctx: Context, found: Results, gh: GitHub | None) -> Target:
    """The commit and pull request of the trusted event; a MlopsError when the results claim
    others (an artifact of another pull request or commit is refused, not published)."""
    run = context.triggering_run(ctx)
    if run is not None:
        pr = _run_pull_request(run, found, gh)
        trusted = Target(run.event, run.head_sha, pr, run.html_url)
    elif ctx.is_pull_request and ctx.pr_head_sha:
        trusted = Target(ctx.event_name, ctx.pr_head_sha, ctx.pr_number, ctx.run_url)
    elif ctx.sha:
        trusted = Target(ctx.event_name, ctx.sha, None, ctx.run_url)
    else:
        raise MlopsError("no commit to publish for: GITHUB_SHA is not set")
    _agree("event", found.event_name, trusted.event_name)
    _agree("commit", found.sha, trusted.sha)
    _agree("pull request", found.pr, trusted.pr)
    return trusted


def _agree(what: str, claimed: object, trusted: object) -> None:
    if claimed != trusted:
        raise MlopsError(
            f"the results name {what} {_show(claimed)} but this run publishes for "
            f"{_show(trusted)}: refusing results that do not belong to this run"
        )


def _setting(what: str, claimed: str, ours: str, option: str, source: str) -> None:
    """A setting of the publishing job, which the results must have been made with: a status
    prefix from the results could set another check, a marker another workflow's comment."""
    if claimed != ours:
        raise MlopsError(
            f"the results were made with {what} '{claimed[:40]}' but this job publishes with "
            f"'{ours}': set the publish step's {option} input (--{option}) to {source} "
            "value; a results file never chooses it"
        )


def _show(value: object) -> str:
    if value is None:
        return "none"
    return f"#{value}" if isinstance(value, int) else f"'{str(value)[:40]}'"


def _run_pull_request(run: context.TriggeringRun, found: Results, gh: GitHub | None) -> int | None:
    """The pull request of a workflow_run: GitHub lists it for a same-repository pull request;
    for a fork's (an empty list) the claimed number counts only when that pull request's head
    is the run's head commit, asked of GitHub."""
    if run.event not in context.PR_EVENTS:
        return None
    if found.pr is None:
        raise MlopsError(f"the results of a {run.event} run name no pull request; refusing them")
    if run.pull_requests:
        return found.pr if found.pr in run.pull_requests else run.pull_requests[0]
    if gh is None or not run.head_branch or not run.head_owner:
        raise MlopsError(
            "cannot check the pull request of the results without a token and the run's head "
            "branch; refusing them"
        )
    for pull in gh.list_pulls(state="open", head=f"{run.head_owner}:{run.head_branch}"):
        if pull["number"] == found.pr and pull["head"]["sha"] == run.head_sha:
            return found.pr
    raise MlopsError(
        f"pull request #{found.pr} is not an open pull request whose head is the run's commit "
        f"{run.head_sha[:7]} ({run.head_owner}:{run.head_branch}): refusing the results"
    )


def gate_results(records: list[GateRecord], prefix: str) -> list[GateResult]:
    """The gates as the statuses and the report need them; each rule must parse, and its
    status context is built here, under this job's prefix."""
    out = []
    for index, rec in enumerate(records):
        if rec.rule == pull_gates.RULES_CHANGED.text and rec.state == gates.ERROR:
            # The base branch's rules apply and the pull request changed them: an error only.
            rule, where = pull_gates.RULES_CHANGED, f"{prefix}: {pull_gates.RULES_CONTEXT}"
        else:
            try:
                rule = parse_rule(rec.rule)
            except ValueError as exc:
                raise MlopsError(
                    f"results: gates.results[{index}].rule: {exc}; refusing them"
                ) from None
            where = gates.context(rule, prefix)
        state: State = rec.state  # type: ignore[assignment]  # the schema's enum
        out.append(
            GateResult(
                rule=rule,
                state=state,
                value=rec.value,
                baseline=rec.baseline,
                threshold=rec.threshold,
                detail=rec.detail,  # made inert where it is rendered
                description=rec.description,
                context=where,
            )
        )
    return out


def body(found: Results, where: Target, results: list[GateResult], ctx: Context) -> str:
    """The report, rendered here: the facts this job knows (commit, run) are its own."""
    assert found.report is not None
    head_url = f"{ctx.server_url}/{ctx.repository}/commit/{where.sha}" if ctx.repository else None
    data = dataclasses.replace(
        found.report,
        # report.render shows every text of the results through the inert module
        gates_markdown=gates.render_markdown(results, with_headline=False)
        if results
        else gates.NO_GATES,
        verdict=gates.headline(results),
        plots=plots_render.render(found.plots, found.plot_notes, where.run_url),
        run_url=where.run_url,
        head=where.sha,
        head_url=head_url,
    )
    return report.render(data, found.comment_id)


def publish_results(
    ctx: Context,
    gh: GitHub | None,
    found: Results,
    *,
    comment_id: str,
    author: str,
    prefix: str,
) -> int:
    """Statuses, then the job summary and the sticky comment. The exit code is the gates'."""
    _setting("comment id", found.comment_id, comment_id, "comment-id", "the results step's")
    prefix_from = "params.yaml's mlops.gate_options.status_prefix"
    _setting("status prefix", found.status_prefix, prefix, "status-prefix", prefix_from)
    where = target(ctx, found, gh)
    results = gate_results(found.gates, prefix)
    trusted = dataclasses.replace(
        ctx,
        event_name=where.event_name,
        sha=where.sha,
        pr_number=where.pr,
        pr_head_sha=where.sha if where.pr is not None else None,
        run_url=where.run_url,
    )
    with publish.GateStatuses(gh if results or found.error else None, trusted, prefix) as s:
        if found.error is not None or found.report is None:
            raise MlopsError(f"the training job failed: {found.error or 'no report'}")
        s.finish(results)
    text = body(found, where, results, trusted)
    delivery = publish.Delivery(
        comment_id, comment=gh is not None and where.pr is not None, summary=True, author=author
    )
    _deliver(trusted, gh, text, delivery, where)
    publish.write_outputs(
        trusted, gates_passed=gates.exit_code(results) == 0, gates=[r.to_dict() for r in results]
    )
    if found.gates_note:
        output.warning(found.gates_note)
    output.info(gates.summary(results) if results else "no gates")
    return gates.exit_code(results)


def _deliver(
    ctx: Context, gh: GitHub | None, text: str, delivery: publish.Delivery, where: Target
) -> None:
    if not context.append_summary(ctx, text):
        output.info("no job summary outside GitHub Actions (GITHUB_STEP_SUMMARY is not set)")
    if delivery.comment and gh is not None:
        posted = publish.post_comment(gh, ctx, text, delivery.comment_id, where.pr, delivery.author)
        if posted.fallback:
            output.warning("the report is in the job summary only")
