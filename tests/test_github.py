"""The GitHub client's endpoints against the fake GitHub, over real HTTP on 127.0.0.1.

Retries, rate limits, error messages and the token's safety are in test_github_http.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_actions.errors import GitHubError
from mlops_actions.github import context
from mlops_actions.github.client import GitHub, GitHubRequestError, RefExistsError
from tests.conftest_github import client, main_sha
from tests.fakegithub import Answer, FakeGitHub

MARKER = "<!-- mlops-actions:report -->"


# ---- comments --------------------------------------------------------------------------------


def test_sticky_comment_is_created_once_then_updated(
    github: GitHub, github_server: FakeGitHub
) -> None:
    pr = github_server.add_pull("feature")["number"]

    first, created = github.upsert_issue_comment(pr, "accuracy 0.91", MARKER)
    second, created_again = github.upsert_issue_comment(pr, "accuracy 0.93", MARKER)

    assert (created, created_again) == (True, False)
    assert second["id"] == first["id"]
    comments = github_server.issue_comments[pr]
    assert len(comments) == 1
    assert comments[0]["body"].startswith("accuracy 0.93") and MARKER in comments[0]["body"]
    assert [r.method for r in github_server.calls(path_regex=r"/comments")] == [
        "GET",
        "POST",
        "GET",
        "PATCH",
    ]


def test_unchanged_sticky_comment_is_not_rewritten(
    github: GitHub, github_server: FakeGitHub
) -> None:
    pr = github_server.add_pull("feature")["number"]
    github.upsert_issue_comment(pr, "same", MARKER)
    github.upsert_issue_comment(pr, "same", MARKER)
    assert not github_server.calls("PATCH")


def test_sticky_comment_whose_answer_was_lost_is_not_posted_twice(
    github: GitHub, github_server: FakeGitHub, sleeps: list[float]
) -> None:
    pr = github_server.add_pull("feature")["number"]
    # GitHub created the comment, then answered 502; the next try times out after creating it.
    github_server.script("POST", r"/comments$", Answer.lost(502), Answer.lost(504, delay=3))
    comment, created = github.upsert_issue_comment(pr, "accuracy 0.91", MARKER)
    assert created and len(github_server.issue_comments[pr]) == 1
    assert comment["id"] == github_server.issue_comments[pr][0]["id"]
    assert [r.method for r in github_server.calls(path_regex=r"/comments")] == [
        "GET",
        "POST",
        "GET",
    ]
    assert len(sleeps) == 1


def test_sticky_comment_found_on_a_later_page(github: GitHub, github_server: FakeGitHub) -> None:
    pr = github_server.add_pull("feature")["number"]
    for i in range(150):
        body = f"old report\n\n{MARKER}\n" if i == 130 else f"chatter {i}"
        github_server.add_issue_comment(pr, body)

    assert len(github.list_issue_comments(pr)) == 150
    comment, created = github.upsert_issue_comment(pr, "new report", MARKER)

    assert not created
    assert comment["id"] == github_server.issue_comments[pr][130]["id"]
    assert github_server.issue_comments[pr][130]["body"].startswith("new report")
    assert len(github_server.issue_comments[pr]) == 150
    pages = [r.query for r in github_server.calls("GET", r"/issues/\d+/comments$")]
    assert pages[0] == {"per_page": ["100"]}
    assert pages[1] == {"per_page": ["100"], "page": ["2"]}


def test_commit_comment_for_push_events(github: GitHub, github_server: FakeGitHub) -> None:
    sha = main_sha(github_server)
    comment, created = github.upsert_commit_comment(sha, "report v1", MARKER)
    again, created_again = github.upsert_commit_comment(sha, "report v2", MARKER)
    assert (created, created_again) == (True, False)
    assert again["id"] == comment["id"] and again["commit_id"] == sha
    assert [c["body"].split("\n")[0] for c in github.list_commit_comments(sha)] == ["report v2"]


# ---- statuses, refs, releases, pulls ---------------------------------------------------------


def test_statuses_long_description_is_cut_to_githubs_limit(
    github: GitHub, github_server: FakeGitHub
) -> None:
    sha = main_sha(github_server)
    github.create_status(sha, "pending", "mlops/gate", "running")
    status = github.create_status(sha, "failure", "mlops/gate", "accuracy fell " * 20)
    assert len(status["description"] or "") == 140


def test_annotated_tag_and_ref_with_gto_characters(
    github: GitHub, github_server: FakeGitHub
) -> None:
    sha = main_sha(github_server)
    for name in ("demo-model@v1.0.0", "demo-model#prod#1"):
        tag = github.create_tag_object(name, f"promote {name}", sha)
        ref = github.create_ref(f"refs/tags/{name}", tag["sha"])
        assert ref["object"] == {"sha": tag["sha"], "type": "tag", "url": ref["object"]["url"]}

    found = github.get_ref("tags/demo-model#prod#1")
    assert found is not None and found["ref"] == "refs/tags/demo-model#prod#1"
    assert github.get_ref("tags/demo-model@v9.9.9") is None
    names = [r["ref"] for r in github.list_matching_refs("tags/demo-model")]
    assert names == ["refs/tags/demo-model#prod#1", "refs/tags/demo-model@v1.0.0"]
    assert github.list_matching_refs("tags/other-model@") == []


def test_create_ref_twice_same_target_is_fine_other_target_is_refused(
    github: GitHub, github_server: FakeGitHub
) -> None:
    sha = main_sha(github_server)
    github.create_ref("refs/tags/demo-model@v1.0.0", sha)
    assert github.create_ref("refs/tags/demo-model@v1.0.0", sha)["object"]["sha"] == sha
    with pytest.raises(RefExistsError) as info:
        github.create_ref("refs/tags/demo-model@v1.0.0", "f" * 40)
    assert info.value.status == 422
    assert "422 Reference already exists" in str(info.value)
    assert github_server.refs["refs/tags/demo-model@v1.0.0"] == sha


def test_release_with_model_asset(
    github: GitHub, github_server: FakeGitHub, tmp_path: Path
) -> None:
    model = tmp_path / "model.skops"
    model.write_bytes(bytes(range(256)) * 40)
    release = github.create_release("demo-model@v1.0.0", name="demo-model v1.0.0", body="notes")
    asset = github.upload_release_asset(release, model, label="model")

    assert asset["name"] == "model.skops" and asset["size"] == model.stat().st_size
    assert github_server.asset_data[asset["id"]] == model.read_bytes()
    upload = github_server.calls("POST", r"/assets$")[0]
    assert upload.upload and upload.headers["content-type"] == "application/octet-stream"
    fetched = github.get_release_by_tag("demo-model@v1.0.0")
    assert fetched is not None and [a["name"] for a in fetched["assets"]] == ["model.skops"]
    assert github.get_release_by_tag("demo-model@v2.0.0") is None


def test_pull_requests_create_filter_update(github: GitHub, github_server: FakeGitHub) -> None:
    github_server.add_ref("refs/heads/mlops/retrain", main_sha(github_server))
    github_server.add_pull("unrelated")
    pr = github.create_pull("Retrain", "mlops/retrain", "main", body="new data")

    found = github.list_pulls(head="octo-org:mlops/retrain", base="main")
    assert [p["number"] for p in found] == [pr["number"]]
    assert found[0]["head"]["ref"] == "mlops/retrain"
    assert github.update_pull(pr["number"], body="newer data", state="closed")["state"] == "closed"
    assert github.list_pulls(head="octo-org:mlops/retrain") == []
    assert len(github.list_pulls(state="all")) == 2


def test_ghes_base_url_with_path_prefix(
    github_server_factory: Callable[..., FakeGitHub], tmp_path: Path
) -> None:
    server = github_server_factory(prefix="/api/v3", default_branch="trunk")
    assert server.url.endswith("/api/v3")
    gh = client(server, [])
    assert gh.default_branch() == "trunk"
    release = gh.create_release("m@v1.0.0")
    assert release["upload_url"].startswith(f"{server.host_url}/api/uploads/")
    (tmp_path / "m.bin").write_bytes(b"weights")
    gh.upload_release_asset(release, tmp_path / "m.bin")
    assert [(r.method, r.path, r.upload) for r in server.requests] == [
        ("GET", "/repos/octo-org/demo", False),
        ("POST", "/repos/octo-org/demo/releases", False),
        ("POST", f"/repos/octo-org/demo/releases/{release['id']}/assets", True),
    ]
    with pytest.raises(GitHubRequestError) as info:
        gh.update_pull(999, title="x")
    # the message shows the API path, not the host or the /api/v3 prefix
    assert str(info.value).startswith("PATCH /repos/octo-org/demo/pulls/999: 404 Not Found")


# ---- the fake's contract checks --------------------------------------------------------------


def test_validator_rejects_an_off_spec_request(github: GitHub, github_server: FakeGitHub) -> None:
    sha = main_sha(github_server)
    path = f"/repos/octo-org/demo/statuses/{sha}"
    with pytest.raises(GitHubRequestError) as info:
        github.request("POST", path, json={"state": "green", "descripton": "typo"})
    with pytest.raises(GitHubRequestError):
        github.request("GET", "/repos/octo-org/demo/git/matching-refs/tags/x?per_page=100")
    with pytest.raises(GitHubRequestError):
        github.request("GET", "/repos/octo-org/demo/issues/first/comments")
    with pytest.raises(GitHubRequestError):
        github.request("DELETE", "/repos/octo-org/demo/git/refs/tags/x")

    assert info.value.status == 422
    found = "\n".join(github_server.violations)
    assert "body state: 'green' is not one of ['error', 'failure', 'pending', 'success']" in found
    assert "body has unknown key 'descripton'" in found
    assert "unknown query parameter 'per_page'" in found
    assert "path parameter issue_number='first'" in found
    assert "DELETE /repos/octo-org/demo/git/refs/tags/x: no operation" in found
    assert sha not in github_server.statuses
    github_server.violations.clear()  # provoked on purpose


def test_fake_answers_are_checked_against_the_response_schemas(
    github: GitHub, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = github_server._repo_json

    def without_default_branch(*args: Any) -> dict[str, Any]:
        data = original(*args)
        del data["default_branch"]
        return data

    monkeypatch.setattr(github_server, "_repo_json", without_default_branch)
    github.get_repo()
    assert github_server.violations == [
        "fake answered off-spec: GET /repos/{owner}/{repo} response 200: "
        "(root): 'default_branch' is a required property"
    ]
    github_server.violations.clear()


def test_spec_setup_is_fast(github_server: FakeGitHub) -> None:
    assert github_server.spec.seconds < 5.0


def test_client_from_the_actions_context(github_env: FakeGitHub) -> None:
    ctx = context.load()
    gh = GitHub.from_context(ctx, sleep=lambda s: None)
    assert ctx.status_sha is not None and ctx.default_branch == "main"
    gh.create_status(ctx.status_sha, "success", "mlops/gate", target_url=ctx.run_url)
    status = github_env.statuses[ctx.status_sha][0]
    assert status["target_url"] == f"{github_env.host_url}/octo-org/demo/actions/runs/4242"
    assert context.set_output(ctx, "passed", True)


def test_client_needs_a_repository() -> None:
    ctx = context.load({"GITHUB_ACTIONS": "true"})
    with pytest.raises(GitHubError, match="no GitHub repository"):
        GitHub.from_context(ctx)
