"""Context from the Actions environment and event files, and from a local checkout."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import output
from mlops_actions.errors import MlopsError
from mlops_actions.github import context
from tests.helpers import commit_all, git

HEAD_SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
BASE_SHA = "9049f1265b7d61be4a8904a9a27120d2064dab3b"
MERGE_SHA = "e5bd3914e2e596debea16f433f57875b5b90bcd6"
TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"


def user(login: str, user_id: int) -> dict[str, Any]:
    return {
        "login": login,
        "id": user_id,
        "node_id": "MDQ6VXNlcjE=",
        "type": "User",
        "site_admin": False,
        "html_url": f"https://github.com/{login}",
    }


def repo(full_name: str, repo_id: int, *, fork: bool = False) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": repo_id,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": user(owner, 9919),
        "html_url": f"https://github.com/{full_name}",
        "fork": fork,
        "default_branch": "main",
        "clone_url": f"https://github.com/{full_name}.git",
    }


def pull_request_event(
    head_repo: str = "octo-org/demo", action: str = "synchronize"
) -> dict[str, Any]:
    """The shape of a real `pull_request` webhook payload (trimmed of fields we do not read)."""
    head_owner = head_repo.split("/")[0]
    return {
        "action": action,
        "number": 7,
        "before": "0c4c0f3e2b52b6d0d2e0c8d0a9b7c2d0e6f1a2b3",
        "after": HEAD_SHA,
        "pull_request": {
            "url": "https://api.github.com/repos/octo-org/demo/pulls/7",
            "id": 1855012131,
            "node_id": "PR_kwDOKx1Z2M5ukR8j",
            "html_url": "https://github.com/octo-org/demo/pull/7",
            "number": 7,
            "state": "open",
            "locked": False,
            "title": "Deeper trees",
            "user": user("octocat", 583231),
            "body": "max_depth 4 -> 6",
            "created_at": "2024-05-01T12:00:00Z",
            "updated_at": "2024-05-01T12:05:00Z",
            "merge_commit_sha": MERGE_SHA,
            "draft": False,
            "head": {
                "label": f"{head_owner}:deeper-trees",
                "ref": "deeper-trees",
                "sha": HEAD_SHA,
                "user": user(head_owner, 583231),
                "repo": repo(head_repo, 700, fork=head_repo != "octo-org/demo"),
            },
            "base": {
                "label": "octo-org:main",
                "ref": "main",
                "sha": BASE_SHA,
                "user": user("octo-org", 9919),
                "repo": repo("octo-org/demo", 600),
            },
            "author_association": "CONTRIBUTOR",
            "merged": False,
            "commits": 1,
        },
        "repository": repo("octo-org/demo", 600),
        "sender": user("octocat", 583231),
    }


def actions_env(tmp_path: Path, event_name: str, event: Any, **extra: str) -> dict[str, str]:
    event_path = tmp_path / "event.json"
    text = event if isinstance(event, str) else json.dumps(event)
    event_path.write_text(text, encoding="utf-8")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": "octo-org/demo",
        "GITHUB_SHA": MERGE_SHA,
        "GITHUB_REF": "refs/pull/7/merge",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_RUN_ID": "8812345678",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    env.update(extra)
    return env


def test_pull_request_event(tmp_path: Path) -> None:
    ctx = context.load(actions_env(tmp_path, "pull_request", pull_request_event()))
    assert ctx.in_actions and not ctx.local
    assert ctx.is_pull_request and ctx.pr_number == 7
    assert ctx.sha == MERGE_SHA
    assert ctx.status_sha == HEAD_SHA  # statuses go on the PR head, not the merge commit
    assert (ctx.pr_base_ref, ctx.pr_base_sha) == ("main", BASE_SHA)
    assert (ctx.pr_head_ref, ctx.pr_head_repo) == ("deeper-trees", "octo-org/demo")
    assert not ctx.is_fork
    assert ctx.default_branch == "main"
    assert ctx.event["action"] == "synchronize"
    assert ctx.run_url == "https://github.com/octo-org/demo/actions/runs/8812345678"


def test_pull_request_target_from_a_fork(tmp_path: Path) -> None:
    env = actions_env(
        tmp_path,
        "pull_request_target",
        pull_request_event(head_repo="someone/demo"),
        GITHUB_SHA=BASE_SHA,
        GITHUB_REF="refs/heads/main",
    )
    ctx = context.load(env)
    assert ctx.is_fork and ctx.pr_head_repo == "someone/demo"
    assert ctx.status_sha == HEAD_SHA and ctx.sha == BASE_SHA


def test_pull_request_from_a_deleted_fork_counts_as_a_fork(tmp_path: Path) -> None:
    event = pull_request_event(head_repo="someone/demo")
    event["pull_request"]["head"]["repo"] = None
    ctx = context.load(actions_env(tmp_path, "pull_request", event))
    assert ctx.pr_head_repo is None and ctx.is_fork


def test_push_event(tmp_path: Path) -> None:
    sha = "1111111111111111111111111111111111111111"
    event = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": sha,
        "repository": {**repo("octo-org/demo", 600), "default_branch": "trunk"},
        "pusher": {"name": "octocat", "email": "octocat@github.com"},
        "head_commit": {"id": sha, "message": "retrain"},
    }
    env = actions_env(
        tmp_path,
        "push",
        event,
        GITHUB_SHA=sha,
        GITHUB_REF="refs/heads/main",
        GITHUB_RUN_ATTEMPT="3",
    )
    ctx = context.load(env)
    assert not ctx.is_pull_request and not ctx.is_fork and ctx.pr_number is None
    assert ctx.status_sha == sha
    assert ctx.ref_name == "main"
    assert ctx.default_branch == "trunk"
    assert ctx.run_url == "https://github.com/octo-org/demo/actions/runs/8812345678/attempts/3"


def test_enterprise_server_urls(tmp_path: Path) -> None:
    env = actions_env(
        tmp_path,
        "push",
        {},
        GITHUB_SERVER_URL="https://ghes.example.com",
        GITHUB_API_URL="https://ghes.example.com/api/v3/",
    )
    ctx = context.load(env)
    assert ctx.api_url == "https://ghes.example.com/api/v3"
    assert ctx.run_url == "https://ghes.example.com/octo-org/demo/actions/runs/8812345678"
    assert context.load({}).api_url == "https://api.github.com"


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        (
            "ghp_fromTheCommandLine",
            {"GITHUB_TOKEN": TOKEN, "GH_TOKEN": "ghp_gh"},
            "ghp_fromTheCommandLine",
        ),
        (None, {"GITHUB_TOKEN": TOKEN, "GH_TOKEN": "ghp_ghcli_token"}, TOKEN),
        (None, {"GH_TOKEN": "ghp_ghcli_token"}, "ghp_ghcli_token"),
        (None, {"GITHUB_TOKEN": "", "GH_TOKEN": "ghp_ghcli_token"}, "ghp_ghcli_token"),
        (None, {}, None),
    ],
)
def test_token_precedence_and_masking(
    explicit: str | None, env: dict[str, str], expected: str | None
) -> None:
    ctx = context.load(env, token=explicit)
    assert ctx.token == expected
    if expected is not None:
        assert expected not in repr(ctx)
        assert output.redact(f"token={expected}") == "token=***"


def test_the_token_is_redacted_and_written_to_no_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    context.load(actions_env(tmp_path, "push", {}, GITHUB_TOKEN=TOKEN))
    captured = capsys.readouterr()
    # No ::add-mask:: either: the runner masks secrets itself, and stderr may be a file.
    assert captured.err == captured.out == ""
    assert output.redact(f"Bearer {TOKEN}") == "Bearer ***"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"action": "opened",', "not valid JSON (line 1 column 21"),
        ("[1, 2]", "expected a JSON object, got list"),
        ("\udcff", "not UTF-8 text"),
    ],
)
def test_malformed_event_file_names_the_file(tmp_path: Path, content: str, problem: str) -> None:
    env = actions_env(tmp_path, "push", "{}")
    Path(env["GITHUB_EVENT_PATH"]).write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(MlopsError) as info:
        context.load(env)
    assert str(info.value).startswith(f"event file {env['GITHUB_EVENT_PATH']}: {problem}")


def test_missing_event_file(tmp_path: Path) -> None:
    env = actions_env(tmp_path, "push", {}, GITHUB_EVENT_PATH=str(tmp_path / "nope.json"))
    with pytest.raises(MlopsError, match=r"nope\.json \(GITHUB_EVENT_PATH\) does not exist"):
        context.load(env)


def test_pull_request_event_without_its_object(tmp_path: Path) -> None:
    env = actions_env(tmp_path, "pull_request", {"action": "opened"})
    with pytest.raises(MlopsError, match="a pull request event without a 'pull_request' object"):
        context.load(env)


def test_bad_repository_name(tmp_path: Path) -> None:
    env = actions_env(tmp_path, "push", {}, GITHUB_REPOSITORY="not a repo")
    with pytest.raises(MlopsError, match="GITHUB_REPOSITORY='not a repo' is not of the form"):
        context.load(env)


# ---- local mode ------------------------------------------------------------------------------


def test_local_mode_reads_the_checkout(git_repo: Path) -> None:
    (git_repo / "a.txt").write_text("a")
    sha = commit_all(git_repo, "first")
    git(git_repo, "remote", "add", "origin", "git@github.com:octo-org/demo.git")
    ctx = context.load({})
    assert ctx.local and not ctx.in_actions
    assert ctx.event_name == "local" and ctx.event == {}
    assert ctx.repository == "octo-org/demo"
    assert ctx.sha == sha and ctx.status_sha == sha
    assert ctx.ref == "refs/heads/main"
    assert ctx.run_url is None and ctx.output_file is None


def test_local_mode_default_branch_from_origin_head(git_repo: Path, tmp_path: Path) -> None:
    commit_all(git_repo, "first")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(git_repo), str(clone))
    git(clone, "remote", "set-url", "origin", "https://github.com/octo-org/demo")
    assert context.load({}, cwd=clone).default_branch == "main"


def test_local_mode_outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    ctx = context.load({})
    assert (ctx.repository, ctx.sha, ctx.ref) == (None, None, None)


def test_actions_mode_does_not_guess_from_git(git_repo: Path) -> None:
    commit_all(git_repo, "first")
    git(git_repo, "remote", "add", "origin", "https://github.com/octo-org/demo.git")
    ctx = context.load({"GITHUB_ACTIONS": "true"})
    assert (ctx.repository, ctx.sha) == (None, None)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/octo-org/demo.git", "octo-org/demo"),
        ("https://github.com/octo-org/demo", "octo-org/demo"),
        ("https://github.com/octo-org/demo/", "octo-org/demo"),
        ("git@github.com:octo-org/demo.git", "octo-org/demo"),
        ("ssh://git@github.com/octo-org/demo.git", "octo-org/demo"),
        ("ssh://git@ssh.github.com:443/octo-org/demo.git", "octo-org/demo"),
        (f"https://x-access-token:{TOKEN}@github.com/octo-org/demo.git", "octo-org/demo"),
        ("https://gitlab.com/octo-org/demo.git", None),
        ("/srv/git/demo.git", None),
        ("https://github.com/octo-org", None),
        ("https://github.com/octo-org/demo/tree/main", None),
    ],
)
def test_parse_remote(url: str, expected: str | None) -> None:
    assert context.parse_remote(url, ("github.com", "ssh.github.com")) == expected


# ---- step outputs and the job summary --------------------------------------------------------


def parse_runner_file(text: str) -> dict[str, str]:
    """Read $GITHUB_OUTPUT the way the Actions runner does."""
    values: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            else:
                raise AssertionError(f"unterminated value for {name}")
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def test_set_output_is_safe_for_any_value(tmp_path: Path) -> None:
    ctx = context.load(actions_env(tmp_path, "push", {}))
    tricky = "line 1\nEOF\nname<<EOF\nx=1\n\n| a | b |"
    assert context.set_output(ctx, "report", tricky)
    context.set_output(ctx, "passed", True)
    context.set_output(ctx, "accuracy", 0.93)
    values = parse_runner_file(Path(ctx.output_file or "").read_text(encoding="utf-8"))
    assert values == {"report": tricky, "passed": "true", "accuracy": "0.93"}


def test_set_output_delimiter_is_random(tmp_path: Path) -> None:
    ctx = context.load(actions_env(tmp_path, "push", {}))
    context.set_output(ctx, "a", "1")
    context.set_output(ctx, "b", "2")
    text = Path(ctx.output_file or "").read_text(encoding="utf-8")
    first, second = (line.split("<<")[1] for line in text.splitlines() if "<<" in line)
    assert first != second


def test_set_output_rejects_a_name_that_would_inject(tmp_path: Path) -> None:
    ctx = context.load(actions_env(tmp_path, "push", {}))
    with pytest.raises(ValueError):
        context.set_output(ctx, "a\nb", "1")


def test_outside_actions_outputs_and_summary_are_skipped(git_repo: Path) -> None:
    ctx = context.load({})
    assert context.set_output(ctx, "a", "1") is False
    assert context.append_summary(ctx, "# hi") is False
    assert os.listdir(git_repo) == [".git"]


def test_append_summary(tmp_path: Path) -> None:
    ctx = context.load(actions_env(tmp_path, "push", {}, GITHUB_TOKEN=TOKEN))
    context.append_summary(ctx, "## Model report\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    context.append_summary(ctx, f"leaked {TOKEN}\n")
    text = Path(ctx.summary_file or "").read_text(encoding="utf-8")
    assert text == "## Model report\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nleaked ***\n\n"


def test_append_summary_stays_under_the_runner_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = context.load(actions_env(tmp_path, "push", {}))
    context.append_summary(ctx, "x" * (context.SUMMARY_LIMIT - 100))
    context.append_summary(ctx, "é" * 1000)
    data = Path(ctx.summary_file or "").read_bytes()
    assert len(data) <= context.SUMMARY_LIMIT
    assert data.decode("utf-8").endswith("*(truncated: the job summary is limited to 1 MiB)*\n")
    assert "1 MiB limit" in capsys.readouterr().err
