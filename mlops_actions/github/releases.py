"""Releases and their assets."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

from mlops_actions.errors import GitHubError
from mlops_actions.github.repo import RepoClient, given, quote_ref
from mlops_actions.github.types import MAX_ASSET_SIZE, Release, ReleaseAsset


class Releases(RepoClient):
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
            **given(
                name=name, body=body, target_commitish=target_commitish, make_latest=make_latest
            ),
        }
        return cast(Release, self._json("POST", "/releases", "contents: write", payload))

    def get_release_by_tag(self, tag: str) -> Release | None:
        """The published release of `tag`, or None. Permissions: `contents: read`."""
        return cast("Release | None", self._get_or_none(f"/releases/tags/{quote_ref(tag)}"))

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
            params={"name": name or file.name, **given(label=label)},
            data=file.read_bytes,  # read on each attempt
            headers={"Content-Type": content_type},
            permission="contents: write",
        )
        return cast(ReleaseAsset, resp.json())
