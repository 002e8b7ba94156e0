"""Issues, pull requests and repository_dispatch events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, cast

from mlops_actions.github.repo import RepoClient, given
from mlops_actions.github.types import Issue, PullRequest


class Issues(RepoClient):
    def list_issues(
        self, *, labels: str | None = None, state: Literal["open", "closed", "all"] = "open"
    ) -> list[Issue]:
        """Issues (pull requests excluded), newest first; `labels` is comma-separated and an
        issue must carry them all. Permissions: `issues: read`."""
        params = {"state": state, **given(labels=labels)}
        found = self.paginate(f"{self._repo_path}/issues", params, permission="issues: read")
        return [cast(Issue, i) for i in found if "pull_request" not in cast("dict[str, object]", i)]

    def create_issue(
        self, title: str, *, body: str | None = None, labels: list[str] | None = None
    ) -> Issue:
        """Open an issue (labels that do not exist yet are created). Permissions: `issues: write`."""
        payload = {"title": title, **given(body=body, labels=labels)}
        return cast(Issue, self._json("POST", "/issues", "issues: write", payload))

    def update_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: Literal["open", "closed"] | None = None,
        state_reason: Literal["completed", "not_planned", "reopened"] | None = None,
    ) -> Issue:
        """Permissions: `issues: write`."""
        payload = given(title=title, body=body, state=state, state_reason=state_reason)
        return cast(Issue, self._json("PATCH", f"/issues/{number}", "issues: write", payload))

    def list_pulls(
        self,
        *,
        state: Literal["open", "closed", "all"] = "open",
        head: str | None = None,
        base: str | None = None,
    ) -> list[PullRequest]:
        """Pull requests; `head` is `owner:branch`, `base` a branch name.

        Permissions: `pull-requests: read`.
        """
        params = {"state": state, **given(head=head, base=base)}
        pulls = self.paginate(f"{self._repo_path}/pulls", params, permission="pull-requests: read")
        return cast(list[PullRequest], pulls)

    def create_pull(
        self, title: str, head: str, base: str, *, body: str | None = None, draft: bool = False
    ) -> PullRequest:
        """Open a pull request from `head` into `base`.

        Permissions: `pull-requests: write` (and, for GITHUB_TOKEN, the repository setting
        "Allow GitHub Actions to create and approve pull requests").
        """
        payload = {"title": title, "head": head, "base": base, "draft": draft, **given(body=body)}
        return cast(PullRequest, self._json("POST", "/pulls", "pull-requests: write", payload))

    def update_pull(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: Literal["open", "closed"] | None = None,
        base: str | None = None,
    ) -> PullRequest:
        """Permissions: `pull-requests: write`."""
        payload = given(title=title, body=body, state=state, base=base)
        path = f"/pulls/{number}"
        return cast(PullRequest, self._json("PATCH", path, "pull-requests: write", payload))

    def create_dispatch_event(self, event_type: str, client_payload: Mapping[str, object]) -> None:
        """Start the workflows `on: repository_dispatch` of `event_type` (GitHub answers 204;
        at most 10 top-level keys in `client_payload`). Unlike a tag pushed with GITHUB_TOKEN,
        this event does start workflows. Permissions: `contents: write`."""
        payload = {"event_type": event_type, "client_payload": dict(client_payload)}
        self.request(
            "POST", f"{self._repo_path}/dispatches", json=payload, permission="contents: write"
        )
