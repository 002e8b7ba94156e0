"""Fixtures for talking to the fake GitHub; tests/conftest.py imports them all with

    from tests.conftest_github import *  # noqa: F403

Every request a test sends is validated against GitHub's OpenAPI description; a test that sent
an off-spec request fails at teardown with the list of violations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mlops_actions.github.client import GitHub
from mlops_actions.github.http import RestClient
from tests.fakegithub import FakeGitHub, Spec, load_spec

__all__ = [
    "cli_sleeps",
    "github",
    "github_env",
    "github_server",
    "github_server_factory",
    "github_spec",
    "sleeps",
]


def client(server: FakeGitHub, sleeps: list[float], **kwargs: Any) -> GitHub:
    """A client of `server` that records its sleeps; kwargs override GitHub's options."""
    session = requests.Session()
    session.trust_env = False
    options: dict[str, Any] = {"timeout": (1.0, 1.0), "sleep": sleeps.append, "session": session}
    return GitHub(server.url, server.token, server.repository, **{**options, **kwargs})


def main_sha(server: FakeGitHub) -> str:
    return server.refs["refs/heads/main"]


@pytest.fixture(scope="session")
def github_spec(request: pytest.FixtureRequest) -> Spec:
    """GitHub's OpenAPI description trimmed to what the fake serves (cached in .pytest_cache)."""
    cache = getattr(request.config, "cache", None)
    cache_dir: Path | None = cache.mkdir("github-openapi") if cache is not None else None
    return load_spec(cache_dir)


@pytest.fixture
def github_server_factory(github_spec: Spec) -> Iterator[Callable[..., FakeGitHub]]:
    """make(**kwargs) -> a started FakeGitHub (kwargs as FakeGitHub's, e.g. prefix="/api/v3").

    At teardown every server is stopped, then the test fails if any received an off-spec
    request (a test that provokes one on purpose clears `server.violations`).
    """
    servers: list[FakeGitHub] = []

    def make(**kwargs: Any) -> FakeGitHub:
        server = FakeGitHub(github_spec, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    problems = [v for server in servers for v in server.violations]
    assert not problems, "requests that do not match GitHub's OpenAPI description:\n" + "\n".join(
        problems
    )


@pytest.fixture
def github_server(github_server_factory: Callable[..., FakeGitHub]) -> FakeGitHub:
    """A fake github.com API for the repository octo-org/demo (default branch main)."""
    return github_server_factory()


@pytest.fixture
def sleeps() -> list[float]:
    """What the `github` client slept, in order, instead of sleeping."""
    return []


@pytest.fixture
def cli_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """What the GitHub clients of in-process CLI runs slept, in order, instead of sleeping.

    The CLI builds its clients with GitHub's defaults (RestClient's), so the test swaps the
    defaults: no real waits, and a 0.5 s read timeout so a scripted slow answer times out quickly.
    """
    slept: list[float] = []
    defaults = RestClient.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "sleep", slept.append)
    monkeypatch.setitem(defaults, "timeout", (1.0, 0.5))
    return slept


@pytest.fixture
def github(github_server: FakeGitHub, sleeps: list[float]) -> Iterator[GitHub]:
    """A client for github_server that records its sleeps and times out after 1 s."""
    session = requests.Session()
    session.trust_env = False  # no proxy between the test and 127.0.0.1
    client = GitHub(
        github_server.url,
        github_server.token,
        github_server.repository,
        timeout=(1.0, 1.0),
        sleep=sleeps.append,
        session=session,
    )
    yield client
    client.close()


@pytest.fixture
def github_env(
    github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> FakeGitHub:
    """The environment of an Actions run whose GitHub is github_server: a push to main.

    The event file, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY are under tmp_path/"runner".
    """
    runner = tmp_path / "runner"
    runner.mkdir()
    sha = github_server.refs[f"refs/heads/{github_server.default_branch}"]
    event = {
        "ref": f"refs/heads/{github_server.default_branch}",
        "before": "0" * 40,
        "after": sha,
        "repository": {
            "full_name": github_server.repository,
            "default_branch": github_server.default_branch,
        },
        "head_commit": {"id": sha, "message": "demo project"},
    }
    (runner / "event.json").write_text(json.dumps(event), encoding="utf-8")
    for name, value in {
        "GITHUB_EVENT_PATH": str(runner / "event.json"),
        "GITHUB_OUTPUT": str(runner / "output"),
        "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": github_server.url,
        "GITHUB_SERVER_URL": github_server.host_url,
        "GITHUB_REPOSITORY": github_server.repository,
        "GITHUB_TOKEN": github_server.token,
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REF": f"refs/heads/{github_server.default_branch}",
        "GITHUB_SHA": sha,
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "1",
        "NO_PROXY": "127.0.0.1",
    }.items():
        monkeypatch.setenv(name, value)
    return github_server
