"""Where the registry's tags are written (promote's and the lifecycle verbs'): local git plus
an atomic push, or the GitHub REST API.

Both writers create all of a promotion's tags or none, and never move a tag: when a name is
taken where the tags are published, `write` answers False and the caller picks the next one.
Local annotated tags are made by one helper, `git.create_annotated_tag`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mlops_actions import git, output
from mlops_actions import tag as tags
from mlops_actions.errors import GitError, GitHubError, MlopsError
from mlops_actions.tag import BOT

if TYPE_CHECKING:
    from mlops_actions.github.client import GitHub

STAGE_RETRIES = 10


@dataclass(frozen=True)
class NewTag:
    name: str
    commit: str
    message: str


class TagWriter(Protocol):
    """Where promote's tags are written: local git (+ push), or the GitHub API."""

    def write(self, new: Sequence[NewTag], *, push: bool) -> bool:
        """Create all the tags or none. False when one of them already exists where they are
        published (another run took the name first); nothing is left behind then."""
        ...

    def refresh(self) -> None:
        """Bring the local tags up to date with the published ones."""
        ...

    def published_versions(self) -> set[str]:
        """Versions taken where the tags are published, as far as refresh() learned them
        (including tags on commits this clone does not have)."""
        ...


class GitTagWriter:
    """Annotated tags made with `git tag`; with push, one `git push --atomic` to the remote."""

    def __init__(self, root: str | Path, remote: str = "origin") -> None:
        self.root = root
        self.remote = remote

    def _identity(self) -> tags.Identity | None:
        """Tag as the Actions bot when git has no user configured (a fresh runner)."""
        if git.run("var", "GIT_COMMITTER_IDENT", cwd=self.root, check=False):
            return None
        return BOT

    def write(self, new: Sequence[NewTag], *, push: bool) -> bool:
        created: list[str] = []
        identity = self._identity()
        try:
            for t in new:
                git.create_annotated_tag(
                    t.name, t.commit, t.message, cwd=self.root, identity=identity
                )
                created.append(t.name)
            if push and not self._push(created):
                self._delete(created)
                return False
        except BaseException:
            self._delete(created)
            raise
        return True

    def _push(self, names: list[str]) -> bool:
        refspecs = [f"refs/tags/{n}:refs/tags/{n}" for n in names]
        proc = git.result("push", "--atomic", "--porcelain", self.remote, *refspecs, cwd=self.root)
        lines = [line.split("\t") for line in proc.stdout.splitlines() if line.count("\t") >= 2]
        flags = {parts[1]: parts[0][:1] for parts in lines}
        if all(flags.get(spec) in ("*", "=", " ") for spec in refspecs):
            return True
        taken = git.run(
            "ls-remote", "--tags", self.remote, *(f"refs/tags/{n}" for n in names), cwd=self.root
        )
        if taken:
            return False
        refused = _refusal(lines, proc.stderr)
        if refused:
            raise GitError(
                f"git push {self.remote}: the remote refused {', '.join(names)} ({refused}); "
                f"nothing was tagged: let {self.remote} accept these tag names (its hooks or "
                "tag protection rules) and re-run"
            )
        git.run("push", "--atomic", self.remote, *refspecs, cwd=self.root)  # git's own error
        return True

    def _delete(self, names: list[str]) -> None:
        if names:
            with contextlib.suppress(MlopsError):
                git.run("tag", "-d", *names, cwd=self.root)

    def refresh(self) -> None:
        git.run("fetch", "--quiet", self.remote, "refs/tags/*:refs/tags/*", cwd=self.root)

    def published_versions(self) -> set[str]:
        return set()  # fetched tags are local tags: the registry already sees them

    def published_tags(self) -> set[str]:
        return set()  # fetched tags are local tags


def _refusal(porcelain: list[list[str]], stderr: str) -> str:
    """Why the remote refused a push: git's reason and what the remote's hooks said; "" when
    it refused no ref (the push failed some other way)."""
    if not any(flag.startswith("!") for flag, *_ in porcelain):
        return ""
    reasons: list[str] = []
    for flag, _, summary, *_ in porcelain:
        reason = summary.partition("(")[2].rstrip(")").strip() or summary.strip("[] ")
        if flag.startswith("!") and reason != "atomic push failed" and reason not in reasons:
            reasons.append(reason)
    said = [
        ln.removeprefix("remote:").strip() for ln in stderr.splitlines() if ln.startswith("remote:")
    ]
    return ": ".join(part for part in ("; ".join(reasons), "; ".join(filter(None, said))) if part)


class RestTagWriter:
    """TagWriter that publishes through the GitHub REST API (used inside Actions); `push` is
    implied (the API is the remote).

    Tags are created as git tag objects plus refs, so no credentials ever have to be written
    to .git/config. Each new tag is mirrored into the local repository with the same message
    and date, so `mlops-actions models` in the same job sees it.
    """

    def __init__(self, gh: GitHub, root: str | Path, model: str) -> None:
        self.gh = gh
        self.root = root
        self.model = model
        self.published: set[str] = set()
        self.names: set[str] = set()

    def published_versions(self) -> set[str]:
        return set(self.published)

    def published_tags(self) -> set[str]:
        """The model's tag names where they are published, as far as refresh() learned them
        (lightweight ones and those on commits this clone lacks included)."""
        return set(self.names)

    def write(self, new: Sequence[NewTag], *, push: bool) -> bool:
        from mlops_actions.github.client import RefExistsError

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
                name = tags.next_counter(name)  # a concurrent assignment took this #N
            else:
                output.warning(
                    f"could not assign the stage of {version.name}: counters kept colliding"
                )
        return True

    def _create(self, name: str, message: str, commit: str) -> bool:
        """Create tag `name`; False when the ref exists already, pointing elsewhere."""
        from mlops_actions.github.client import GitHubRequestError, RefExistsError

        tagger = {"name": BOT.name, "email": BOT.email}
        obj = self.gh.create_tag_object(name, message, commit, tagger=tagger)
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
        self.names.add(name)
        self._mirror(name, message, commit, _date(obj))
        return True

    def refresh(self) -> None:
        """Mirror the model's published tags that this clone lacks (a concurrent run's)."""
        local = set(git.run("tag", "--list", tags.tag_glob(self.model), cwd=self.root).split())
        for ref in self.gh.list_matching_refs(f"tags/{tags.tag_prefix(self.model)}"):
            name = ref["ref"].removeprefix("refs/tags/")
            parsed = tags.parse(name)
            if parsed is None or parsed.name != self.model:
                continue
            self.names.add(name)
            if parsed.action in (tags.Action.REGISTER, tags.Action.DEREGISTER) and parsed.version:
                self.published.add(parsed.version)
            if name in local:
                continue
            if ref["object"]["type"] != "tag":
                continue  # lightweight tags are not part of the registry
            obj = self.gh.get_tag_object(ref["object"]["sha"])
            self._mirror(name, obj["message"], obj["object"]["sha"], _date(obj))

    def _mirror(self, name: str, message: str, commit: str, date: str | None) -> None:
        if not git.run("cat-file", "-t", commit, cwd=self.root, check=False):
            output.info(f"{name} is on a commit this clone does not have; not mirrored")
            return
        try:
            git.create_annotated_tag(name, commit, message, cwd=self.root, identity=BOT, date=date)
        except GitError as exc:
            output.warning(f"{name} is published but could not be mirrored locally: {exc}")


def _date(obj: Mapping[str, object]) -> str | None:
    """The tagger date of a tag object from the API (GitHub sends it; the type omits it)."""
    tagger = obj.get("tagger")
    date = tagger.get("date") if isinstance(tagger, dict) else None
    return date if isinstance(date, str) else None
