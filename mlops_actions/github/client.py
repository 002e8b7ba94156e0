"""A small GitHub REST client: one typed method per endpoint this project calls.

The transport (retries, rate limits, pagination, one-line errors, no token leaks) is
github_http.RestClient; the JSON types are in github_types.

Works against github.com and GitHub Enterprise Server alike: every URL is built from the API
base URL ($GITHUB_API_URL, e.g. https://ghes.example.com/api/v3), and uploads go to the host
GitHub names in the release's `upload_url`.

Each method's docstring names the `permissions:` the workflow's GITHUB_TOKEN needs for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import quote

from mlops_actions.errors import GitHubError
from mlops_actions.github.http import GitHubRequestError, MaybeDoneError, RestClient
from mlops_actions.github.types import (
    MAX_ASSET_SIZE,
    CommitComment,
    CommitStatus,
    GitRef,
    GitTag,
    Issue,
    IssueComment,
    PullRequest,
    Release,
    ReleaseAsset,
    Repository,
    StatusState,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from mlops_actions.github.context import Context
    from mlops_actions.github.http import Options

__all__ = ["GitHub", "GitHubRequestError", "MaybeDoneError", "RefExistsError"]

STATUS_DESCRIPTION_LIMIT = 140  # longer commit status descriptions are a 422

T = TypeVar("T")
Comment = TypeVar("Comment", IssueComment, CommitComment)


class RefExistsError(GitHubRequestError):
    """create_ref: the ref already exists and points elsewhere."""


class GitHub(RestClient):
    """GitHub's REST API for one repository, one typed method per endpoint.

    RestClient does the retries, rate limits and error messages; `options` are its. Writes are
    retried too: create_ref tolerates its own earlier success, and sticky comments are found
    again by their marker.
    """

    def __init__(
        self, api_url: str, token: str | None, repository: str, **options: Unpack[Options]
    ) -> None:
        if "/" not in repository:
            raise GitHubError(f"repository '{repository}' is not of the form owner/name")
        super().__init__(api_url, token, **options)
        self.repository = repository
        self._repo_path = f"/repos/{repository}"

    @classmethod
    def from_context(cls, ctx: Context, **options: Unpack[Options]) -> GitHub:
        if not ctx.repository:
            raise GitHubError(
                "no GitHub repository: set GITHUB_REPOSITORY=owner/name or add a github.com "
                "remote named origin"
            )
        return cls(ctx.api_url, ctx.token, ctx.repository, **options)

    def __repr__(self) -> str:
        auth = "token" if self._token else "anonymous"
        return f"GitHub({self.api_url!r}, {self.repository!r}, {auth})"

    # ---- repository ----------------------------------------------------------------------

    def get_repo(self) -> Repository:
        """The repository (its default branch among others). Permissions: `metadata: read`."""
        return cast(Repository, self._json("GET", ""))

    def default_branch(self) -> str:
        """Permissions: `metadata: read`."""
        return self.get_repo()["default_branch"]

    # ---- issue and pull request comments ---------------------------------------------------

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

    # ---- commit comments (for push events, which have no PR) ------------------------------

    def list_commit_comments(self, sha: str) -> list[CommitComment]:
        """All comments on commit `sha`. Permissions: `contents: read`."""
        path = f"{self._repo_path}/commits/{sha}/comments"
        return cast(list[CommitComment], self.paginate(path, permission="contents: read"))

    def create_commit_comment(self, sha: str, body: str) -> CommitComment:
        """Permissions: `contents: write`."""
        path = f"/commits/{sha}/comments"
        return cast(CommitComment, self._json("POST", path, "contents: write", {"body": body}))

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
        body = _with_marker(body, marker)

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

    # ---- commit statuses -------------------------------------------------------------------

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
        optional = _given(description=description, target_url=target_url)
        payload = {"state": state, "context": context, **optional}
        path = f"/statuses/{sha}"
        return cast(CommitStatus, self._json("POST", path, "statuses: write", payload))

    def list_statuses(self, ref: str) -> list[CommitStatus]:
        """Every status on `ref` (a sha, heads/BRANCH or tags/TAG), newest first.

        Permissions: `statuses: read`.
        """
        path = f"{self._repo_path}/commits/{_quote_ref(ref)}/statuses"
        return cast(list[CommitStatus], self.paginate(path, permission="statuses: read"))

    # ---- git tags and refs -----------------------------------------------------------------

    def create_tag_object(
        self,
        tag: str,
        message: str,
        object_sha: str,
        *,
        object_type: Literal["commit", "tree", "blob"] = "commit",
        tagger: Mapping[str, str] | None = None,
    ) -> GitTag:
        """An annotated tag object (it is not a ref yet: follow with create_ref).

        `tagger` has `name`, `email` and optionally `date`. Permissions: `contents: write`.
        """
        payload = {
            "tag": tag,
            "message": message,
            "object": object_sha,
            "type": object_type,
            **_given(tagger=None if tagger is None else dict(tagger)),
        }
        return cast(GitTag, self._json("POST", "/git/tags", "contents: write", payload))

    def get_tag_object(self, sha: str) -> GitTag:
        """An annotated tag object by its sha. Permissions: `contents: read`."""
        return cast(GitTag, self._json("GET", f"/git/tags/{sha}", "contents: read"))

    def create_ref(self, ref: str, sha: str) -> GitRef:
        """Create `ref` (fully qualified: refs/tags/NAME) pointing at `sha`.

        Creating a ref that already points at `sha` is not an error (so a retried request that
        did succeed is fine); one that points elsewhere raises RefExistsError.
        Permissions: `contents: write`.
        """
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise ValueError(
                f"create_ref needs a fully qualified ref like refs/tags/v1, not {ref!r}"
            )
        try:
            created = self._json("POST", "/git/refs", "contents: write", {"ref": ref, "sha": sha})
        except GitHubRequestError as exc:
            if exc.status != 422 or "already exists" not in exc.github_message.lower():
                raise
            existing = self.get_ref(ref.removeprefix("refs/"))
            if existing is not None and existing["object"]["sha"] == sha:
                return existing
            raise RefExistsError(
                str(exc),
                method=exc.method,
                path=exc.path,
                status=exc.status,
                github_message=exc.github_message,
            ) from None
        return cast(GitRef, created)

    def get_ref(self, ref: str) -> GitRef | None:
        """The ref `tags/NAME` or `heads/BRANCH`, or None when it does not exist.

        Permissions: `contents: read`.
        """
        return cast("GitRef | None", self._get_or_none(f"/git/ref/{_quote_ref(ref)}"))

    def list_matching_refs(self, prefix: str) -> list[GitRef]:
        """Every ref starting with `prefix` (e.g. `tags/model@`), in one call.

        Permissions: `contents: read`.
        """
        path = f"{self._repo_path}/git/matching-refs/{_quote_ref(prefix)}"
        return cast(list[GitRef], self.paginate(path, permission="contents: read", per_page=None))

    # ---- git objects (the git data API) ----------------------------------------------------

    def create_blob(self, data: bytes) -> str:
        """A blob of `data` (sent base64); its sha. Permissions: `contents: write`."""
        import base64

        payload = {"content": base64.b64encode(data).decode(), "encoding": "base64"}
        created = cast(dict[str, Any], self._json("POST", "/git/blobs", "contents: write", payload))
        return str(created["sha"])

    def create_tree(self, entries: list[Mapping[str, str]], base_tree: str | None = None) -> str:
        """A tree: `base_tree` with `entries` ({path, mode, type, sha}) put in; its sha.

        Permissions: `contents: write`."""
        payload: dict[str, object] = {"tree": [dict(e) for e in entries]}
        if base_tree is not None:
            payload["base_tree"] = base_tree
        created = cast(dict[str, Any], self._json("POST", "/git/trees", "contents: write", payload))
        return str(created["sha"])

    def create_commit(
        self,
        message: str,
        tree: str,
        parents: list[str],
        *,
        author: Mapping[str, str] | None = None,
    ) -> str:
        """A commit object (no ref moves); its sha. Permissions: `contents: write`."""
        payload: dict[str, object] = {"message": message, "tree": tree, "parents": parents}
        if author is not None:
            payload["author"] = dict(author)
        created = cast(
            dict[str, Any], self._json("POST", "/git/commits", "contents: write", payload)
        )
        return str(created["sha"])

    def get_commit_object(self, sha: str) -> dict[str, Any] | None:
        """The git commit `sha` (its tree and parents), or None. Permissions: `contents: read`."""
        return cast("dict[str, Any] | None", self._get_or_none(f"/git/commits/{sha}"))

    # ---- repository_dispatch ----------------------------------------------------------------

    def create_dispatch_event(self, event_type: str, client_payload: Mapping[str, object]) -> None:
        """Start the workflows `on: repository_dispatch` of `event_type` (GitHub answers 204;
        at most 10 top-level keys in `client_payload`). Unlike a tag pushed with GITHUB_TOKEN,
        this event does start workflows. Permissions: `contents: write`."""
        payload = {"event_type": event_type, "client_payload": dict(client_payload)}
        self.request(
            "POST", f"{self._repo_path}/dispatches", json=payload, permission="contents: write"
        )

    # ---- releases --------------------------------------------------------------------------

    def create_release(
        self,
        tag: str,
        *,
        name: str | None = None,
        body: str | None = None,
        target_commitish: str | None = None,
        draft: bool = False,
        prerelease: bool = False,
        make_latest: Literal["true", "false", "legacy"] | None = None,
    ) -> Release:
        """A release for `tag` (GitHub creates the tag from target_commitish if it is missing).

        Permissions: `contents: write`.
        """
        payload = {
            "tag_name": tag,
            "draft": draft,
            "prerelease": prerelease,
            **_given(
                name=name, body=body, target_commitish=target_commitish, make_latest=make_latest
            ),
        }
        return cast(Release, self._json("POST", "/releases", "contents: write", payload))

    def get_release_by_tag(self, tag: str) -> Release | None:
        """The published release of `tag`, or None. Permissions: `contents: read`."""
        return cast("Release | None", self._get_or_none(f"/releases/tags/{_quote_ref(tag)}"))

    def download_release_asset(self, asset_id: int) -> bytes:
        """The content of a release asset (GitHub redirects to its storage; the token is not
        sent to another host). Permissions: `contents: read`."""
        path = f"{self._repo_path}/releases/assets/{asset_id}"
        resp = self.request(
            "GET", path, headers={"Accept": "application/octet-stream"}, permission="contents: read"
        )
        return resp.content

    def upload_release_asset(
        self,
        release: Release,
        path: str | Path,
        *,
        name: str | None = None,
        label: str | None = None,
        content_type: str = "application/octet-stream",
    ) -> ReleaseAsset:
        """Upload the file at `path` to `release`, to the host its `upload_url` names.

        Permissions: `contents: write`.
        """
        file = Path(path)
        try:
            size = file.stat().st_size
        except OSError as exc:
            raise GitHubError(f"release asset {file}: {exc.strerror}") from None
        if size >= MAX_ASSET_SIZE:
            raise GitHubError(f"release asset {file}: {size} bytes; GitHub's limit is 2 GiB")
        upload_url = release["upload_url"].split("{", 1)[0]  # drop the {?name,label} template

        resp = self.request(
            "POST",
            upload_url,
            params={"name": name or file.name, **_given(label=label)},
            data=file.read_bytes,  # read on each attempt
            headers={"Content-Type": content_type},
            permission="contents: write",
        )
        return cast(ReleaseAsset, resp.json())

    # ---- pull requests ---------------------------------------------------------------------

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
        params = {"state": state, **_given(head=head, base=base)}
        pulls = self.paginate(f"{self._repo_path}/pulls", params, permission="pull-requests: read")
        return cast(list[PullRequest], pulls)

    def file_at(self, path: str, ref: str) -> bytes | None:
        """The bytes of the file `path` at commit `ref` (the contents API), or None when the
        commit has no such file. Permissions: `contents: read`."""
        import base64

        url = f"{self._repo_path}/contents/{quote(path)}"
        resp = self.request(
            "GET", url, params={"ref": ref}, permission="contents: read", allow_404=True
        )
        found = None if resp.status_code == 404 else resp.json()
        if not isinstance(found, dict) or found.get("type") != "file":
            return None
        return base64.b64decode(str(found.get("content") or ""))

    def create_pull(
        self, title: str, head: str, base: str, *, body: str | None = None, draft: bool = False
    ) -> PullRequest:
        """Open a pull request from `head` into `base`.

        Permissions: `pull-requests: write` (and, for GITHUB_TOKEN, the repository setting
        "Allow GitHub Actions to create and approve pull requests").
        """
        payload = {"title": title, "head": head, "base": base, "draft": draft, **_given(body=body)}
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
        payload = _given(title=title, body=body, state=state, base=base)
        path = f"/pulls/{number}"
        return cast(PullRequest, self._json("PATCH", path, "pull-requests: write", payload))

    # ---- issues ----------------------------------------------------------------------------

    def list_issues(
        self, *, labels: str | None = None, state: Literal["open", "closed", "all"] = "open"
    ) -> list[Issue]:
        """Issues (pull requests excluded), newest first; `labels` is comma-separated and an
        issue must carry them all. Permissions: `issues: read`."""
        params = {"state": state, **_given(labels=labels)}
        found = self.paginate(f"{self._repo_path}/issues", params, permission="issues: read")
        return [cast(Issue, i) for i in found if "pull_request" not in cast("dict[str, object]", i)]

    def create_issue(
        self, title: str, *, body: str | None = None, labels: list[str] | None = None
    ) -> Issue:
        """Open an issue (labels that do not exist yet are created). Permissions: `issues: write`."""
        payload = {"title": title, **_given(body=body, labels=labels)}
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
        payload = _given(title=title, body=body, state=state, state_reason=state_reason)
        return cast(Issue, self._json("PATCH", f"/issues/{number}", "issues: write", payload))

    # ---- one request to this repository ----------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        permission: str | None = None,
        payload: Mapping[str, object] | None = None,
    ) -> object:
        """The JSON GitHub answers to `method` on the repository's `path` (e.g. /pulls)."""
        resp = self.request(method, self._repo_path + path, json=payload, permission=permission)
        return resp.json()

    def _get_or_none(self, path: str) -> object | None:
        """GET the repository's `path`: its JSON, or None when it is not there (a 404).

        Permissions: `contents: read`.
        """
        url = self._repo_path + path
        resp = self.request("GET", url, permission="contents: read", allow_404=True)
        return None if resp.status_code == 404 else resp.json()


def _given(**fields: T | None) -> dict[str, T]:
    """The fields that are not None: the optional parts of a request."""
    return {key: value for key, value in fields.items() if value is not None}


def _with_marker(body: str, marker: str) -> str:
    return body if marker in body else f"{body.rstrip()}\n\n{marker}\n"


def _quote_ref(ref: str) -> str:
    """A ref or tag name as a URL path: slashes stay, `#`, `%`, `?` and spaces are escaped."""
    return quote(ref, safe="/@:+!$&'()*,;=~")
