"""A small GitHub REST client: retries, rate limits, pagination, one-line errors, no token leaks.

Works against github.com and GitHub Enterprise Server alike: every URL is built from the API
base URL ($GITHUB_API_URL, e.g. https://ghes.example.com/api/v3), and uploads go to the host
GitHub names in the release's `upload_url`.

Each method's docstring names the `permissions:` the workflow's GITHUB_TOKEN needs for it.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import quote, urlsplit

import requests

from mlops_actions import __version__, output
from mlops_actions.errors import GitHubError
from mlops_actions.github_types import (
    CommitComment,
    CommitStatus,
    GitRef,
    GitTag,
    IssueComment,
    PullRequest,
    Release,
    ReleaseAsset,
    Repository,
    StatusState,
)

if TYPE_CHECKING:
    from mlops_actions.context import Context

API_VERSION = "2022-11-28"
MAX_ASSET_SIZE = 2 * 1024**3  # GitHub refuses release assets of 2 GiB or more
STATUS_DESCRIPTION_LIMIT = 140  # longer commit status descriptions are a 422


class GitHubRequestError(GitHubError):
    """GitHub answered with an error status; `status` and `github_message` say which."""

    def __init__(self, message: str, *, method: str, path: str, status: int, github_message: str):
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.github_message = github_message


class RefExistsError(GitHubRequestError):
    """create_ref: the ref already exists and points elsewhere."""


class MaybeDoneError(GitHubError):
    """A write that must not be sent twice failed in a way that leaves open whether GitHub did
    it (a 5xx answer, a timeout, a dropped connection): look before sending it again."""


_SECONDARY_RE = re.compile(r"secondary rate limit|abuse detection", re.IGNORECASE)
_ERRNO_RE = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


class GitHub:
    """GitHub's REST API for one repository.

    Transient failures (5xx, connection errors, timeouts) are retried with exponential backoff
    and jitter; rate limits are waited out as GitHub asks. Both are bounded by `max_attempts`
    and by `max_wait` seconds of sleeping in total. `sleep` and `clock` are injectable so tests
    can check the waits without waiting. Writes are retried too: create_ref tolerates its own
    earlier success, and sticky comments are found again by their marker.

    `timeout` is (connect, read) seconds for each attempt. The token is only ever sent to the
    API host (and to github.com's uploads host), and no message or repr contains it.
    """

    def __init__(
        self,
        api_url: str,
        token: str | None,
        repository: str,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        max_attempts: int = 5,
        max_wait: float = 120.0,
        backoff: float = 1.0,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        if "/" not in repository:
            raise GitHubError(f"repository '{repository}' is not of the form owner/name")
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.max_wait = max_wait
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self._clock = clock
        self._token = (token or "").strip() or None  # a trailing newline from a file is common
        output.add_secret(self._token)
        self._session = session or requests.Session()
        self._repo_path = f"/repos/{repository}"

    @classmethod
    def from_context(cls, ctx: Context, **kwargs: Any) -> GitHub:
        if not ctx.repository:
            raise GitHubError(
                "no GitHub repository: set GITHUB_REPOSITORY=owner/name or add a github.com "
                "remote named origin"
            )
        return cls(ctx.api_url, ctx.token, ctx.repository, **kwargs)

    def __repr__(self) -> str:
        auth = "token" if self._token else "anonymous"
        return f"GitHub({self.api_url!r}, {self.repository!r}, {auth})"

    def close(self) -> None:
        self._session.close()

    # ---- repository ----------------------------------------------------------------------

    def get_repo(self) -> Repository:
        """The repository (its default branch among others). Permissions: `metadata: read`."""
        return cast(Repository, self.request("GET", self._repo_path).json())

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
        path = f"{self._repo_path}/issues/{number}/comments"
        resp = self.request("POST", path, json={"body": body}, permission="pull-requests: write")
        return cast(IssueComment, resp.json())

    def update_issue_comment(self, comment_id: int, body: str) -> IssueComment:
        """Permissions: `pull-requests: write` (for a PR) or `issues: write`."""
        path = f"{self._repo_path}/issues/comments/{comment_id}"
        resp = self.request("PATCH", path, json={"body": body}, permission="pull-requests: write")
        return cast(IssueComment, resp.json())

    def upsert_issue_comment(
        self, number: int, body: str, marker: str
    ) -> tuple[IssueComment, bool]:
        """Update the first comment on `number` containing `marker`, or create one.

        `marker` (e.g. an HTML comment) is appended to `body` when missing. Returns the comment
        and whether it was created. Permissions: `pull-requests: write` or `issues: write`.
        """
        path = f"{self._repo_path}/issues/{number}/comments"
        found = self._upsert(
            lambda: self.list_issue_comments(number),
            path,
            self.update_issue_comment,
            _with_marker(body, marker),
            marker,
            "pull-requests: write",
        )
        return cast(IssueComment, found[0]), found[1]

    # ---- commit comments (for push events, which have no PR) ------------------------------

    def list_commit_comments(self, sha: str) -> list[CommitComment]:
        """All comments on commit `sha`. Permissions: `contents: read`."""
        path = f"{self._repo_path}/commits/{sha}/comments"
        return cast(list[CommitComment], self.paginate(path, permission="contents: read"))

    def create_commit_comment(self, sha: str, body: str) -> CommitComment:
        """Permissions: `contents: write`."""
        path = f"{self._repo_path}/commits/{sha}/comments"
        resp = self.request("POST", path, json={"body": body}, permission="contents: write")
        return cast(CommitComment, resp.json())

    def update_commit_comment(self, comment_id: int, body: str) -> CommitComment:
        """Permissions: `contents: write`."""
        path = f"{self._repo_path}/comments/{comment_id}"
        resp = self.request("PATCH", path, json={"body": body}, permission="contents: write")
        return cast(CommitComment, resp.json())

    def upsert_commit_comment(self, sha: str, body: str, marker: str) -> tuple[CommitComment, bool]:
        """Like upsert_issue_comment, on a commit. Permissions: `contents: write`."""
        path = f"{self._repo_path}/commits/{sha}/comments"
        found = self._upsert(
            lambda: self.list_commit_comments(sha),
            path,
            self.update_commit_comment,
            _with_marker(body, marker),
            marker,
            "contents: write",
        )
        return cast(CommitComment, found[0]), found[1]

    def _upsert(
        self,
        listing: Callable[[], Sequence[Mapping[str, Any]]],
        path: str,
        update: Callable[[int, str], Mapping[str, Any]],
        body: str,
        marker: str,
        permission: str,
    ) -> tuple[Mapping[str, Any], bool]:
        """Update the first comment with `marker`, or create one; never create two.

        A create whose answer is lost (a 5xx, a timeout) may have happened, so it is not
        resent blindly: the comments are listed again first, and a comment with the marker
        found then is the one we created.
        """
        waited = 0.0
        for attempt in range(1, self.max_attempts + 1):
            for comment in listing():
                if marker in (comment.get("body") or ""):
                    if comment.get("body") == body:
                        return comment, attempt > 1
                    return update(comment["id"], body), attempt > 1
            try:
                resp = self.request(
                    "POST", path, json={"body": body}, permission=permission, once=True
                )
                return resp.json(), True
            except MaybeDoneError as exc:
                delay = self._backoff(attempt)
                if attempt == self.max_attempts or waited + delay > self.max_wait:
                    tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                    raise GitHubError(
                        f"{exc} — gave up after {tries} over {waited:.1f} s"
                    ) from None
                self._sleep(delay)
                waited += delay
        raise AssertionError("unreachable")  # pragma: no cover

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
        payload: dict[str, Any] = {"state": state, "context": context}
        if description is not None:
            if len(description) > STATUS_DESCRIPTION_LIMIT:
                description = description[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
            payload["description"] = description
        if target_url is not None:
            payload["target_url"] = target_url
        path = f"{self._repo_path}/statuses/{sha}"
        resp = self.request("POST", path, json=payload, permission="statuses: write")
        return cast(CommitStatus, resp.json())

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
        payload: dict[str, Any] = {
            "tag": tag,
            "message": message,
            "object": object_sha,
            "type": object_type,
        }
        if tagger is not None:
            payload["tagger"] = dict(tagger)
        path = f"{self._repo_path}/git/tags"
        resp = self.request("POST", path, json=payload, permission="contents: write")
        return cast(GitTag, resp.json())

    def get_tag_object(self, sha: str) -> GitTag:
        """An annotated tag object by its sha. Permissions: `contents: read`."""
        resp = self.request("GET", f"{self._repo_path}/git/tags/{sha}", permission="contents: read")
        return cast(GitTag, resp.json())

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
        path = f"{self._repo_path}/git/refs"
        try:
            resp = self.request(
                "POST", path, json={"ref": ref, "sha": sha}, permission="contents: write"
            )
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
        return cast(GitRef, resp.json())

    def get_ref(self, ref: str) -> GitRef | None:
        """The ref `tags/NAME` or `heads/BRANCH`, or None when it does not exist.

        Permissions: `contents: read`.
        """
        path = f"{self._repo_path}/git/ref/{_quote_ref(ref)}"
        resp = self.request("GET", path, permission="contents: read", allow_404=True)
        if resp.status_code == 404:
            return None
        return cast(GitRef, resp.json())

    def list_matching_refs(self, prefix: str) -> list[GitRef]:
        """Every ref starting with `prefix` (e.g. `tags/model@`), in one call.

        Permissions: `contents: read`.
        """
        path = f"{self._repo_path}/git/matching-refs/{_quote_ref(prefix)}"
        return cast(list[GitRef], self.paginate(path, permission="contents: read", per_page=None))

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
        payload: dict[str, Any] = {"tag_name": tag, "draft": draft, "prerelease": prerelease}
        for key, value in (
            ("name", name),
            ("body", body),
            ("target_commitish", target_commitish),
            ("make_latest", make_latest),
        ):
            if value is not None:
                payload[key] = value
        path = f"{self._repo_path}/releases"
        resp = self.request("POST", path, json=payload, permission="contents: write")
        return cast(Release, resp.json())

    def get_release_by_tag(self, tag: str) -> Release | None:
        """The published release of `tag`, or None. Permissions: `contents: read`."""
        path = f"{self._repo_path}/releases/tags/{_quote_ref(tag)}"
        resp = self.request("GET", path, permission="contents: read", allow_404=True)
        if resp.status_code == 404:
            return None
        return cast(Release, resp.json())

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
        params = {"name": name or file.name}
        if label is not None:
            params["label"] = label

        def body() -> bytes:
            return file.read_bytes()

        resp = self.request(
            "POST",
            upload_url,
            params=params,
            data=body,
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
        params: dict[str, str] = {"state": state}
        if head is not None:
            params["head"] = head
        if base is not None:
            params["base"] = base
        path = f"{self._repo_path}/pulls"
        return cast(
            list[PullRequest], self.paginate(path, params, permission="pull-requests: read")
        )

    def create_pull(
        self, title: str, head: str, base: str, *, body: str | None = None, draft: bool = False
    ) -> PullRequest:
        """Open a pull request from `head` into `base`.

        Permissions: `pull-requests: write` (and, for GITHUB_TOKEN, the repository setting
        "Allow GitHub Actions to create and approve pull requests").
        """
        payload: dict[str, Any] = {"title": title, "head": head, "base": base, "draft": draft}
        if body is not None:
            payload["body"] = body
        path = f"{self._repo_path}/pulls"
        resp = self.request("POST", path, json=payload, permission="pull-requests: write")
        return cast(PullRequest, resp.json())

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
        payload = {
            k: v
            for k, v in (("title", title), ("body", body), ("state", state), ("base", base))
            if v is not None
        }
        path = f"{self._repo_path}/pulls/{number}"
        resp = self.request("PATCH", path, json=payload, permission="pull-requests: write")
        return cast(PullRequest, resp.json())

    # ---- transport -------------------------------------------------------------------------

    def paginate(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        permission: str | None = None,
        per_page: int | None = 100,
    ) -> list[Any]:
        """GET `path` and every following page its Link headers name; the items of all pages."""
        query: dict[str, Any] = dict(params or {})
        if per_page is not None:
            query["per_page"] = per_page
        items: list[Any] = []
        url: str | None = path
        while url is not None:
            resp = self.request("GET", url, params=query, permission=permission)
            page = resp.json()
            if not isinstance(page, list):
                raise GitHubError(f"GET {self._display(url)}: expected a list, got {type(page)}")
            items.extend(page)
            url = resp.links.get("next", {}).get("url")
            query = {}  # the next URL carries the query
        return items

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Callable[[], bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        permission: str | None = None,
        allow_404: bool = False,
        once: bool = False,
    ) -> requests.Response:
        """Send one API request (path relative to the API URL, or a full URL), with retries.

        Returns the response when it is a success (or a 404 with allow_404); raises
        GitHubRequestError for an error answer and GitHubError when GitHub cannot be reached.
        `permission` (e.g. "statuses: write") is named in the hint of a 403. With `once` (a
        write that must not happen twice), a failure that may have done it raises
        MaybeDoneError instead of being retried; rate limits are still waited out.
        """
        if "://" in path:
            self._check_same_service(path)
        url = path if "://" in path else self.api_url + path
        shown = self._display(url)
        all_headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"mlops-actions/{__version__}",
        }
        if self._token:
            all_headers["Authorization"] = f"Bearer {self._token}"
        all_headers.update(headers or {})
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            failure: str
            resp: requests.Response | None = None
            try:
                resp = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data() if data is not None else None,
                    headers=all_headers,
                    timeout=self.timeout,
                )
            except requests.Timeout as exc:
                kind = "connecting" if isinstance(exc, requests.ConnectTimeout) else "waiting"
                limit = self.timeout[0] if kind == "connecting" else self.timeout[1]
                failure = f"timed out {kind} ({limit:g} s)"
                delay: float | None = self._backoff(attempt)
            except requests.ConnectionError as exc:
                failure = f"cannot connect to {urlsplit(url).netloc} ({_connection_reason(exc)})"
                delay = self._backoff(attempt)
            except requests.RequestException as exc:
                # Not transient (an invalid URL or header): say what, without the token.
                raise GitHubError(f"{method} {shown}: {self._safe_text(exc)}") from None
            else:
                if resp.status_code < 400 or (allow_404 and resp.status_code == 404):
                    return resp
                delay = self._retry_delay(resp, attempt)
                failure = ""
            if delay is None:
                assert resp is not None
                raise self._error(method, shown, resp, permission)
            if once and (resp is None or resp.status_code >= 500):
                what = failure if resp is None else f"{resp.status_code} {_github_message(resp)}"
                raise MaybeDoneError(output.redact(" ".join(f"{method} {shown}: {what}".split())))
            if attempt >= self.max_attempts or waited + delay > self.max_wait:
                raise self._give_up(method, shown, resp, failure, attempt, waited, delay)
            self._sleep(delay)
            waited += delay

    def _safe_text(self, exc: Exception) -> str:
        """The exception's text, unless the token appears in it in any spelling."""
        text = str(exc)
        token = self._token
        if token and any(form in text for form in (token, repr(token)[1:-1], token.strip())):
            return f"{type(exc).__name__}: the token contains a character a header cannot carry"
        return output.redact(f"{type(exc).__name__}: {text}")

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)

    def _retry_delay(self, resp: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying `resp`, or None when retrying cannot help."""
        status = resp.status_code
        headers = resp.headers
        retry_after = _number(headers.get("retry-after"))
        if status in (403, 429):
            if headers.get("x-ratelimit-remaining") == "0":  # primary rate limit
                reset = _number(headers.get("x-ratelimit-reset"))
                if reset is None:
                    return 60.0
                return max(reset - self._clock(), 0.0) + 1.0
            if retry_after is not None:  # secondary rate limit
                return retry_after
            if status == 429 or _SECONDARY_RE.search(_github_message(resp)):
                return max(60.0, self._backoff(attempt))
            return None
        if status >= 500:
            return retry_after if retry_after is not None else self._backoff(attempt)
        return None

    def _give_up(
        self,
        method: str,
        shown: str,
        resp: requests.Response | None,
        failure: str,
        attempt: int,
        waited: float,
        delay: float,
    ) -> GitHubError:
        tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
        gave_up = f"gave up after {tries} over {waited:.1f} s"
        if resp is None:
            return GitHubError(output.redact(f"{method} {shown}: {failure} — {gave_up}"))
        if resp.status_code in (403, 429):
            reset = _number(resp.headers.get("x-ratelimit-reset"))
            when = ""
            if resp.headers.get("x-ratelimit-remaining") == "0" and reset is not None:
                stamp = datetime.fromtimestamp(reset, timezone.utc).strftime("%H:%M:%S UTC")
                when = f" at {stamp}"
            if waited + delay > self.max_wait:
                gave_up = (
                    f"rate limited: GitHub asks to wait {delay:.0f} s{when}, beyond the "
                    f"{self.max_wait:.0f} s this command waits in total (after {tries})"
                )
            else:
                gave_up = f"still rate limited after {tries} over {waited:.0f} s"
        return self._error(method, shown, resp, None, hint=gave_up)

    def _error(
        self,
        method: str,
        shown: str,
        resp: requests.Response,
        permission: str | None,
        hint: str | None = None,
    ) -> GitHubRequestError:
        status = resp.status_code
        message = _github_message(resp)
        if hint is None:
            hint = _hint(status, permission, has_token=self._token is not None)
        text = f"{method} {shown}: {status} {message}" + (f" — {hint}" if hint else "")
        text = output.redact(" ".join(text.split()))
        return GitHubRequestError(
            text,
            method=method,
            path=shown,
            status=status,
            github_message=output.redact(message),
        )

    def _display(self, url: str) -> str:
        """The path to show in messages: relative to the API URL, without host or query."""
        parts = urlsplit(url)
        path = parts.path
        base = urlsplit(self.api_url)
        if parts.netloc == base.netloc and path.startswith(base.path):
            path = path[len(base.path) :] or "/"
        return path

    def _check_same_service(self, url: str) -> None:
        """Refuse to send the token anywhere but GitHub's API (or its uploads) host."""
        target = urlsplit(url)
        base = urlsplit(self.api_url)
        host, api_host = target.hostname or "", base.hostname or ""
        same = host == api_host
        uploads = api_host.startswith("api.") and host == "uploads." + api_host[4:]
        if target.scheme != base.scheme or not (same or uploads):
            raise GitHubError(
                f"refusing to send the GitHub token to {target.scheme}://{target.netloc}: "
                f"not the API host {base.netloc}"
            )


def _with_marker(body: str, marker: str) -> str:
    return body if marker in body else f"{body.rstrip()}\n\n{marker}\n"


def _quote_ref(ref: str) -> str:
    """A ref or tag name as a URL path: slashes stay, `#`, `%`, `?` and spaces are escaped."""
    return quote(ref, safe="/@:+!$&'()*,;=~")


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _github_message(resp: requests.Response) -> str:
    """GitHub's `message` (with its `errors` details), else the HTTP reason."""
    try:
        data = resp.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        message: str = data["message"]
        details = []
        for item in data.get("errors") or []:
            if isinstance(item, dict):
                if isinstance(item.get("message"), str):
                    details.append(item["message"])
                else:
                    what = ".".join(str(item[k]) for k in ("resource", "field") if k in item)
                    details.append(f"{what} {item.get('code', '')}".strip())
            elif isinstance(item, str):
                details.append(item)
        if details:
            message += f" ({'; '.join(details)})"
        return message
    return resp.reason or "no message"


def _hint(status: int, permission: str | None, *, has_token: bool) -> str:
    if status == 401:
        if not has_token:
            return "no token: set GITHUB_TOKEN (e.g. `env: GITHUB_TOKEN: ${{ github.token }}`)"
        return "the token is invalid or expired; check GITHUB_TOKEN / --token"
    if status == 403:
        if permission:
            return (
                f"the token lacks a permission: give the job `permissions:` `{permission}` "
                "(pull requests from forks only get a read-only token)"
            )
        return "the token lacks a permission for this (forks only get a read-only token)"
    if status == 404:
        what = f" ({permission} needed)" if permission else ""
        return f"not found, or the token has no access to it{what}"
    if status == 410:
        return "gone: the feature is disabled for this repository"
    return ""


def _connection_reason(exc: requests.ConnectionError) -> str:
    m = _ERRNO_RE.search(str(exc))
    if m:
        return m.group(1).strip()
    text = str(exc)
    for known in ("Name or service not known", "Connection refused", "Connection reset"):
        if known in text:
            return known
    return type(exc).__name__
