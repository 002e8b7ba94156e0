"""What a run posts on a pull request or commit: sticky comments and commit statuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from mlops_actions.github.repo import RepoClient, given
from mlops_actions.github.types import CommitComment, CommitStatus, IssueComment, StatusState

STATUS_DESCRIPTION_LIMIT = 140  # longer commit status descriptions are a 422

Comment = TypeVar("Comment", IssueComment, CommitComment)


class Comments(RepoClient):
    """Comments on issues and pull requests, on commits (push events have no PR), statuses."""

    def list_issue_comments(self, number: int) -> list[IssueComment]:
        """All comments on issue or pull request `number`, oldest first.

        Permissions: `pull-requests: read` (for a PR) or `issues: read`.
        """
        path = f"{self._repo_path}/issues/{number}/comments"
        return cast(list[IssueComment], self.paginate(path, permission="pull-requests: read"))

    def create_issue_comment(self, number: int, body: str) -> IssueComment:
        """Permissions: `pull-requests: write` (for a PR) or `issues: write`."""
        path = f"/issues/{number}/comments"
        return cast(IssueComment, self._json("POST", path, "pull-requests: write", {"body": body}))

    def update_issue_comment(self, comment_id: int, body: str) -> IssueComment:
        """Permissions: `pull-requests: write` (for a PR) or `issues: write`."""
        path = f"/issues/comments/{comment_id}"
        return cast(IssueComment, self._json("PATCH", path, "pull-requests: write", {"body": body}))

    def upsert_issue_comment(
        self, number: int, body: str, marker: str, author: str | None = None
    ) -> tuple[IssueComment, bool]:
        """Update the first comment on `number` containing `marker` (and written by `author`,
        the token's own login, when given), or create one.

        `marker` (e.g. an HTML comment) is appended to `body` when missing. Returns the comment
        and whether it was created. Permissions: `pull-requests: write` or `issues: write`.
        """
        return self._upsert(
            lambda: self.list_issue_comments(number),
            f"/issues/{number}/comments",
            self.update_issue_comment,
            body,
            (marker, author),
            "pull-requests: write",
        )

    def list_commit_comments(self, sha: str) -> list[CommitComment]:
        """All comments on commit `sha`. Permissions: `contents: read`."""
        path = f"{self._repo_path}/commits/{sha}/comments"
        return cast(list[CommitComment], self.paginate(path, permission="contents: read"))

    def update_commit_comment(self, comment_id: int, body: str) -> CommitComment:
        """Permissions: `contents: write`."""
        path = f"/comments/{comment_id}"
        return cast(CommitComment, self._json("PATCH", path, "contents: write", {"body": body}))

    def upsert_commit_comment(
        self, sha: str, body: str, marker: str, author: str | None = None
    ) -> tuple[CommitComment, bool]:
        """Like upsert_issue_comment, on a commit. Permissions: `contents: write`."""
        return self._upsert(
            lambda: self.list_commit_comments(sha),
            f"/commits/{sha}/comments",
            self.update_commit_comment,
            body,
            (marker, author),
            "contents: write",
        )

    def _upsert(
        self,
        listing: Callable[[], list[Comment]],
        path: str,
        update: Callable[[int, str], Comment],
        body: str,
        ours: tuple[str, str | None],
        permission: str,
    ) -> tuple[Comment, bool]:
        """Update the first comment with the marker (by the author, when one is given), or
        create one; never create two. A stranger's comment that copies the marker is left
        alone: editing it would show our report under their name, for them to rewrite.

        A create whose answer is lost (a 5xx, a timeout) may have happened, so it is not
        resent blindly: the comments are listed again first, and a comment with the marker
        found then is the one we created.
        """
        marker, author = ours
        body = body if marker in body else f"{body.rstrip()}\n\n{marker}\n"

        def attempt(number: int) -> tuple[Comment, bool]:
            for comment in listing():
                user = comment.get("user")
                by = user.get("login") if user else None
                if marker in (comment.get("body") or "") and author in (None, by):
                    if comment.get("body") == body:
                        return comment, number > 1
                    return update(comment["id"], body), number > 1
            url = self._repo_path + path
            resp = self.request("POST", url, json={"body": body}, permission=permission, once=True)
            return cast(Comment, resp.json()), True

        return self.retry_maybe_done(attempt)

    def create_status(
        self,
        sha: str,
        state: StatusState,
        context: str,
        description: str | None = None,
        target_url: str | None = None,
    ) -> CommitStatus:
        """Set status `context` on commit `sha`; a description over 140 characters is cut.

        Permissions: `statuses: write`.
        """
        if description is not None and len(description) > STATUS_DESCRIPTION_LIMIT:
            description = description[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
        optional = given(description=description, target_url=target_url)
        payload = {"state": state, "context": context, **optional}
        path = f"/statuses/{sha}"
        return cast(CommitStatus, self._json("POST", path, "statuses: write", payload))
