"""repository_dispatch events after registrations and assignments made in Actions: what the
deploy workflows receive, and a failure to send that leaves the run green."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions import cli
from tests.fakegithub import Answer, FakeGitHub
from tests.helpers import git, read_outputs
from tests.registry_project import NAME, fake_train, project_in, tag_names


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return project_in(tmp_path, monkeypatch)


def run_url(server: FakeGitHub) -> str:
    return f"{server.host_url}/{server.repository}/actions/runs/4242"


def test_promotion_announces_the_version_and_its_stage(repo: Path, github_env: FakeGitHub) -> None:
    sha = fake_train(repo, {"f1": 0.9})
    head = git(repo, "rev-parse", "HEAD")
    assert cli.main(["promote", "--stage", "prod"]) == 0
    common = {"name": NAME, "version": "v0.0.1", "commit": head, "sha256": sha}
    assert github_env.dispatches == [
        {
            "event_type": "mlops-registered",
            "client_payload": {
                **common,
                "stage": None,
                "tag": f"{NAME}@v0.0.1",
                "run_url": run_url(github_env),
            },
        },
        {
            "event_type": "mlops-assigned",
            "client_payload": {
                **common,
                "stage": "prod",
                "tag": f"{NAME}#prod#1",
                "run_url": run_url(github_env),
            },
        },
    ]
    # The dispatches follow the tags they announce.
    paths = [r.path for r in github_env.requests if r.method == "POST"]
    assert paths.index(f"/repos/{github_env.repository}/dispatches") > max(
        i for i, p in enumerate(paths) if p.endswith("/git/refs")
    )


def test_finishing_a_missing_stage_announces_only_the_assignment(
    repo: Path, github_env: FakeGitHub
) -> None:
    fake_train(repo, {"f1": 0.9})
    assert cli.main(["promote"]) == 0
    assert [d["event_type"] for d in github_env.dispatches] == ["mlops-registered"]
    assert cli.main(["promote", "--stage", "prod"]) == 0  # registered, its stage missing
    assert [d["event_type"] for d in github_env.dispatches] == [
        "mlops-registered",
        "mlops-assigned",
    ]
    assert github_env.dispatches[-1]["client_payload"]["tag"] == f"{NAME}#prod#1"
    assert cli.main(["promote", "--stage", "prod"]) == 0  # nothing new: no event
    assert len(github_env.dispatches) == 2


def test_no_event_for_a_model_that_was_not_promoted(repo: Path, github_env: FakeGitHub) -> None:
    fake_train(repo, {"f1": 0.9})
    assert cli.main(["promote"]) == 0
    (repo / "train.py").write_text("# worse\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "-q", "-m", "worse")
    fake_train(repo, {"f1": 0.5})
    assert cli.main(["promote", "--stage", "prod"]) == 0
    assert [d["event_type"] for d in github_env.dispatches] == ["mlops-registered"]


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ([Answer.forbidden()] * 2, "403"),
        ([Answer.server_error(502)] * 12, "502"),
    ],
    ids=["forbidden", "outage"],
)
def test_a_failed_event_is_a_warning_and_the_tags_stay(
    repo: Path,
    github_env: FakeGitHub,
    cli_sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
    answers: list[Answer],
    said: str,
) -> None:
    fake_train(repo, {"f1": 0.9})
    github_env.script("POST", r"/dispatches$", *answers)
    assert cli.main(["promote", "--stage", "prod"]) == 0
    out = capsys.readouterr().out  # workflow commands go to stdout
    warnings = [line for line in out.splitlines() if "event was not sent" in line]
    assert len(warnings) == 2, out  # one per event, each naming its tag
    assert warnings[0].startswith(f"::warning::{NAME}@v0.0.1 is written, but the mlops-registered")
    assert said in warnings[0]
    assert f"refs/tags/{NAME}#prod#1" in github_env.refs
    assert set(tag_names(repo)) == {f"{NAME}@v0.0.1", f"{NAME}#prod#1"}
    outputs = read_outputs(repo.parent / "runner" / "output")
    assert (outputs["promoted"], outputs["tag"]) == ("true", f"{NAME}@v0.0.1")
