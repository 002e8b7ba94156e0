"""The base of the GitHub client's endpoint groups: one repository's paths and JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

from mlops_actions.errors import GitHubError
from mlops_actions.github.http import RestClient

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from mlops_actions.github.http import Options

T = TypeVar("T")


class RepoClient(RestClient):
    """RestClient (retries, rate limits, error messages; `options` are its) for the paths of
    one repository."""

    def __init__(
        self, api_url: str, token: str | None, repository: str, **options: Unpack[Options]
    ) -> None:
        if "/" not in repository:
            raise GitHubError(f"repository '{repository}' is not of the form owner/name")
        super().__init__(api_url, token, **options)
        self.repository = repository
        self._repo_path = f"/repos/{repository}"

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


def given(**fields: T | None) -> dict[str, T]:
    """The fields that are not None: the optional parts of a request."""
    return {key: value for key, value in fields.items() if value is not None}


def quote_ref(ref: str) -> str:
    """A ref or tag name as a URL path: slashes stay, `#`, `%`, `?` and spaces are escaped."""
    return quote(ref, safe="/@:+!$&'()*,;=~")
