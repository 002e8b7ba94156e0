"""Soak: 50 report/gate runs on one pull request against a GitHub that keeps failing a little.

Every run gets up to four random faults per endpoint (5xx, rate limits, writes whose answer is
lost), seeded so a failure can be replayed. Four is one fewer than the client's attempts, so every
run must succeed; what is checked is what is left on GitHub at the end: exactly one report
comment, holding the last rendered report (no lost update), and every status context's latest
state final (success or failure), as the last run computed it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from tests.fakegithub import Answer, FakeGitHub
from tests.helpers import commit_all, git, write_params
from tests.test_publish import MARKER, _params, _pr_env

SEED = 8_2024
RUNS = 50
MAX_FAULTS = 4  # per endpoint and run: one fewer than GitHub's client tries

FAULTS: list[Callable[[random.Random], Answer]] = [
    lambda rng: Answer(rng.choice([500, 502, 503, 504])),
    lambda rng: Answer.lost(502),  # GitHub did it; the client sees a 502
    lambda rng: Answer.secondary_limit(rng.randint(1, 5), status=rng.choice([403, 429])),
    lambda rng: Answer.primary_limit(int(time.time()) + rng.randint(1, 5)),
]


def _metrics(repo: Path, accuracy: float) -> None:
    data = {"accuracy": accuracy, "f1": 0.93, "rows": {"train": 426, "test": 143}}
    (repo / "metrics.json").write_text(json.dumps(data))


@pytest.fixture
def pull(
    demo_repo: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """A pull request whose metrics the test rewrites before every run (no training needed)."""
    write_params(demo_repo, _params())
    _metrics(demo_repo, 0.9)
    commit_all(demo_repo, "main")
    git(demo_repo, "checkout", "-q", "-b", "feature")
    commit_all(demo_repo, "a change")
    return _pr_env(monkeypatch, github_server, demo_repo)


def _inject(server: FakeGitHub, rng: random.Random, method: str, path: str, *first: Answer) -> int:
    count = rng.randint(0, MAX_FAULTS - len(first))
    answers = [*first, *(rng.choice(FAULTS)(rng) for _ in range(count))]
    server.script(method, path, *answers)
    return len(answers)


@pytest.mark.slow
def test_fifty_runs_against_a_flaky_github_leave_one_comment_and_final_statuses(
    pull: dict[str, Any],
    demo_repo: Path,
    github_server: FakeGitHub,
    cli_sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    number, head = pull["number"], pull["head"]["sha"]
    faults = 0
    rendered = ""
    accuracy = 0.0
    for i in range(RUNS):
        # Each run reports new numbers; about one in three fails the accuracy gate.
        accuracy = rng.choice([0.80, 0.90, 0.95]) + i / 10_000
        _metrics(demo_repo, accuracy)
        faults += _inject(github_server, rng, "GET", r"/issues/\d+/comments$")
        if i == 0:  # the comment is created once; make sure its answer gets lost
            faults += _inject(github_server, rng, "POST", r"/comments$", Answer.lost(502))
        else:
            faults += _inject(github_server, rng, "PATCH", r"/comments/\d+$")
        assert cli.main(["report", "--comment"]) == 0, capsys.readouterr().err
        rendered = (demo_repo / ".mlops-cache" / "report.md").read_text(encoding="utf-8")

        faults += _inject(github_server, rng, "POST", r"/statuses/")
        expected = 0 if accuracy >= 0.85 else 1
        assert cli.main(["gate", "--status"]) == expected, capsys.readouterr().err
        capsys.readouterr()

    comments = github_server.issue_comments[number]
    assert len(comments) == 1 and comments[0]["body"].startswith(MARKER)
    assert comments[0]["body"] == rendered  # the last report, not an earlier one
    assert f"{accuracy:.4f}" in rendered

    latest: dict[str, str] = {}
    for status in reversed(github_server.statuses[head]):  # oldest first: the last one wins
        latest[status["context"]] = status["state"]
    passed = accuracy >= 0.85
    assert latest == {
        "mlops/gate": "success" if passed else "failure",
        "mlops/gate: accuracy >= 0.85": "success" if passed else "failure",
        "mlops/gate: f1 >= base - 0.05": "success",
        "mlops/gate: rows.test >= 100": "success",
    }
    assert faults >= RUNS * 2 and cli_sleeps  # it was a rough ride
    assert time.monotonic() - started < 60
