"""Attacks on what the publishing job is told, on the pull_request_target guard and on the
runner's step files: each one run against the fake GitHub and real git repositories."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from mlops_actions.flow import results
from tests.fakegithub import FakeGitHub
from tests.helpers import (
    actions_env,
    commit_all,
    gated_params,
    git,
    pull_request_env,
    read_outputs,
    serve_contents,
    write_params,
)
from tests.test_handoff import _listed, _publish_half, _statuses, _train_half, _workflow_run_event

STRICT = "accuracy >= 0.999"  # the demo model cannot pass it


@pytest.fixture
def strict_main(project: Path, github_server: FakeGitHub) -> Path:
    """main gates with a rule no change passes; served through the contents API."""
    params = gated_params()
    params["gates"] = [*params["gates"], STRICT]
    write_params(project, params)
    commit_all(project, "a rule nothing passes")
    serve_contents(github_server, project)
    return project


def _same_repo_pull(project: Path, server: FakeGitHub, branch: str) -> tuple[dict[str, Any], str]:
    git(project, "checkout", "-q", "-b", branch)
    head = commit_all(project, "a change")
    return server.add_pull(branch, "main", head_sha=head), head


def test_a_listed_pull_request_of_another_commit_or_repository_gets_nothing(
    strict_main: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GitHub lists every open pull request on the run's head branch: one whose head moved on,
    or one into another repository, must not get this run's report or statuses."""
    pull, head = _same_repo_pull(strict_main, github_server, "more-trees")
    out = _train_half(strict_main, github_server, monkeypatch, pull)
    event = _workflow_run_event(github_server, head, "more-trees", "octo-org", [])
    moved = _listed(github_server, pull["number"], "b" * 40)
    event["workflow_run"]["pull_requests"] = [moved]
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    assert "not the run's commit" in capsys.readouterr().err
    foreign = _listed(github_server, pull["number"], head, base_repo="evil/demo")
    event["workflow_run"]["pull_requests"] = [foreign]
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    assert "not octo-org/demo" in capsys.readouterr().err
    assert github_server.calls("POST") == []
    assert github_server.issue_comments.get(pull["number"]) is None


def test_a_forged_verdict_or_an_invented_rule_turns_no_status_green(
    strict_main: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The results say every gate passed: the failing rule's state forged to pass, then the
    rule left out and another invented. The base's rules, evaluated by the publishing job,
    still fail the pull request."""
    pull, head = _same_repo_pull(strict_main, github_server, "more-trees")
    out = _train_half(strict_main, github_server, monkeypatch, pull)
    event = _workflow_run_event(github_server, head, "more-trees", "octo-org", [pull["number"]])
    path = out / results.FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    for record in data["gates"]["results"]:
        record["state"] = "pass"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 1
    assert _statuses(github_server, head)[f"mlops/gate: {STRICT}"] == "failure"
    assert _statuses(github_server, head)["mlops/gate"] == "failure"

    kept = [r for r in data["gates"]["results"] if r["rule"] != STRICT]
    invented = {**kept[0], "rule": "accuracy >= 0", "state": "pass", "threshold": 0}
    data["gates"]["results"] = [*kept, invented]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 1
    statuses = _statuses(github_server, head)
    assert statuses[f"mlops/gate: {STRICT}"] == "failure"
    assert statuses["mlops/gate"] == "failure"
    assert "mlops/gate: accuracy >= 0" not in statuses


def test_a_pull_request_that_changes_the_rules_is_gated_by_the_base_s_by_default(
    strict_main: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """main sets no `rules_from`; the pull request drops the rule it fails and asks for its
    own rules. Both jobs gate it with main's rule, and the report says what its own would."""
    git(strict_main, "checkout", "-q", "-b", "looser")
    write_params(strict_main, {**gated_params(), "gate_options": {"rules_from": "head"}})
    commit_all(strict_main, "drop the rule this change fails")
    pull = pull_request_env(monkeypatch, github_server, strict_main, "looser")
    head = pull["head"]["sha"]
    assert cli.main(["run"]) != 0
    outputs = read_outputs(strict_main.parent / "runner" / "output")
    gates = {g["rule"]: g["state"] for g in json.loads(outputs["gates"])}
    assert gates[STRICT] == "fail"
    assert _statuses(github_server, head)[f"mlops/gate: {STRICT}"] == "failure"

    out = _train_half(strict_main, github_server, monkeypatch, pull)
    github_server.statuses.clear()
    event = _workflow_run_event(github_server, head, "looser", "octo-org", [pull["number"]])
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) != 0
    assert _statuses(github_server, head)[f"mlops/gate: {STRICT}"] == "failure"
    body = github_server.issue_comments[pull["number"]][-1]["body"]
    assert "own rules would say" in body


def _target_run(
    project: Path, server: FakeGitHub, monkeypatch: pytest.MonkeyPatch, *flags: str
) -> int:
    """`run` on pull_request_target for the pull request whose code is checked out."""
    head = git(project, "rev-parse", "HEAD^2" if _is_merge(project) else "HEAD")
    pull = server.add_pull("feature", "main", head_sha=head, head_repo="evil/demo")
    event = {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": {"full_name": server.repository, "default_branch": "main"},
    }
    main = git(project, "rev-parse", "main")
    runner = project.parent / "runner"
    actions_env(monkeypatch, server, runner, "pull_request_target", event, main, "refs/heads/main")
    return cli.main(["run", *flags])


def _is_merge(project: Path) -> bool:
    return len(git(project, "rev-list", "--parents", "-n", "1", "HEAD").split()) > 2


def test_a_pull_request_cannot_switch_the_pull_request_target_guard_off_itself(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    git(project, "checkout", "-q", "-b", "feature")
    write_params(project, {**gated_params(), "gate_options": {"allow_pull_request_target": True}})
    commit_all(project, "trust me")
    assert _target_run(project, github_server, monkeypatch) == 2
    assert "pull_request_target with the pull request's code" in capsys.readouterr().err
    assert github_server.calls("POST") == []


def test_a_checkout_of_the_merge_ref_is_the_pull_request_s_code_too(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    git(project, "checkout", "-q", "-b", "feature")
    (project / "extra.txt").write_text("a fork's change\n")
    commit_all(project, "a fork's change")
    git(project, "checkout", "-q", "--detach", "main")
    git(project, "merge", "-q", "--no-ff", "-m", "Merge feature into main", "feature")
    assert _target_run(project, github_server, monkeypatch) == 2
    assert "pull_request_target with the pull request's code" in capsys.readouterr().err
    assert github_server.calls("POST") == []


def test_the_base_branch_can_allow_pull_request_target(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_params(project, {**gated_params(), "gate_options": {"allow_pull_request_target": True}})
    commit_all(project, "every author is trusted here")
    git(project, "checkout", "-q", "-b", "feature")
    commit_all(project, "a change")
    assert _target_run(project, github_server, monkeypatch) == 0


HOP = """\
import json, os, pathlib
for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT"):
    with open(os.environ[name], "a") as f:
        f.write("LD_PRELOAD=/tmp/evil.so\\n" if name != "GITHUB_PATH" else "/tmp/evil\\n")
real = pathlib.Path({real!r})
with open(real, "a") as f:  # found on its own, in the runner's temp directory
    f.write("BASH_ENV=/tmp/evil.sh\\n")
pathlib.Path("metrics.json").write_text(json.dumps({{"accuracy": 0.9}}))
"""


def test_training_code_cannot_set_the_environment_of_the_next_steps(
    git_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A training command (or a dvc stage) appending to GITHUB_ENV or GITHUB_PATH would take
    over the next step of a one-job workflow, which may hold a write token."""
    runner = tmp_path / "runner-files"
    runner.mkdir()
    files = {name: runner / name.lower() for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT")}
    for name, file in files.items():
        file.write_text("EARLIER=1\n")
        monkeypatch.setenv(name, str(file))
    (git_repo / "train.py").write_text(HOP.format(real=str(files["GITHUB_ENV"])))
    write_params(
        git_repo,
        {"train": {"mode": "command", "command": f"'{sys.executable}' train.py"}},
    )
    assert cli.main(["train"]) == 0
    assert files["GITHUB_ENV"].read_text() == "EARLIER=1\n"
    assert files["GITHUB_PATH"].read_text() == "EARLIER=1\n"
    assert "LD_PRELOAD" not in files["GITHUB_OUTPUT"].read_text()  # our own outputs follow
    err = capsys.readouterr()
    warned = err.out + err.err
    assert "GITHUB_ENV" in warned and "GITHUB_PATH" in warned and "ignored" in warned


def test_training_code_sees_none_of_the_tokens_and_none_is_printed(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sweep's pull request token and the job's OIDC request token are tokens too: the
    training's environment has none of them, and none reaches our output."""
    tokens = {
        name: f"tok3n-{name.lower()}-value"
        for name in (
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "INPUT_TOKEN",
            "MLOPS_RETRAIN_TOKEN",
            "MLOPS_PR_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        )
    }
    for name, value in tokens.items():
        monkeypatch.setenv(name, value)
    (git_repo / "train.py").write_text(
        "import json, os, pathlib\n"
        "print(sorted(os.environ.items()))\n"
        "pathlib.Path('seen.json').write_text(json.dumps(dict(os.environ)))\n"
        "pathlib.Path('metrics.json').write_text(json.dumps({'accuracy': 0.9}))\n"
    )
    write_params(
        git_repo, {"train": {"mode": "command", "command": f"'{sys.executable}' train.py"}}
    )
    assert cli.main(["train"]) == 0
    seen = json.loads((git_repo / "seen.json").read_text())
    assert not set(tokens) & set(seen)
    printed = capsys.readouterr()
    assert not any(v in printed.out + printed.err for v in tokens.values())


def test_a_head_pushed_after_the_event_is_pull_request_code_too(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The event names the head it was sent for; `refs/pull/N/head` (or `/merge`) is fetched
    later, after the author force-pushed a commit that has neither that head nor its merge as
    a parent. Only the base's own commit is not the pull request's code."""
    git(project, "checkout", "-q", "-b", "feature")
    commit_all(project, "the head the event names")
    named = git(project, "rev-parse", "HEAD")
    git(project, "reset", "-q", "--hard", "main")
    (project / "train.py").write_text("# pushed after the event\n")
    commit_all(project, "force-pushed after the event")
    pull = github_server.add_pull("feature", "main", head_sha=named, head_repo="evil/demo")
    event = {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": {"full_name": github_server.repository, "default_branch": "main"},
    }
    main = git(project, "rev-parse", "main")
    runner = project.parent / "runner"
    actions_env(
        monkeypatch, github_server, runner, "pull_request_target", event, main, "refs/heads/main"
    )
    assert cli.main(["run"]) == 2
    assert "pull_request_target with the pull request's code" in capsys.readouterr().err
    assert github_server.calls("POST") == []


def test_the_guard_runs_before_the_install_command_runs_the_checkouts_code(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The action's `install` (a setup.py, a Makefile of the pull request) runs before `run`,
    with the checkout's credentials at hand: on pull_request_target its step asks the guard
    first, which refuses the pull request's code and lets the base's own commit through."""
    import yaml

    action = yaml.safe_load((Path(__file__).resolve().parents[1] / "action.yml").read_text())
    [step] = [s for s in action["runs"]["steps"] if "MLOPS_INSTALL" in s.get("env", {})]
    script = step["run"]
    assert script.index("mlops-actions run --check-checkout") < script.index("user-install.sh")

    git(project, "checkout", "-q", "-b", "feature")
    commit_all(project, "a change")
    assert _target_run(project, github_server, monkeypatch, "--check-checkout") == 2
    assert "pull_request_target with the pull request's code" in capsys.readouterr().err
    git(project, "checkout", "-q", "main")
    pull = github_server.add_pull("feature", "main", head_sha=git(project, "rev-parse", "feature"))
    event = {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": {"full_name": github_server.repository, "default_branch": "main"},
    }
    main = git(project, "rev-parse", "main")
    runner = project.parent / "runner2"
    actions_env(
        monkeypatch, github_server, runner, "pull_request_target", event, main, "refs/heads/main"
    )
    assert cli.main(["run", "--check-checkout"]) == 0
    assert "trained" not in capsys.readouterr().out  # only the check
    assert github_server.calls("POST") == []
