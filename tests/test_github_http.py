"""The GitHub client's transport (github_http) against the fake GitHub, over real HTTP on
127.0.0.1: headers, retries, rate limits, one-line errors, and the token kept secret.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from mlops_actions import output
from mlops_actions.errors import GitHubError
from mlops_actions.github.client import GitHub, GitHubRequestError
from tests.conftest_github import client, main_sha
from tests.fakegithub import Answer, FakeGitHub

NOW = 1_700_000_000.0


# ---- what every request carries --------------------------------------------------------------


def test_default_branch_and_headers(github: GitHub, github_server: FakeGitHub) -> None:
    assert github.default_branch() == "main"
    sent = github_server.requests[-1].headers
    assert sent["authorization"] == f"Bearer {github_server.token}"
    assert sent["accept"] == "application/vnd.github+json"
    assert sent["x-github-api-version"] == "2022-11-28"
    assert sent["user-agent"].startswith("mlops-actions/")


# ---- retries and rate limits -----------------------------------------------------------------


def test_5xx_is_retried_with_backoff_then_succeeds(
    github: GitHub, github_server: FakeGitHub, sleeps: list[float]
) -> None:
    sha = main_sha(github_server)
    github_server.script("POST", r"/statuses/", Answer(502), Answer(503))
    github.create_status(sha, "success", "mlops/gate")
    assert len(github_server.calls("POST")) == 3
    assert len(github_server.statuses[sha]) == 1
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # exponential, with jitter


def test_5xx_exhausted_is_one_clear_error(
    github: GitHub, github_server: FakeGitHub, sleeps: list[float]
) -> None:
    github_server.script("GET", r"^/repos/[^/]+/[^/]+$", *[Answer(500)] * 5)
    with pytest.raises(GitHubError) as info:
        github.get_repo()
    message = str(info.value)
    assert message.startswith("GET /repos/octo-org/demo: 500 Internal Server Error")
    assert "gave up after 5 attempts" in message and "\n" not in message
    assert len(sleeps) == 4 and len(github_server.requests) == 5


def test_5xx_retry_after_is_honoured(
    github: GitHub, github_server: FakeGitHub, sleeps: list[float]
) -> None:
    github_server.script("GET", r"^/repos/[^/]+/[^/]+$", Answer(503, headers={"retry-after": "4"}))
    github.get_repo()
    assert sleeps == [4.0]


def test_timeout_is_retried(github_server: FakeGitHub) -> None:
    sleeps: list[float] = []
    gh = client(github_server, sleeps, timeout=(1.0, 0.2))
    github_server.script("GET", r"^/repos/[^/]+/[^/]+$", Answer.slow(3))
    assert gh.default_branch() == "main"
    assert len(github_server.requests) == 2 and len(sleeps) == 1


def test_timeouts_exhausted(github_server: FakeGitHub) -> None:
    gh = client(github_server, [], timeout=(1.0, 0.2), max_attempts=2)
    github_server.script("GET", r"^/repos/[^/]+/[^/]+$", Answer.slow(3), Answer.slow(3))
    with pytest.raises(
        GitHubError, match=r"^GET /repos/octo-org/demo: timed out waiting \(0.2 s\)"
    ):
        gh.get_repo()


def test_connection_refused_is_retried_then_reported(sleeps: list[float]) -> None:
    gh = GitHub("http://127.0.0.1:9", "ghs_abcdefgh", "o/r", max_attempts=3, sleep=sleeps.append)
    with pytest.raises(GitHubError, match=r"cannot connect to 127.0.0.1:9 .*after 3 attempts"):
        gh.get_repo()
    assert len(sleeps) == 2


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_waits_retry_after(
    github: GitHub, github_server: FakeGitHub, sleeps: list[float], status: int
) -> None:
    pr = github_server.add_pull()["number"]
    github_server.script("POST", r"/comments$", Answer.secondary_limit(7, status=status))
    github.create_issue_comment(pr, "hi")
    assert sleeps == [7.0]
    assert len(github_server.issue_comments[pr]) == 1


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_waits_until_reset(github_server: FakeGitHub, status: int) -> None:
    sleeps: list[float] = []
    gh = client(github_server, sleeps, clock=lambda: NOW)
    github_server.script("GET", r"/pulls$", Answer.primary_limit(int(NOW) + 30, status=status))
    assert gh.list_pulls() == []
    assert sleeps == [31.0]  # until the reset, plus a second for clock skew


def test_rate_limit_beyond_the_wait_budget_fails_at_once(github_server: FakeGitHub) -> None:
    sleeps: list[float] = []
    gh = client(github_server, sleeps, clock=lambda: NOW, max_wait=120)
    github_server.script("GET", r"/pulls$", Answer.primary_limit(int(NOW) + 3600))
    with pytest.raises(GitHubError) as info:
        gh.list_pulls()
    assert sleeps == []
    assert "API rate limit exceeded" in str(info.value)
    assert "wait 3601 s at 23:13:20 UTC, beyond the 120 s" in str(info.value)


def test_total_wait_is_bounded(github_server: FakeGitHub) -> None:
    sleeps: list[float] = []
    gh = client(github_server, sleeps, max_wait=100, max_attempts=10)
    github_server.script("GET", r"/pulls$", *[Answer.secondary_limit(60)] * 5)
    with pytest.raises(GitHubError, match="secondary rate limit"):
        gh.list_pulls()
    assert sleeps == [60.0]


# ---- errors and secrets ----------------------------------------------------------------------


def test_401_names_the_problem_and_never_the_token(
    github_server: FakeGitHub, capfd: pytest.CaptureFixture[str]
) -> None:
    token = github_server.token
    gh = client(github_server, [])
    # A server that echoes the credentials back must not get them printed either.
    github_server.script("GET", "", Answer(401, {"message": f"Bad credentials: {token}"}))
    with pytest.raises(GitHubRequestError) as info:
        gh.get_repo()
    output.error(str(info.value))  # what the CLI does with it
    print(repr(gh), repr(info.value), "".join(traceback.format_exception(info.value)))
    out, err = capfd.readouterr()

    assert info.value.status == 401
    assert str(info.value) == (
        "GET /repos/octo-org/demo: 401 Bad credentials: *** — "
        "the token is invalid or expired; check GITHUB_TOKEN / --token"
    )
    for text in (str(info.value), info.value.github_message, out, err):
        assert token not in text
    assert "401 Bad credentials" in err


def test_no_token_says_so(github_server: FakeGitHub) -> None:
    gh = GitHub(github_server.url, None, github_server.repository)
    assert gh.default_branch() == "main"  # reading a public repository needs no token
    with pytest.raises(GitHubRequestError, match=r"401 Requires authentication — no token: set"):
        gh.create_status(main_sha(github_server), "success", "ci")


def test_rate_limited_on_every_attempt(github_server: FakeGitHub) -> None:
    sleeps: list[float] = []
    gh = client(github_server, sleeps, max_attempts=3)
    github_server.script("GET", r"/pulls$", *[Answer.secondary_limit(5)] * 3)
    with pytest.raises(GitHubError, match="still rate limited after 3 attempts over 10 s"):
        gh.list_pulls()
    assert sleeps == [5.0, 5.0]


def test_wrong_token_is_a_401(github_server: FakeGitHub) -> None:
    gh = GitHub(github_server.url, "ghs_not_the_right_one", github_server.repository)
    with pytest.raises(GitHubRequestError, match=r"401 Bad credentials .*invalid or expired"):
        gh.create_status(main_sha(github_server), "success", "ci")
    assert "ghs_not_the_right_one" not in repr(gh)


def test_token_that_breaks_a_header_is_not_echoed(github_server: FakeGitHub) -> None:
    token = "ghp_Secret\nValue123"
    gh = GitHub(github_server.url, token, github_server.repository)
    with pytest.raises(GitHubError) as info:
        gh.get_repo()
    text = "".join(traceback.format_exception(info.value))
    assert "ghp_Secret" not in text and "Value123" not in text
    assert str(info.value) == (
        "GET /repos/octo-org/demo: InvalidHeader: the token contains a character a header "
        "cannot carry"
    )


def test_403_names_the_permission_to_add(github: GitHub, github_server: FakeGitHub) -> None:
    github_server.script("POST", r"/statuses/", Answer.forbidden())
    with pytest.raises(GitHubRequestError) as info:
        github.create_status(main_sha(github_server), "success", "mlops/gate")
    assert str(info.value).startswith(
        f"POST /repos/octo-org/demo/statuses/{main_sha(github_server)}: "
        "403 Resource not accessible by integration — the token lacks a permission: "
        "give the job `permissions:` `statuses: write`"
    )


def test_404_unknown_repository(github_server: FakeGitHub) -> None:
    gh = GitHub(github_server.url, github_server.token, "octo-org/missing")
    with pytest.raises(GitHubRequestError) as info:
        gh.get_repo()
    assert info.value.status == 404
    assert str(info.value) == (
        "GET /repos/octo-org/missing: 404 Not Found — not found, or the token has no access to it"
    )


def test_422_details_are_in_the_message(github: GitHub) -> None:
    github.create_release("m@v1")
    with pytest.raises(GitHubRequestError, match=r"422 Validation Failed \(Release.tag_name "):
        github.create_release("m@v1")


def test_token_is_not_sent_to_a_foreign_next_page(
    github: GitHub, github_server: FakeGitHub
) -> None:
    link = '<https://evil.example/repos/octo-org/demo/pulls?page=2>; rel="next"'
    github_server.script("GET", r"/pulls$", Answer(200, [], {"Link": link}))
    with pytest.raises(GitHubError, match="refusing to send the GitHub token to https://evil"):
        github.list_pulls()


def test_token_is_not_sent_to_a_foreign_upload_host(github: GitHub, tmp_path: Path) -> None:
    release = github.create_release("m@v1")
    release["upload_url"] = "https://uploads.evil.example/repos/o/r/releases/1/assets{?name}"
    (tmp_path / "m.bin").write_bytes(b"x")
    with pytest.raises(GitHubError, match="refusing to send the GitHub token"):
        github.upload_release_asset(release, tmp_path / "m.bin")


def test_uploads_host_of_github_com_is_trusted() -> None:
    gh = GitHub("https://api.github.com", "ghs_abcdefgh", "o/r")
    gh._check_same_service("https://uploads.github.com/repos/o/r/releases/1/assets")
    with pytest.raises(GitHubError):
        gh._check_same_service("http://uploads.github.com/repos/o/r/releases/1/assets")
