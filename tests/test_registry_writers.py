"""Publishing promote's tags: an atomic push, concurrent promotions, a refused push."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from mlops_actions import registry
from mlops_actions.errors import MlopsError
from mlops_actions.registry import GitTagWriter, NewTag
from tests.helpers import git
from tests.registry_project import NAME, cfg_of, fake_train, new_commit, project_in, tag_names


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return project_in(tmp_path, monkeypatch)


@pytest.fixture
def origin(tmp_path: Path, repo: Path) -> Path:
    """A bare origin holding the project; `repo` is a clone of it."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    return bare


def clone(origin: Path, dest: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(dest))
    git(dest, "config", "user.name", "Test")
    git(dest, "config", "user.email", "test@example.invalid")
    return dest


def remote_tags(origin: Path) -> dict[str, str]:
    """tag -> tag object id on the remote."""
    out = git(origin, "for-each-ref", "--format=%(refname:lstrip=2) %(objectname)", "refs/tags")
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_push_publishes_both_tags(repo: Path, origin: Path) -> None:
    fake_train(repo, {"f1": 0.9})
    result = registry.promote(cfg_of(repo), stage="prod", push=True)
    assert result.pushed
    assert set(remote_tags(origin)) == {f"{NAME}@v0.0.1", f"{NAME}#prod#1"}


class RacingWriter:
    """Lets another clone promote between our decision and our push, once."""

    def __init__(self, inner: GitTagWriter, other: Path) -> None:
        self.inner, self.other, self.raced = inner, other, False
        self.results: list[registry.PromoteResult] = []

    def write(self, new: Sequence[NewTag], *, push: bool) -> bool:
        if not self.raced:
            self.raced = True
            self.results.append(registry.promote(cfg_of(self.other), stage="prod", push=True))
        return self.inner.write(new, push=push)

    def refresh(self) -> None:
        self.inner.refresh()

    def published_versions(self) -> set[str]:
        return self.inner.published_versions()


def test_concurrent_promotions_end_as_two_versions(
    repo: Path, origin: Path, tmp_path: Path
) -> None:
    fake_train(repo, {"f1": 0.8})
    registry.promote(cfg_of(repo), push=True)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    head_a, head_b = new_commit(a, "change in a"), new_commit(b, "change in b")
    fake_train(a, {"f1": 0.9})
    fake_train(b, {"f1": 0.85})
    racing = RacingWriter(GitTagWriter(b), other=a)
    result_b = registry.promote(cfg_of(b), stage="prod", push=True, writer=racing)
    (result_a,) = racing.results
    assert (result_a.version, result_a.stage_tag) == ("v0.0.2", f"{NAME}#prod#1")
    # B had computed v0.0.2 and #prod#1 too; its push was refused and it took the next ones.
    assert (result_b.promoted, result_b.version, result_b.stage_tag) == (
        True,
        "v0.0.3",
        f"{NAME}#prod#2",
    )
    on_origin = remote_tags(origin)
    assert set(on_origin) == {
        f"{NAME}@v0.0.1",
        f"{NAME}@v0.0.2",
        f"{NAME}@v0.0.3",
        f"{NAME}#prod#1",
        f"{NAME}#prod#2",
    }
    # Nothing was moved: A's tags on origin are the very objects A created.
    for name in (f"{NAME}@v0.0.2", f"{NAME}#prod#1"):
        assert on_origin[name] == git(a, "rev-parse", name)
    assert git(origin, "rev-parse", f"{NAME}@v0.0.2^{{commit}}") == head_a
    assert git(origin, "rev-parse", f"{NAME}@v0.0.3^{{commit}}") == head_b
    assert git(b, "rev-parse", f"{NAME}@v0.0.2^{{commit}}") == head_a  # B's view is fixed up


def test_concurrent_promotion_of_the_same_commit(repo: Path, origin: Path, tmp_path: Path) -> None:
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    fake_train(a, {"f1": 0.9})
    fake_train(b, {"f1": 0.91})  # as in two runs: the tag messages differ (here by a metric)
    racing = RacingWriter(GitTagWriter(b), other=a)
    result = registry.promote(cfg_of(b), push=True, writer=racing)
    assert not result.promoted
    assert result.reason.endswith(f"another run registered it as {NAME}@v0.0.1")
    assert set(remote_tags(origin)) == {f"{NAME}@v0.0.1", f"{NAME}#prod#1"}


def test_a_refused_push_leaves_no_local_tags(repo: Path, origin: Path) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags are protected here' >&2\nexit 1\n")
    hook.chmod(0o755)
    fake_train(repo, {"f1": 0.9})
    with pytest.raises(MlopsError, match="git push"):
        registry.promote(cfg_of(repo), stage="prod", push=True)
    assert tag_names(repo) == []
    assert remote_tags(origin) == {}
