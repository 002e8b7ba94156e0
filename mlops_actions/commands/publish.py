"""`mlops-actions publish DIR`: post the comment, statuses and job summary of a results file.

For the job that holds the write token and never runs the pull request's code: no checkout;
nothing of the project is read but the results file and, through GitHub's contents API, the
rules of the params file at the base commit (see handoff.py).
"""

from __future__ import annotations

from mlops_actions.errors import MlopsError
from mlops_actions.flow import deliver, publishing, results
from mlops_actions.github import context
from mlops_actions.tracking import ci as tracking


def main(
    directory: str,
    *,
    token: str | None,
    comment_id: str,
    author: str,
    prefix: str,
    params: str = "params.yaml",
) -> int:
    ctx = context.load(token=token)
    found = results.read(directory)
    gh = deliver.client_in_actions(ctx)

    def where() -> publishing.Target:
        return publishing.target(ctx, found, gh)

    def record() -> None:
        tracking.record_published(ctx, gh, found, directory, comment_id, where)

    try:
        code = publishing.publish_results(
            ctx, gh, found, comment_id=comment_id, author=author, prefix=prefix, params=params
        )
    except MlopsError:
        if found.error is not None:  # a failed run is recorded as failed, with what it has
            record()
        raise
    # After the report: recording never keeps it from being posted.
    record()
    return code
