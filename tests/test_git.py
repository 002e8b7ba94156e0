"""git.py: the cat-file batch reader and the remote calls that never prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions import git
from mlops_actions.errors import GitError
from tests.helpers import commit_all, init_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    made = init_repo(tmp_path / "repo")
    (made / "dir").mkdir()
    (made / "dir" / "a file.txt").write_bytes(b"one\ntwo\n")
    (made / "empty").write_bytes(b"")
    commit_all(made, "files")
    return made


def test_cat_file_reads_many_specs_in_order_through_one_process(repo: Path) -> None:
    with git.CatFile(repo) as blobs:
        got = blobs.read(["HEAD:dir/a file.txt", "HEAD:nope", "HEAD:dir", "HEAD:empty"])
        assert got[0] == git.GitObject("blob", b"one\ntwo\n")
        assert got[1] is None
        assert got[2] is not None and got[2].type == "tree"
        assert got[3] == git.GitObject("blob", b"")
        process = blobs._proc
        assert blobs.read(["HEAD:empty"]) == [git.GitObject("blob", b"")]
        assert blobs._proc is process
        assert blobs.read([]) == []
    assert blobs._proc is None
    assert process is not None and process.returncode == 0


def test_cat_file_outside_a_repository_is_a_git_error(tmp_path: Path) -> None:
    blobs = git.CatFile(tmp_path)
    with pytest.raises(GitError, match="git cat-file --batch stopped unexpectedly"):
        blobs.read(["HEAD:x"])
    blobs.close()


def test_commit_sha(repo: Path) -> None:
    head = git.run("rev-parse", "HEAD", cwd=repo)
    assert git.commit_sha("main", repo) == head
    assert git.commit_sha(head[:10], repo) == head
    assert git.commit_sha("HEAD:empty", repo) is None  # a blob, not a commit
    assert git.commit_sha("nope", repo) is None


def test_remote_calls_never_prompt(repo: Path, tmp_path: Path) -> None:
    shown = git.remote_result("-c", "alias.show-env=!env", "show-env", cwd=repo)
    assert "GIT_TERMINAL_PROMPT=0" in shown.stdout.splitlines()
    failed = git.remote_result("fetch", str(tmp_path / "gone"), cwd=repo)
    assert failed.returncode != 0
    assert "gone" in failed.stderr
