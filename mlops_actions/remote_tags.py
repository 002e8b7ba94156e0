"""Registry tags and releases through the GitHub REST API (used inside Actions).

Tags are created as git tag objects plus refs, so no credentials ever have to be written to
.git/config. Each new tag is mirrored into the local repository with the same message and
date, so `mlops-actions models` in the same job sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions import git, output
from mlops_actions import tag as tags
from mlops_actions.errors import GitError, GitHubError

if TYPE_CHECKING:
    from mlops_actions.github import GitHub
    from mlops_actions.registry import NewTag

BOT = {
    "name": "github-actions[bot]",
    "email": "41898282+github-actions[bot]@users.noreply.github.com",
}
STAGE_RETRIES = 10


class RestTagWriter:
    """TagWriter that publishes through the API; `push` is implied (the API is the remote)."""

    def __init__(self, gh: GitHub, root: str | Path, model: str) -> None:
        self.gh = gh
        self.root = root
        self.model = model
        self.published: set[str] = set()

    def published_versions(self) -> set[str]:
        return set(self.published)

    def write(self, new: Sequence[NewTag], *, push: bool) -> bool:
        from mlops_actions.github import RefExistsError

        version, *rest = new
        if not self._create(version.name, version.message, version.commit):
            return False  # another run took this version: the caller recomputes
        for extra in rest:
            name = extra.name
            for _ in range(STAGE_RETRIES):
                try:
                    if self._create(name, extra.message, extra.commit):
                        break
                except RefExistsError:
                    pass
                name = _next_counter(name)  # a concurrent assignment took this #N
            else:
                output.warning(
                    f"could not assign the stage of {version.name}: counters kept colliding"
                )
        return True

    def _create(self, name: str, message: str, commit: str) -> bool:
        """Create tag `name`; False when the ref exists already, pointing elsewhere."""
        from mlops_actions.github import GitHubRequestError, RefExistsError

        obj = self.gh.create_tag_object(name, message, commit, tagger=BOT)
        try:
            self.gh.create_ref(f"refs/tags/{name}", obj["sha"])
        except RefExistsError:
            return False
        except GitHubRequestError as exc:
            if exc.status not in (403, 422):
                raise
            # A repository rule or tag protection refuses the name (422), or the token may
            # not write tags (403): name the tag and say what to change.
            said = " ".join(exc.github_message.split())
            raise GitHubError(
                f"GitHub refused to create the tag {name} ({exc.status} {said}): allow "
                "github-actions[bot] to create tags like it (the repository's rulesets or tag "
                "protection) and give the job `permissions:` `contents: write`, then re-run"
            ) from None
        self._mirror(name, message, commit, _date(obj))
        return True

    def refresh(self) -> None:
        """Mirror the model's published tags that this clone lacks (a concurrent run's)."""
        local = set(git.run("tag", "--list", f"{self.model}[@#]*", cwd=self.root).split())
        for ref in self.gh.list_matching_refs(f"tags/{self.model}"):
            name = ref["ref"].removeprefix("refs/tags/")
            parsed = tags.parse(name)
            if parsed is None or parsed.name != self.model:
                continue
            if parsed.action in (tags.Action.REGISTER, tags.Action.DEREGISTER) and parsed.version:
                self.published.add(parsed.version)
            if name in local:
                continue
            if ref["object"]["type"] != "tag":
                continue  # lightweight tags are not part of the registry
            obj: Any = self.gh.get_tag_object(ref["object"]["sha"])
            self._mirror(name, obj["message"], obj["object"]["sha"], _date(obj))

    def _mirror(self, name: str, message: str, commit: str, date: str | None) -> None:
        if not git.run("cat-file", "-t", commit, cwd=self.root, check=False):
            output.info(f"{name} is on a commit this clone does not have; not mirrored")
            return
        env = {"GIT_COMMITTER_DATE": date} if date else {}
        identity = ["-c", f"user.name={BOT['name']}", "-c", f"user.email={BOT['email']}"]
        try:
            git.run(
                *identity,
                "tag",
                "-a",
                "--cleanup=verbatim",
                "-m",
                message,
                name,
                commit,
                cwd=self.root,
                env=env,
            )
        except GitError as exc:
            output.warning(f"{name} is published but could not be mirrored locally: {exc}")


def _date(obj: Any) -> str | None:
    tagger = obj.get("tagger") if isinstance(obj, dict) else None
    return tagger.get("date") if isinstance(tagger, dict) else None


def _next_counter(name: str) -> str:
    head, _, counter = name.rpartition("#")
    return f"{head}#{int(counter) + 1}" if counter.isdigit() else name
