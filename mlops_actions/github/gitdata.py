"""The git data endpoints: tag objects, refs, blobs, trees, commits, and a file at a commit."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Literal, cast
from urllib.parse import quote

from mlops_actions.github.http import GitHubRequestError
from mlops_actions.github.repo import RepoClient, given, quote_ref
from mlops_actions.github.types import GitRef, GitTag


class RefExistsError(GitHubRequestError):
    """create_ref: the ref already exists and points elsewhere."""


class GitData(RepoClient):
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
            **given(tagger=None if tagger is None else dict(tagger)),
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
        return cast("GitRef | None", self._get_or_none(f"/git/ref/{quote_ref(ref)}"))

    def list_matching_refs(self, prefix: str) -> list[GitRef]:
        """Every ref starting with `prefix` (e.g. `tags/model@`), in one call.

        Permissions: `contents: read`.
        """
        path = f"{self._repo_path}/git/matching-refs/{quote_ref(prefix)}"
        return cast(list[GitRef], self.paginate(path, permission="contents: read", per_page=None))

    def create_blob(self, data: bytes) -> str:
        """A blob of `data` (sent base64); its sha. Permissions: `contents: write`."""
        payload = {"content": base64.b64encode(data).decode(), "encoding": "base64"}
        return self._created_sha("/git/blobs", payload)

    def create_tree(self, entries: list[Mapping[str, str]], base_tree: str | None = None) -> str:
        """A tree: `base_tree` with `entries` ({path, mode, type, sha}) put in; its sha.

        Permissions: `contents: write`."""
        payload = {"tree": [dict(e) for e in entries], **given(base_tree=base_tree)}
        return self._created_sha("/git/trees", payload)

    def create_commit(
        self,
        message: str,
        tree: str,
        parents: list[str],
        *,
        author: Mapping[str, str] | None = None,
    ) -> str:
        """A commit object (no ref moves); its sha. Permissions: `contents: write`."""
        payload = {"message": message, "tree": tree, "parents": parents}
        optional = given(author=None if author is None else dict(author))
        return self._created_sha("/git/commits", {**payload, **optional})

    def get_commit_object(self, sha: str) -> dict[str, Any] | None:
        """The git commit `sha` (its tree and parents), or None. Permissions: `contents: read`."""
        return cast("dict[str, Any] | None", self._get_or_none(f"/git/commits/{sha}"))

    def file_at(self, path: str, ref: str) -> bytes | None:
        """The bytes of the file `path` at commit `ref` (the contents API), or None when the
        commit has no such file. Permissions: `contents: read`."""
        url = f"{self._repo_path}/contents/{quote(path)}"
        resp = self.request(
            "GET", url, params={"ref": ref}, permission="contents: read", allow_404=True
        )
        found = None if resp.status_code == 404 else resp.json()
        if not isinstance(found, dict) or found.get("type") != "file":
            return None
        return base64.b64decode(str(found.get("content") or ""))

    def _created_sha(self, path: str, payload: Mapping[str, object]) -> str:
        created = cast(dict[str, Any], self._json("POST", path, "contents: write", payload))
        return str(created["sha"])
