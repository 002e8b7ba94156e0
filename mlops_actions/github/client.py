"""A small GitHub REST client: one typed method per endpoint this project calls.

The transport (retries, rate limits, pagination, one-line errors, no token leaks) is
http.RestClient; the endpoints are grouped by area (gitdata, comments, issues, releases);
the JSON types are in types.

Works against github.com and GitHub Enterprise Server alike: every URL is built from the API
base URL ($GITHUB_API_URL, e.g. https://ghes.example.com/api/v3), and uploads go to the host
GitHub names in the release's `upload_url`.

Each method's docstring names the `permissions:` the workflow's GITHUB_TOKEN needs for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from mlops_actions.errors import GitHubError
from mlops_actions.github.comments import Comments
from mlops_actions.github.gitdata import GitData, RefExistsError
from mlops_actions.github.http import GitHubRequestError, MaybeDoneError
from mlops_actions.github.issues import Issues
from mlops_actions.github.releases import Releases
from mlops_actions.github.types import Repository

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from mlops_actions.github.context import Context
    from mlops_actions.github.http import Options

__all__ = ["GitHub", "GitHubRequestError", "MaybeDoneError", "RefExistsError"]


class GitHub(GitData, Comments, Issues, Releases):
    """GitHub's REST API for one repository, one typed method per endpoint.

    Writes are retried too: create_ref tolerates its own earlier success, and sticky comments
    are found again by their marker.
    """

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

    def get_repo(self) -> Repository:
        """The repository (its default branch among others). Permissions: `metadata: read`."""
        return cast(Repository, self._json("GET", ""))

    def default_branch(self) -> str:
        """Permissions: `metadata: read`."""
        return self.get_repo()["default_branch"]
