"""Write an experiment through GitHub's git data API: the publishing job's way (no checkout,
no credentials in git config). Blobs, then a tree on the trained commit's tree, then the
commit, then the ref: a failure before the ref leaves only unreferenced objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_actions.errors import GitHubError, MlopsError
from mlops_actions.github.http import GitHubRequestError
from mlops_actions.tracking import runrecord

if TYPE_CHECKING:
    from mlops_actions.github.client import GitHub


def write(
    gh: GitHub, baseline: str, name: str, files: dict[str, bytes], record: runrecord.RunRecord
) -> str:
    """The experiment's commit sha; a MlopsError of one line on any refusal."""
    refname = runrecord.ref(baseline, name)
    try:
        base = gh.get_commit_object(baseline)
        if base is None:
            raise MlopsError(
                f"the trained commit {baseline[:7]} is not on GitHub; the run was not recorded"
            )
        entries = {**files, runrecord.RECORD_PATH: record.encode()}
        tree = gh.create_tree(
            [
                {"path": path, "mode": "100644", "type": "blob", "sha": gh.create_blob(data)}
                for path, data in sorted(entries.items())
            ],
            base_tree=base["tree"]["sha"],
        )
        message = f"mlops-actions: {record.event} run {name}"
        commit = gh.create_commit(message, tree, [baseline])
        made = gh.create_ref(refname, commit)
    except GitHubRequestError as exc:
        if exc.status in (403, 404) and exc.method != "GET":
            raise MlopsError(
                f"GitHub refused to write experiment {name} ({exc.status}): the token cannot "
                "write refs; give the publishing job `permissions: contents: write` (a fork's "
                "token never can)"
            ) from None
        if exc.status == 422 and "already exists" in exc.github_message.lower():
            raise MlopsError(
                f"experiment {name} already exists ({refname}); not recorded again"
            ) from None
        raise MlopsError(f"GitHub refused experiment {name}: {exc}") from None
    except GitHubError as exc:
        raise MlopsError(f"could not record experiment {name}: {exc}") from None
    if made["object"]["sha"] != commit:  # pragma: no cover - create_ref raises instead
        raise MlopsError(
            f"experiment {name} already exists ({refname}); not recorded again"
        ) from None
    return commit
