"""The fault table: each row injects one fault and asserts what a user sees.

For every row: one clear line (what failed, where, what to do), the documented exit code (0 ok,
1 gate failed, 2 error), the overall commit status `error` where statuses are on (never left
`pending`), no half-written file, no duplicate comment or tag, and a rerun after the fault
clears succeeds. The messages are listed in docs/troubleshooting.md.

| row                                    | here                                   | also in          |
| -------------------------------------- | -------------------------------------- | ---------------- |
| GitHub 500 / 502 / timeout             | test_github_keeps_failing              | test_github.py   |
| GitHub did it, but the answer was lost | test_lost_answer_posts_one_comment     | test_soak.py     |
| statuses fail after `pending`          | test_statuses_failing_midway_*         |                  |
| secondary rate limit (retry-after)     | test_secondary_rate_limit_*            | test_github.py   |
| primary rate limit (x-ratelimit-reset) | test_primary_rate_limit_*              | test_github.py   |
| 401 bad token, token never printed     | test_bad_token                         | test_github.py   |
| 404 no such pull request               | test_no_such_pull_request              |                  |
| S3 server down mid-pull                | test_s3_server_goes_down_mid_pull      | test_s3_remote.py (dead port, no credentials) |
| blob missing from the remote           | test_blob_missing_from_the_remote      | test_data.py     |
| corrupt or truncated data file         | test_corrupt_data_trains_nothing       | test_data.py (edited workspace file) |
| tag push refused by the remote (hook)  | test_tag_push_refused_by_a_hook        | test_registry_writers.py |
| tag refused by GitHub (ruleset)        | test_tag_refused_by_a_github_ruleset   |                  |
| metrics missing, not JSON, NaN, Inf    | test_metrics_file_faults, test_training_that_writes_nan_* | test_gates.py |
| params.yaml not YAML, empty            | test_params_not_yaml_or_empty          | test_config.py   |
| a 200,000-character report             | test_200k_character_report             | test_report.py, test_publish.py |
| non-ASCII metric and model names       | test_non_ascii_names                   | test_config.py   |
| cache dir below a regular file         | test_cache_dir_below_a_file            |                  |
| cache dir read-only, cache disk full   | test_read_only_cache_dir, test_full_cache_dir | test_training.py (corrupt entry) |

The end-of-test checks every row shares (no half-written file, at most one report comment per
pull request, no status left pending) are in the autouse fixture `_every_row`.
The GitHub client's waits are recorded, not slept (the `cli_sleeps` fixture).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from mlops_actions.dvcio import data
from mlops_actions.github.http import RestClient
from mlops_actions.report import markdown
from tests.fakegithub import Answer, FakeGitHub
from tests.helpers import commit_all, dvc, git, read_outputs, write_params
from tests.test_publish import MARKER, _branch, _params, _pr_env, _push_env
from tests.test_s3_remote import BUCKET, s3_env, s3_server  # noqa: F401  (fixtures)

NOW = 1_700_000_000.0
CONTEXTS = [
    "mlops/gate",
    "mlops/gate: accuracy >= 0.85",
    "mlops/gate: f1 >= base - 0.05",
    "mlops/gate: rows.test >= 100",
]

# ---- what every row checks ------------------------------------------------------------------


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line the run printed on stderr: `error: ...`, and nothing else (no traceback)."""
    return _only_error(capsys.readouterr().err)


def _only_error(err: str) -> str:
    # Warnings may come before it; ::add-mask:: commands are consumed by the runner (never shown).
    lines = [ln for ln in err.splitlines() if not ln.startswith(("::add-mask::", "warning: "))]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0].removeprefix("error: ")


def _states(server: FakeGitHub, sha: str) -> dict[str, str]:
    """The latest state of each status context on `sha`; none may be left pending."""
    latest = {s["context"]: s for s in reversed(server.statuses.get(sha, []))}
    states = {context: s["state"] for context, s in latest.items()}
    assert "pending" not in states.values(), states
    return states


def _overall(server: FakeGitHub, sha: str) -> dict[str, Any]:
    return next(s for s in server.statuses[sha] if s["context"] == "mlops/gate")


def _reports(server: FakeGitHub, number: int) -> list[str]:
    return [c["body"] for c in server.issue_comments.get(number, []) if MARKER in c["body"]]


def _leftovers(root: Path) -> list[str]:
    """Half-written files: atomic writes' temps (.NAME.*.tmp), run-cache staging and trash
    (git's and DVC's own directories aside)."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part in (".git", ".dvc") or part.endswith(".git") for part in rel.parts):
            continue
        name = path.name
        if (name.startswith(".") and name.endswith(".tmp")) or name.startswith((".tmp-", ".trash")):
            found.append(str(rel))
    return found


def _complete_report(path: Path) -> str:
    """The report file, checked whole: the marker first, the plots (the confusion tables and
    the note under them) last."""
    body = path.read_text(encoding="utf-8")
    assert body.startswith(MARKER) and "<summary>Plots</summary>" in body, body[:200]
    assert body.rstrip().endswith(
        ("|\n\n</details>", "<sub>in brackets: the change from the base</sub>\n\n</details>")
    ), body[-200:]
    return body


@pytest.fixture(autouse=True)
def _every_row(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """What every row also holds at its end: no half-written file anywhere the test wrote, no
    pull request with two report comments, no status context left pending."""
    used = "github_server" in request.fixturenames
    server: FakeGitHub | None = request.getfixturevalue("github_server") if used else None
    yield
    assert _leftovers(tmp_path) == []
    if server is not None:
        for number in server.issue_comments:
            assert len(_reports(server, number)) <= 1, number
        for sha in server.statuses:
            _states(server, sha)


@pytest.fixture
def pr(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    cli_sleeps: list[float],
) -> dict[str, Any]:
    """Pull request #1 (the branch `feature`, max_depth 2) in an Actions-like environment."""
    _branch(project, model__params={"n_estimators": 20, "max_depth": 2})
    return _pr_env(monkeypatch, github_server, project)


# ---- GitHub ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (Answer(500), "500 Internal Server Error"),
        (Answer(502), "502 Bad Gateway"),
        (Answer.slow(3), "timed out waiting (0.5 s)"),
    ],
    ids=["500", "502", "timeout"],
)
def test_github_keeps_failing(
    pr: dict[str, Any],
    project: Path,
    github_server: FakeGitHub,
    cli_sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
    answer: Answer,
    said: str,
) -> None:
    number, head = pr["number"], pr["head"]["sha"]
    github_server.script("POST", r"/issues/\d+/comments$", *[answer] * 5)
    assert cli.main(["run"]) == 2
    line = _error_line(capsys)
    assert line.startswith(f"POST /repos/octo-org/demo/issues/{number}/comments: {said} — ")
    assert "gave up after 5 attempts" in line
    assert len(cli_sleeps) == 4  # retried, with backoff
    # The statuses were posted first and tell the gates' verdict; the job still fails.
    assert set(_states(github_server, head).values()) == {"success"}
    assert _reports(github_server, number) == []
    _complete_report(project / ".mlops-cache" / "report.md")
    assert _leftovers(project) == []

    assert cli.main(["run"]) == 0  # GitHub is back
    assert len(_reports(github_server, number)) == 1
    assert set(_states(github_server, head).values()) == {"success"}


def test_lost_answer_posts_one_comment(
    pr: dict[str, Any], project: Path, github_server: FakeGitHub
) -> None:
    """GitHub created the comment, then answered 502 (or not in time): not posted twice."""
    number, head = pr["number"], pr["head"]["sha"]
    github_server.script("POST", r"/issues/\d+/comments$", Answer.lost(502))
    github_server.script("PATCH", r"/issues/comments/\d+$", Answer.lost(504, delay=3))
    github_server.script("POST", r"/statuses/", Answer.lost(502), Answer.lost(504, delay=3))
    assert cli.main(["report", "--comment"]) == 0
    assert len(_reports(github_server, number)) == 1
    assert cli.main(["run"]) == 0  # an update whose answer times out
    (body,) = _reports(github_server, number)
    assert body == (project / ".mlops-cache" / "report.md").read_text()  # the update landed
    assert set(_states(github_server, head).values()) == {"success"}
    assert cli.main(["report", "--comment"]) == 0
    assert len(_reports(github_server, number)) == 1


@pytest.mark.parametrize("argv", [["gate", "--status"], ["run"]])
def test_statuses_failing_midway_end_in_error(
    pr: dict[str, Any],
    github_server: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    """The pending status went out, then GitHub failed: the overall context must not stay
    pending (a required check would block the merge with no explanation)."""
    head = pr["head"]["sha"]
    github_server.script("POST", r"/statuses/", *[Answer(502)] * 5, after=1)
    assert cli.main(argv) == 2
    line = _error_line(capsys)
    assert line.startswith(f"POST /repos/octo-org/demo/statuses/{head}: 502 Bad Gateway — ")
    assert _states(github_server, head)["mlops/gate"] == "error"
    assert cli.main(argv) == 0
    assert _states(github_server, head) == dict.fromkeys(CONTEXTS, "success")


def test_secondary_rate_limit_is_waited_out(
    pr: dict[str, Any],
    github_server: FakeGitHub,
    cli_sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    number, head = pr["number"], pr["head"]["sha"]
    github_server.script("POST", r"/statuses/", Answer.secondary_limit(7))
    github_server.script("POST", r"/comments$", Answer.secondary_limit(11, status=429))
    assert cli.main(["run"]) == 0, capsys.readouterr().err
    assert cli_sleeps == [7.0, 11.0]  # what retry-after said, no more, no less
    assert set(_states(github_server, head).values()) == {"success"}
    assert len(_reports(github_server, number)) == 1


def test_primary_rate_limit_waits_for_the_reset(
    pr: dict[str, Any],
    github_server: FakeGitHub,
    cli_sleeps: list[float],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number, head = pr["number"], pr["head"]["sha"]
    defaults = RestClient.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "clock", lambda: NOW)  # as cli_sleeps swaps the sleep
    github_server.script("GET", r"/comments$", Answer.primary_limit(int(NOW) + 30))
    assert cli.main(["report", "--comment"]) == 0
    assert cli_sleeps == [31.0]  # until x-ratelimit-reset, plus a second of clock skew
    assert len(_reports(github_server, number)) == 1

    # A reset an hour away is beyond what one command waits: say so at once.
    github_server.script("POST", r"/statuses/", Answer.primary_limit(int(NOW) + 3600))
    assert cli.main(["gate", "--status"]) == 2
    line = _error_line(capsys)
    assert line == (
        f"POST /repos/octo-org/demo/statuses/{head}: 403 API rate limit exceeded for "
        "installation ID 1. — rate limited: GitHub asks to wait 3601 s at 23:13:20 UTC, beyond "
        "the 120 s this command waits in total (after 1 attempt)"
    )
    assert _states(github_server, head) == {}  # not even pending: nothing was sent
    assert cli.main(["gate", "--status"]) == 0  # after the reset
    assert _states(github_server, head) == dict.fromkeys(CONTEXTS, "success")


def test_bad_token(
    pr: dict[str, Any],
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number, head = pr["number"], pr["head"]["sha"]
    runner = project.parent / "runner"
    token = "ghs_" + "N0tTheR1ghtOne" * 3
    monkeypatch.setenv("GITHUB_TOKEN", token)
    # GitHub answers 401; this one even echoes the credentials back.
    echo = Answer(401, {"message": f"Bad credentials: {token}"})
    github_server.script("POST", r"/statuses/", echo)
    github_server.script("GET", r"/comments$", echo)
    out = err = ""
    for argv in (["run"], ["report", "--comment", "--summary"]):
        assert cli.main(argv) == 2
        captured = capsys.readouterr()
        said = "401 Bad credentials: *** — the token is invalid or expired; check GITHUB_TOKEN"
        assert said in _only_error(captured.err)
        out, err = out + captured.out, err + captured.err
    # The token is on no stream: not even in an ::add-mask:: command (stderr may be a file).
    assert token not in out
    assert token not in err
    assert cli.main(["report", "--summary"]) == 0  # no GitHub call: the job summary is written
    written = [project / ".mlops-cache" / "report.md", runner / "summary.md", runner / "output"]
    for path in written:
        assert token not in path.read_text(encoding="utf-8"), path
    assert _states(github_server, head) == {}
    assert _reports(github_server, number) == []

    monkeypatch.setenv("GITHUB_TOKEN", github_server.token)
    assert cli.main(["run"]) == 0
    assert len(_reports(github_server, number)) == 1


def test_no_such_pull_request(
    pr: dict[str, Any],
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = pr["head"]["sha"]
    assert cli.main(["report", "--comment", "--pr", "999"]) == 2
    assert _error_line(capsys) == (
        "pull request #999 not found in octo-org/demo, or the token cannot read it: check the "
        "number (--pr, or the event's) and the job's `permissions:` `pull-requests: write` "
        "(GET /repos/octo-org/demo/issues/999/comments: 404 Not Found)"
    )
    # An event naming a pull request GitHub does not know (deleted, or another repository's).
    event_path = Path(os.environ["GITHUB_EVENT_PATH"])
    event = json.loads(event_path.read_text())
    good = json.dumps(event)
    event["number"] = event["pull_request"]["number"] = 42
    event_path.write_text(json.dumps(event))
    assert cli.main(["run"]) == 2
    assert _error_line(capsys).startswith("pull request #42 not found in octo-org/demo")
    assert _states(github_server, head)["mlops/gate"] == "success"  # the gates did pass
    assert github_server.issue_comments == {}

    event_path.write_text(good)
    assert cli.main(["run"]) == 0
    assert len(_reports(github_server, pr["number"])) == 1


# ---- data -----------------------------------------------------------------------------------


class DyingProxy:
    """A TCP proxy to an S3 server that goes down for good partway through a transfer.

    After `die_after` object downloads have started, the answer to the last one is cut in half,
    every connection is dropped and the port stops listening: the server went down mid-pull.
    `start()` again brings it back on the same port.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.die_after = 0
        self.downloads = 0
        self._cut = False
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self, die_after: int = 0) -> DyingProxy:
        self.die_after, self.downloads, self._cut = die_after, 0, False
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._conns += [client, server]
            for a, b, requests in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(a, b, requests), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        while chunk := self._recv(source):
            if requests:
                for _ in re.finditer(rb"GET \S*/files/md5/", chunk):
                    self.downloads += 1
                    self._cut = self._cut or self.downloads == self.die_after
            elif self._cut:
                self._send(sink, chunk[: len(chunk) // 2])
                self.stop()
                return
            if not self._send(sink, chunk):
                break
        for s in (source, sink):
            self._close(s)

    @staticmethod
    def _recv(s: socket.socket) -> bytes:
        try:
            return s.recv(65536)
        except OSError:
            return b""

    @staticmethod
    def _send(s: socket.socket, chunk: bytes) -> bool:
        try:
            s.sendall(chunk)
        except OSError:
            return False
        return True

    @staticmethod
    def _close(s: socket.socket) -> None:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)  # also wakes a thread blocked in accept()
        s.close()

    def stop(self) -> None:
        if self._listener is not None:
            self._close(self._listener)
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            self._close(s)


@pytest.fixture
def s3_pr(
    demo_repo: Path,
    s3_server: str,  # noqa: F811
    s3_env: None,  # noqa: F811
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    cli_sleeps: list[float],
) -> Iterator[tuple[Path, DyingProxy, dict[str, Any]]]:
    """A fresh clone of a project whose 31 data files are on S3, behind a DyingProxy; a pull
    request from it in an Actions-like environment. Nothing is pulled yet."""
    import boto3  # type: ignore[import-untyped]

    parts = demo_repo / "data" / "parts"
    parts.mkdir()
    for i in range(30):
        (parts / f"part-{i:02d}.csv").write_text(f"id,value\n{i},{i * i}\n" * 200)
    write_params(demo_repo, _params())
    dvc(demo_repo, "add", "-q", "data")
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=BUCKET)
    dvc(demo_repo, "remote", "add", "-f", "-d", "s3", f"s3://{BUCKET}/dvc")
    dvc(demo_repo, "remote", "modify", "s3", "endpointurl", s3_server)
    dvc(demo_repo, "push", "-q", "-r", "s3")
    assert cli.main(["train"]) == 0
    commit_all(demo_repo, "main: data on S3, trained")
    clone = demo_repo.parent / "clone"
    git(demo_repo.parent, "clone", "-q", str(demo_repo), str(clone))
    monkeypatch.chdir(clone)
    _branch(clone, model__params={"n_estimators": 20, "max_depth": 2})
    host, port = s3_server.removeprefix("http://").split(":")
    proxy = DyingProxy((host, int(port))).start()
    dvc(clone, "remote", "modify", "--local", "s3", "endpointurl", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    pull = _pr_env(monkeypatch, github_server, clone)
    yield clone, proxy, pull
    proxy.stop()


def test_s3_server_goes_down_mid_pull(
    s3_pr: tuple[Path, DyingProxy, dict[str, Any]],
    github_server: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clone, proxy, pull = s3_pr
    head = pull["head"]["sha"]
    committed = (clone / "metrics.json").read_bytes()
    proxy.die_after = 5
    capsys.readouterr()
    assert cli.main(["run", "--jobs", "1"]) == 2
    line = _error_line(capsys)
    assert proxy.downloads >= 5  # it went down partway, not before the pull began
    assert line.startswith("data.dvc: the DVC remote is unreachable (")
    assert line.endswith("); check its URL and the network")
    assert _states(github_server, head)["mlops/gate"] == "error"
    assert github_server.issue_comments == {}
    # Nothing half-pulled that a rerun would trust: every object DVC kept is whole, the
    # workspace does not pass verification, and nothing trained.
    objects = [p for p in (clone / ".dvc" / "cache" / "files" / "md5").rglob("*") if p.is_file()]
    for obj in objects:
        assert data.file_md5(obj) == obj.parent.name + obj.name.removesuffix(".dir"), obj
    assert cli.main(["train"]) == 2
    assert "run `mlops-actions pull` first" in _error_line(capsys)
    assert (clone / "metrics.json").read_bytes() == committed
    assert not (clone / "model").exists()
    assert _leftovers(clone) == []

    proxy.start()  # the server is back
    assert cli.main(["run"]) == 0
    assert "pulled and verified 31 files" in capsys.readouterr().out
    assert len(_reports(github_server, pull["number"])) == 1
    assert set(_states(github_server, head).values()) == {"success"}


@pytest.fixture
def clone_pr(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    cli_sleeps: list[float],
) -> tuple[Path, Path, dict[str, Any]]:
    """A fresh clone of the project (no data pulled yet) and its pull request; the remote
    blob of data/breast_cancer.csv."""
    clone = project.parent / "clone"
    git(project.parent, "clone", "-q", str(project), str(clone))
    monkeypatch.chdir(clone)
    _branch(clone, model__params={"n_estimators": 20, "max_depth": 2})
    pull = _pr_env(monkeypatch, github_server, clone)
    md5 = data.file_md5(project / "data" / "breast_cancer.csv")
    blob = project.parent / "remote" / "files" / "md5" / md5[:2] / md5[2:]
    blob.chmod(0o644)
    return clone, blob, pull


def test_blob_missing_from_the_remote(
    clone_pr: tuple[Path, Path, dict[str, Any]],
    github_server: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clone, blob, pull = clone_pr
    head = pull["head"]["sha"]
    saved = blob.read_bytes()
    blob.unlink()
    assert cli.main(["run"]) == 2
    line = _error_line(capsys)
    assert line.startswith(
        "data.dvc: the DVC remote 'local' lacks data/breast_cancer.csv (added but never "
        "pushed?); run `dvc push` from the machine that has it (dvc: "
    )
    assert line.endswith("files failed to download)")  # DVC's message, whole
    assert _states(github_server, head)["mlops/gate"] == "error"
    assert github_server.issue_comments == {}
    assert not (clone / "data" / "breast_cancer.csv").exists()
    assert not (clone / "model").exists()

    blob.write_bytes(saved)  # someone ran dvc push
    assert cli.main(["run"]) == 0
    assert len(_reports(github_server, pull["number"])) == 1


def test_corrupt_data_trains_nothing(
    clone_pr: tuple[Path, Path, dict[str, Any]],
    github_server: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clone, blob, pull = clone_pr
    head = pull["head"]["sha"]
    committed = (clone / "metrics.json").read_bytes()
    good = blob.read_bytes()
    blob.write_bytes(good[: len(good) // 2])  # a truncated upload
    assert cli.main(["run"]) == 2
    line = _error_line(capsys)
    assert line.startswith(
        "data/breast_cancer.csv: the pulled copy does not match its .dvc file (md5 "
    )
    assert line.endswith("the remote holds a corrupt copy: push the data again from a good copy")
    assert _states(github_server, head)["mlops/gate"] == "error"
    assert github_server.issue_comments == {}
    assert not (clone / "data" / "breast_cancer.csv").exists()  # not left for a rerun to trust
    assert (clone / "metrics.json").read_bytes() == committed and not (clone / "model").exists()

    blob.write_bytes(good)
    assert cli.main(["run"]) == 0
    assert len(_reports(github_server, pull["number"])) == 1


# ---- tags -----------------------------------------------------------------------------------


def _tags(repo: Path) -> list[str]:
    return sorted(git(repo, "for-each-ref", "--format=%(refname:lstrip=2)", "refs/tags").split())


def test_tag_push_refused_by_a_hook(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    origin = project.parent / "origin.git"
    git(project.parent, "clone", "-q", "--bare", str(project), str(origin))
    git(project, "remote", "add", "origin", str(origin))
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags matching *@v* are protected here' >&2\nexit 1\n")
    hook.chmod(0o755)
    assert cli.main(["promote", "--push", "--stage", "prod"]) == 2
    assert _error_line(capsys) == (
        "git push origin: the remote refused demo-model@v0.0.1, demo-model#prod#1 (pre-receive "
        "hook declined: tags matching *@v* are protected here); nothing was tagged: let origin "
        "accept these tag names (its hooks or tag protection rules) and re-run"
    )
    assert _tags(project) == [] and _tags(origin) == []

    hook.unlink()
    for _ in range(2):  # the second time there is nothing new to tag
        assert cli.main(["promote", "--push", "--stage", "prod"]) == 0
        assert _tags(origin) == _tags(project) == ["demo-model#prod#1", "demo-model@v0.0.1"]


def test_tag_refused_by_a_github_ruleset(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    cli_sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    sha = _push_env(monkeypatch, github_server, project)
    refused = "Repository rule violations found\n\nCannot create ref due to creations being "
    github_server.script("POST", r"/git/refs$", Answer(422, {"message": refused + "restricted.\n"}))
    assert cli.main(["run"]) == 2
    assert _error_line(capsys) == (
        "GitHub refused to create the tag demo-model@v0.0.1 (422 Repository rule violations "
        "found Cannot create ref due to creations being restricted.): allow github-actions[bot] "
        "to create tags like it (the repository's rulesets or tag protection) and give the job "
        "`permissions:` `contents: write`, then re-run"
    )
    tags = [r for r in github_server.refs if r.startswith("refs/tags/")]
    assert tags == [] and _tags(project) == []
    _states(github_server, sha)  # the gates' statuses are final (they passed)

    for _ in range(2):  # the rule is lifted; the second run has nothing new to tag
        assert cli.main(["run"]) == 0
        assert [r for r in github_server.refs if r.startswith("refs/tags/")] == [
            "refs/tags/demo-model@v0.0.1"
        ]
        assert _tags(project) == ["demo-model@v0.0.1"]


# ---- bad input ------------------------------------------------------------------------------

_GOOD = {"accuracy": 0.95, "f1": 0.93, "rows": {"train": 426, "test": 143}}


@pytest.mark.parametrize(
    ("content", "gate_says", "report_code"),
    [
        (None, "metrics.json: metrics file not found; did training write it?", 2),
        (
            "{not json",
            "metrics.json: not valid JSON (Expecting property name enclosed in double quotes "
            "at line 1)",
            2,
        ),
        ('{"accuracy": NaN, "f1": 0.93, "rows": {"test": 143}}', "metric is NaN", 0),
        ('{"accuracy": Infinity, "f1": 0.93, "rows": {"test": 143}}', "metric is infinite", 0),
    ],
    ids=["missing", "not-json", "nan", "inf"],
)
def test_metrics_file_faults(
    pr: dict[str, Any],
    project: Path,
    github_server: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    gate_says: str,
    report_code: int,
) -> None:
    number, head = pr["number"], pr["head"]["sha"]
    metrics = project / "metrics.json"
    if content is None:
        metrics.unlink()
    else:
        metrics.write_text(content)
    assert cli.main(["gate", "--status"]) == 2
    line = _error_line(capsys)
    states = _states(github_server, head)
    assert states["mlops/gate"] == "error"
    if report_code == 0:  # the file is read; one gate cannot be evaluated
        assert line == f"gate 'accuracy >= 0.85' could not be evaluated: {gate_says}"
        assert states["mlops/gate: accuracy >= 0.85"] == "error"
        assert cli.main(["report", "--comment"]) == 0
        (body,) = _reports(github_server, number)
        # the verdict second (a phone shows it), then base and this run
        row = r"\| `accuracy` +\| ❌\sfailed +\| +0\.9\d+( ± [\d.]+)? \| +(NaN|∞) \|"
        assert re.search(row, body), body
    else:
        assert line == gate_says
        assert cli.main(["report", "--comment"]) == 2
        assert _error_line(capsys) == gate_says
        assert _reports(github_server, number) == []

    metrics.write_text(json.dumps(_GOOD))  # training wrote it again
    assert cli.main(["gate", "--status"]) == 0
    assert set(_states(github_server, head).values()) == {"success"}
    assert cli.main(["report", "--comment"]) == 0
    assert len(_reports(github_server, number)) == 1


def test_training_that_writes_nan_is_a_gate_error_not_a_crash(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    cli_sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A training command whose metrics hold NaN/Infinity (Python's json.dump writes them)."""
    script = project / "train.py"
    script.write_text(
        "import json, sys\n"
        "bad = float(sys.argv[1])\n"
        'json.dump({"accuracy": bad, "f1": 0.93, "rows": {"test": 143}}, open("metrics.json", "w"))\n'
    )
    params = _params(train__mode="command", train__command="python train.py nan")
    git(project, "checkout", "-q", "-b", "feature")
    write_params(project, params)
    commit_all(project, "our own training script")
    pull = _pr_env(monkeypatch, github_server, project)
    number, head = pull["number"], pull["head"]["sha"]
    runner = project.parent / "runner"
    assert cli.main(["run"]) == 2
    assert _error_line(capsys) == "gate 'accuracy >= 0.85' could not be evaluated: metric is NaN"
    states = _states(github_server, head)
    assert states["mlops/gate"] == states["mlops/gate: accuracy >= 0.85"] == "error"
    card = json.loads((project / "model" / "card.json").read_text())
    assert card["metrics"]["accuracy"] is None  # JSON has no NaN
    assert json.loads(read_outputs(runner / "output")["metrics"])["accuracy"] is None
    assert len(_reports(github_server, number)) == 1

    write_params(project, _params(train__mode="command", train__command="python train.py 0.9"))
    assert cli.main(["run"]) == 0
    assert set(_states(github_server, head).values()) == {"success"}
    assert len(_reports(github_server, number)) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "data: [unclosed\n",
            "params.yaml: not valid YAML at line 2, column 1: expected ',' or ']', but got "
            "'<stream end>'",
        ),
        (
            "",
            "params.yaml: no `mlops:` section and no dvc.yaml; add `mlops:` with data and model "
            "(see docs/params.md) or a DVC pipeline",
        ),
        (
            "# all commented out\n",
            "params.yaml: no `mlops:` section and no dvc.yaml; add `mlops:` with data and model "
            "(see docs/params.md) or a DVC pipeline",
        ),
    ],
    ids=["not-yaml", "empty", "only-comments"],
)
def test_params_not_yaml_or_empty(
    pr: dict[str, Any],
    project: Path,
    github_server: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    head = pr["head"]["sha"]
    params = project / "params.yaml"
    good = params.read_text()
    before = {
        p: p.read_bytes() for p in (project / "metrics.json", project / "model" / "card.json")
    }
    params.write_text(text)
    assert cli.main(["run"]) == 2
    assert _error_line(capsys) == message
    # Without params.yaml there are no gates to post: nothing is posted, nothing left pending.
    assert _states(github_server, head) == {}
    assert github_server.issue_comments == {}
    assert {p: p.read_bytes() for p in before} == before

    params.write_text(good)
    assert cli.main(["run"]) == 0
    assert len(_reports(github_server, pr["number"])) == 1


def test_200k_character_report(
    pr: dict[str, Any], project: Path, github_server: FakeGitHub
) -> None:
    number = pr["number"]
    metrics = json.loads((project / "metrics.json").read_text())
    metrics["per_class"] = {f"label_{i:05d}": {"f1": 0.5 + i / 1e5} for i in range(3000)}
    (project / "metrics.json").write_text(json.dumps(metrics))
    for _ in range(2):
        assert cli.main(["report", "--comment", "--summary"]) == 0
        full = _complete_report(project / ".mlops-cache" / "report.md")
        assert len(full) >= 200_000 and "label_02999" in full
        (body,) = _reports(github_server, number)
        assert len(body) <= markdown.COMMENT_LIMIT and body.count("```") % 2 == 0
        assert "the full report is in the job summary" in body and "label_02999" not in body
    summary = (project.parent / "runner" / "summary.md").read_text()
    assert summary.count("label_02999") == 2  # each run appended the whole report
    assert cli.main(["gate", "--status"]) == 0
    statuses = github_server.statuses[pr["head"]["sha"]]
    assert all(len(s["description"] or "") <= 140 for s in statuses)


def test_non_ascii_names(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    cli_sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    def metrics(**extra: float) -> None:
        (project / "metrics.json").write_text(json.dumps({**_GOOD, **extra}, ensure_ascii=False))

    params = _params()
    params["gates"] = ["précision >= 0.85", "精度 >= base - 0.01", '"损失" <= base']
    params["metrics"]["lower_is_better"] = ["损失"]
    write_params(project, params)
    metrics(précision=0.90, 精度=0.93, 损失=0.20)
    commit_all(project, "main: metrics in French and Chinese")
    git(project, "checkout", "-q", "-b", "feature")
    metrics(précision=0.92, 精度=0.94, 损失=0.18)
    pull = _pr_env(monkeypatch, github_server, project)
    number, head = pull["number"], pull["head"]["sha"]

    assert cli.main(["compare", "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)["metrics"]["metrics.json"]
    assert diff["précision"]["old"] == 0.9 and diff["精度"]["new"] == 0.94
    assert cli.main(["report", "--comment"]) == 0
    (body,) = _reports(github_server, number)
    for name in ("précision", "精度", "损失"):
        assert re.search(rf"\| `{name}` +\|.*[↑↓]\sbetter", body), name
    assert cli.main(["gate", "--status"]) == 0
    assert _states(github_server, head) == {
        "mlops/gate": "success",
        'mlops/gate: "précision" >= 0.85': "success",
        'mlops/gate: "精度" >= base - 0.01': "success",
        'mlops/gate: "损失" <= base': "success",
    }
    gates = json.loads(read_outputs(project.parent / "runner" / "output")["gates"])
    assert gates[0]["context"] == 'mlops/gate: "précision" >= 0.85'
    assert "précision" in (project.parent / "runner" / "output").read_text(encoding="utf-8")

    # Model names become git tags and paths: GTO-safe lowercase ASCII only.
    params["model"]["name"] = "modèle"
    write_params(project, params)
    capsys.readouterr()
    assert cli.main(["gate", "--status"]) == 2
    assert _error_line(capsys) == (
        "params.yaml: mlops.model.name: 'modèle' is not a valid registry name (lowercase letters, "
        "digits and dashes, e.g. 'churn-model')"
    )
    _states(github_server, head)


# ---- the run cache --------------------------------------------------------------------------


def test_cache_dir_below_a_file(
    pr: dict[str, Any], project: Path, github_server: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """cache.dir's parent is a regular file: nothing can be written there, even by root."""
    blocker = project / "blocker"
    blocker.write_text("a file where the cache directory should be\n")
    params = _params(model__params={"n_estimators": 20, "max_depth": 2})
    params["cache"] = {"dir": "blocker/cache"}
    write_params(project, params)
    # A report file the user named explicitly is an error; the default one is a warning.
    assert cli.main(["report", "-o", "blocker/report.md"]) == 2
    assert _error_line(capsys) == (
        "-o blocker/report.md: cannot write the report (Not a directory)"
    )
    assert cli.main(["run"]) == 0  # costs warnings, not the run
    out = capsys.readouterr().out
    assert (
        f"::warning::run cache {project / 'blocker' / 'cache'} is not writable (Not a directory); "
        "result not cached: make mlops.cache.dir in params.yaml a writable directory"
    ) in out
    assert (
        "::warning::blocker/cache/report.md: cannot write the report file (Not a directory)" in out
    )
    assert blocker.read_text() == "a file where the cache directory should be\n"
    assert set(_states(github_server, pr["head"]["sha"]).values()) == {"success"}
    assert len(_reports(github_server, pr["number"])) == 1

    blocker.unlink()
    assert cli.main(["run"]) == 0
    assert "trained (builtin)" in capsys.readouterr().out
    assert cli.main(["run"]) == 0
    assert "cache hit" in capsys.readouterr().out
    assert len(_reports(github_server, pr["number"])) == 1


def _in_own_mount_namespace(
    setup: str, repo: Path, snapshot: Path
) -> subprocess.CompletedProcess[str]:
    """`mlops-actions run` in `repo`, in a user and mount namespace of its own where `setup`
    has mounted something over .mlops-cache; what the run left there is copied to `snapshot`."""
    script = (
        f"{setup} || exit 99\n"
        f"{sys.executable} -m mlops_actions run; rc=$?\n"
        f"cp -a .mlops-cache {snapshot}\n"
        "exit $rc\n"
    )
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "DVC_NO_ANALYTICS": "1"},
    )


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--user", "--map-root-user", "--mount", "true"]
    return subprocess.run(probe, capture_output=True).returncode == 0


needs_namespaces = pytest.mark.skipif(
    not _namespaces_work(),
    reason="needs user namespaces (unshare) to mount a read-only or tiny file system",
)


@needs_namespaces
def test_read_only_cache_dir(
    demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cache directory is a read-only mount (a bind mount remounted ro): EROFS for
    everyone, root included, where chmod would stop nobody."""
    cache = demo_repo / ".mlops-cache"
    cache.mkdir()
    snapshot = tmp_path / "snapshot"
    ro = "mount --bind .mlops-cache .mlops-cache && mount -o remount,bind,ro .mlops-cache"
    proc = _in_own_mount_namespace(ro, demo_repo, snapshot)
    assert proc.returncode == 0, proc.stderr
    assert (
        f"warning: run cache {cache} is not writable (Read-only file system); result not cached"
        in proc.stderr
    )
    assert (
        "warning: .mlops-cache/report.md: cannot write the report file (Read-only file system)"
        in proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert list(snapshot.iterdir()) == [] and list(cache.iterdir()) == []
    assert (demo_repo / "metrics.json").is_file()

    assert cli.main(["train"]) == 0  # writable again
    assert "trained (builtin)" in capsys.readouterr().out
    assert cli.main(["train"]) == 0
    assert "cache hit" in capsys.readouterr().out


@needs_namespaces
def test_full_cache_dir(
    demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cache directory is a 16 KiB tmpfs: the model does not fit, and the copy fails with
    ENOSPC partway (a real full disk, not a simulated error)."""
    cache = demo_repo / ".mlops-cache"
    cache.mkdir()
    snapshot = tmp_path / "snapshot"
    proc = _in_own_mount_namespace(
        "mount -t tmpfs -o size=16k tmpfs .mlops-cache", demo_repo, snapshot
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        f"warning: run cache {cache}: cannot store the run (No space left on device); result not "
        "cached: free space there or point mlops.cache.dir in params.yaml elsewhere"
    ) in proc.stderr
    assert "Traceback" not in proc.stderr
    # No half-written entry and no staging left behind; the space they took is free again, so
    # the report (written after) fits, and it is whole.
    assert [p.name for p in (snapshot / "runs").iterdir()] == []
    assert _leftovers(snapshot) == []
    _complete_report(snapshot / "report.md")
    assert (demo_repo / "model" / "model.skops").stat().st_size > 16 * 1024

    assert cli.main(["train"]) == 0  # space again
    assert "trained (builtin)" in capsys.readouterr().out
    assert cli.main(["train"]) == 0
    assert "cache hit" in capsys.readouterr().out
