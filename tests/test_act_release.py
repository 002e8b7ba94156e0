"""The real .github/workflows/release.yml, run by act for `release: published` events.

act runs it on the host (`-P ubuntu-latest=-self-hosted`) in a copy of a repository made of this
checkout's package files, as tests/test_act.py does for ml.yml. The build job runs for real
(the default-branch check against a bare `origin`, the version check, `python -m build`,
`twine check`); the remote actions are stubs: setup-python
does nothing (the venv's Python is first on PATH), upload- and download-artifact copy through a
directory, and the PyPI publish action records what it was handed instead of uploading. The
major-tag job talks to the fake GitHub on 127.0.0.1, which here also serves PATCH
/git/refs/{ref}.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import mlops_actions
import tests.fakegithub as fakegithub
from tests.acting import run_act
from tests.fakegithub import FakeGitHub, Spec
from tests.helpers import commit_all, git, init_repo

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKFLOW = ".github/workflows/release.yml"
VERSION = mlops_actions.__version__
MAJOR = "v" + VERSION.split(".")[0]
UPDATE_REF = ("patch", "/repos/{owner}/{repo}/git/refs/{ref}")

STUBS: dict[str, dict[str, Any]] = {
    "actions/setup-python": {
        "inputs": {"python-version": {"description": "ignored"}},
        "run": "echo 'setup-python stub: the venv Python is on PATH'",
    },
    "actions/upload-artifact": {
        "inputs": {n: {"description": n} for n in ("name", "path", "if-no-files-found")},
        "env": {"NAME": "${{ inputs.name }}", "FROM": "${{ inputs.path }}"},
        "run": 'mkdir -p "$STASH/$NAME" && cp -R "$FROM"/. "$STASH/$NAME/"',
    },
    "actions/download-artifact": {
        "inputs": {n: {"description": n} for n in ("name", "path")},
        "env": {"NAME": "${{ inputs.name }}", "TO": "${{ inputs.path }}"},
        "run": 'mkdir -p "$TO" && cp -R "$STASH/$NAME"/. "$TO/"',
    },
    "pypa/gh-action-pypi-publish": {
        "inputs": {"packages-dir": {"description": "dist"}},
        "env": {"DIR": "${{ inputs.packages-dir }}"},
        "run": 'ls "$DIR" > "$STASH/published.txt"',
    },
}


class ReleaseGitHub(FakeGitHub):
    """The fake GitHub, also moving a ref as `PATCH /repos/{owner}/{repo}/git/refs/{ref}` does."""

    def _op_git_update_ref(
        self, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        ref = "refs/" + params["ref"]
        if ref not in self.refs:
            return self._invalid("Reference does not exist")
        self.refs[ref] = body["sha"]
        return 200, self._ref_json(ref), {}


@pytest.fixture(scope="session")
def release_spec() -> Spec:
    saved = fakegithub.OPERATIONS
    fakegithub.OPERATIONS = (*saved, UPDATE_REF)  # trim() reads the module's list
    try:
        with open(fakegithub.SPEC_PATH, encoding="utf-8") as f:
            doc = fakegithub.trim(json.load(f))
    finally:
        fakegithub.OPERATIONS = saved
    return Spec(doc)


@pytest.fixture
def server(release_spec: Spec) -> Iterator[ReleaseGitHub]:
    fake = ReleaseGitHub(release_spec).start()
    yield fake
    fake.stop()
    assert not fake.violations, "\n".join(fake.violations)


@dataclass
class Release:
    base: Path
    repo: Path
    stash: Path
    server: ReleaseGitHub

    def act(self, tag: str, *, prerelease: bool = False) -> subprocess.CompletedProcess[str]:
        owner, name = self.server.repository.split("/")
        event = {
            "action": "published",
            "release": {"tag_name": tag, "name": tag, "prerelease": prerelease, "draft": False},
            "repository": {
                "name": name,
                "full_name": self.server.repository,
                "owner": {"login": owner},
                "default_branch": "main",
            },
        }
        path = self.base / "release.json"
        path.write_text(json.dumps(event), encoding="utf-8")
        shutil.rmtree(self.stash, ignore_errors=True)
        self.stash.mkdir()
        return run_act(
            self.repo,
            "release",
            WORKFLOW,
            path,
            self.server,
            cache=self.base / "act",
            stubs={uses: self.stub(uses) for uses in remote_actions()},
            env={"STASH": str(self.stash)},
        )

    def stub(self, uses: str) -> Path:
        spec = STUBS[uses.split("@")[0]]
        path = self.base / "stubs" / re.sub(r"[^A-Za-z0-9.-]", "-", uses)
        path.mkdir(parents=True, exist_ok=True)
        step = {
            "shell": "bash",
            "run": spec["run"],
            **({"env": spec["env"]} if "env" in spec else {}),
        }
        action = {
            "name": uses,
            "inputs": spec["inputs"],
            "runs": {"using": "composite", "steps": [step]},
        }
        (path / "action.yml").write_text(json.dumps(action), encoding="utf-8")
        return path

    def push(self) -> None:
        """Push HEAD to origin's main and fetch it back, as a merge and a checkout with
        fetch-depth 0 would leave the clone."""
        git(self.repo, "push", "--quiet", "origin", "HEAD:refs/heads/main")
        git(self.repo, "fetch", "--quiet", "origin")

    def published(self) -> list[str] | None:
        path = self.stash / "published.txt"
        return path.read_text().split() if path.exists() else None


def remote_actions() -> list[str]:
    workflow = yaml.safe_load((ROOT / WORKFLOW).read_text(encoding="utf-8"))
    found = {
        step["uses"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "uses" in step and not step["uses"].startswith("actions/checkout@")
    }
    return sorted(found)


@pytest.fixture
def release(tmp_path: Path, server: ReleaseGitHub) -> Release:
    repo = init_repo(tmp_path / "repo")
    for name in (WORKFLOW, "pyproject.toml", "README.md", "constraints.txt"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, repo / name)
    for name in ("scripts", "mlops_actions"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    commit_all(repo, "the package")
    git(tmp_path, "init", "--quiet", "--bare", "origin.git")
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    made = Release(tmp_path, repo, tmp_path / "stash", server)
    made.push()
    return made


def test_a_release_is_built_published_and_moves_the_major_tag(release: Release) -> None:
    server = release.server
    first = git(release.repo, "rev-parse", "HEAD")

    proc = release.act(f"v{VERSION}")

    out = proc.stdout
    assert proc.returncode == 0, out[-6000:]
    assert f"releasing mlops-actions {VERSION}" in out
    assert release.published() == [
        f"mlops_actions-{VERSION}-py3-none-any.whl",
        f"mlops_actions-{VERSION}.tar.gz",
    ]
    assert server.refs[f"refs/tags/{MAJOR}"] == first
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", f"/repos/{server.repository}/git/ref/tags/{MAJOR}"),
        ("POST", f"/repos/{server.repository}/git/refs"),
    ]
    assert f"created {MAJOR} at {first}" in out

    # A pre-release of a later commit is published but never moves the major tag.
    (release.repo / "README.md").write_text("# mlops-actions\n\nA later commit.\n")
    second = commit_all(release.repo, "a later commit")
    release.push()
    server.requests.clear()
    proc = release.act(f"v{VERSION}", prerelease=True)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert release.published() is not None
    assert server.requests == [] and server.refs[f"refs/tags/{MAJOR}"] == first

    # Its full release moves it.
    proc = release.act(f"v{VERSION}")
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert server.refs[f"refs/tags/{MAJOR}"] == second
    assert [r.method for r in server.requests] == ["GET", "PATCH"]
    assert f"moved {MAJOR} to {second}" in proc.stdout


def test_a_tag_that_is_not_the_package_version_stops_the_release(release: Release) -> None:
    proc = release.act("v99.0.0")

    assert proc.returncode != 0
    assert f"release tag 'v99.0.0' is not v{VERSION}" in proc.stdout
    assert release.published() is None  # nothing built, nothing published
    assert release.server.requests == []
    assert f"refs/tags/{MAJOR}" not in release.server.refs


def test_a_release_of_a_commit_that_is_not_on_the_default_branch_is_refused(
    release: Release,
) -> None:
    """A tag pushed on a commit that was never merged (a side branch): nothing is built,
    published or moved."""
    git(release.repo, "checkout", "--quiet", "-b", "unreviewed")
    (release.repo / "README.md").write_text("# mlops-actions\n\nNever merged.\n")
    side = commit_all(release.repo, "not on main")

    proc = release.act(f"v{VERSION}")

    assert proc.returncode != 0
    # The guard step is the one that failed. act can drop the output of a step that ends within
    # milliseconds; when it shows the step's output, the error is the one line naming the commit.
    assert "❌  Failure - Main The release commit is on the default branch" in proc.stdout, (
        proc.stdout[-4000:]
    )
    errors = [line for line in proc.stdout.splitlines() if "::error::" in line]
    expected = (
        f"::error::release 'v{VERSION}': its commit {side} is not on the default branch (main)"
    )
    assert all(expected in line for line in errors), errors
    assert f"releasing mlops-actions {VERSION}" not in proc.stdout  # stopped before the build
    assert release.published() is None
    assert release.server.requests == []
    assert f"refs/tags/{MAJOR}" not in release.server.refs
