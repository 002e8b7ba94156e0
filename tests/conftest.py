from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_actions import cli, output
from tests.conftest_github import *  # noqa: F403
from tests.helpers import build_demo_repo, commit_all, gated_params, init_repo, write_params


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow run first, in their usual order: with `-n 2` the long ones share the two
    workers from the start instead of one worker finishing the suite alone on a long test."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts outside Actions, with no token and no registered secrets, and a user
    cache directory of its own (the default run cache lives there)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    for name in list(__import__("os").environ):
        if name.startswith(("GITHUB_", "INPUT_", "RUNNER_", "MLOPS_")) or name in (
            "CI",
            "GH_TOKEN",
        ):
            monkeypatch.delenv(name, raising=False)
    saved = set(output._secrets)
    yield
    output._secrets.clear()
    output._secrets.update(saved)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("template")
    build_demo_repo(base)
    return base


@pytest.fixture
def demo_repo(tmp_path: Path, demo_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo repo and its DVC remote; the test runs inside it."""
    base = tmp_path / "w"
    shutil.copytree(demo_template, base, symlinks=True)
    repo = base / "repo"
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = init_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture
def project(demo_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """main: the demo project with gates, trained, its metrics committed."""
    write_params(demo_repo, gated_params())
    assert cli.main(["train"]) == 0
    commit_all(demo_repo, "train on main")
    capsys.readouterr()
    return demo_repo
