"""The lifecycle verbs: assign, unassign, deregister, deprecate.

Against real `gto`: what we write is what `gto` writes for the same steps, and `gto show` /
`gto history` read it as we do; what `gto` writes, `models` reads. Inside Actions the tags go
through the fake GitHub (every request checked against GitHub's OpenAPI description); lost
races are retried once, and a race lost twice leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli, registry
from mlops_actions import tag as tags
from mlops_actions.errors import MlopsError
from mlops_actions.registry import GitTagWriter, NewTag, RestTagWriter, lifecycle
from tests import fakegithub
from tests.conftest_github import client
from tests.fakegithub import Answer, FakeGitHub
from tests.helpers import GIT_ENV, git, init_repo, read_outputs
from tests.registry_project import NAME, cfg_of, fake_train, new_commit, project_in, tag_names

GTO = [str(Path(sys.executable).parent / "gto")]
# Tag dates from here on: GTO weighs a deprecation against the commits' own dates, so the
# tags of a test are dated after its commits, which are made in real time, however late in a
# long test session the test runs.
START = int(time.time()) + 30 * 86400


def at(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    monkeypatch.setenv("GIT_COMMITTER_DATE", f"@{START + seconds} +0000")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return project_in(tmp_path, monkeypatch)


def gto(repo: Path, *args: str) -> Any:
    proc = subprocess.run(
        [*GTO, *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if "--json" in args else proc.stdout


def two_versions(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """v0.0.1 on HEAD and v0.0.2 on a new commit, promoted without stages."""
    commits = []
    for i in range(2):
        at(monkeypatch, i)
        if i:
            new_commit(repo, "second")
        fake_train(repo, {"f1": 0.8 + i / 10})
        assert registry.promote(cfg_of(repo)).promoted
        commits.append(git(repo, "rev-parse", "HEAD"))
    return commits[0], commits[1]


def targets(repo: Path, labels: dict[str, str]) -> dict[str, str]:
    """tag -> the label of the commit it is on."""
    out = git(repo, "for-each-ref", "--format=%(refname:lstrip=2) %(*objectname)", "refs/tags")
    return {t: labels[c] for t, c in (line.split() for line in out.splitlines())}


def shown_state(repo: Path) -> tuple[str, dict[str, str]] | None:
    """(latest, stages) as `gto show` has them; None when GTO hides the model (deprecated)."""
    shown = gto(repo, "show", "--json").get(NAME)
    if shown is None:
        return None
    return shown["version"], {s: v for s, v in shown["stage"].items() if v}


def our_state(repo: Path) -> tuple[str, dict[str, str]] | None:
    model = registry.find_model(NAME, cwd=repo)
    assert model is not None
    latest = model.latest()
    if model.deprecated:
        return None
    return (latest.version if latest else ""), model.stages


# The same lifecycle, as our verbs and as gto's commands.
STEPS: list[tuple[list[str], list[str]]] = [
    (["assign", f"{NAME}@v0.0.1", "prod"], ["assign", NAME, "--version", "v0.0.1", "--stage", "prod"]),
    (["assign", f"{NAME}@v0.0.2", "staging"], ["assign", NAME, "--version", "v0.0.2", "--stage", "staging"]),
    (["assign", f"{NAME}@v0.0.2", "prod"], ["assign", NAME, "--version", "v0.0.2", "--stage", "prod"]),
    (["unassign", NAME, "prod"], ["deprecate", NAME, "v0.0.2", "prod"]),
    (["deregister", f"{NAME}@v0.0.1"], ["deprecate", NAME, "v0.0.1"]),
    (["deprecate", NAME], ["deprecate", NAME]),
]  # fmt: skip


@pytest.mark.slow
def test_our_verbs_write_what_gto_writes_and_gto_reads_them(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = init_repo(tmp_path / "theirs")  # before `at`: gto's repo lives in real time
    git(theirs, "commit", "-q", "--allow-empty", "-m", "first")
    g1 = git(theirs, "rev-parse", "HEAD")
    gto(theirs, "register", NAME)
    git(theirs, "commit", "-q", "--allow-empty", "-m", "second")
    g2 = git(theirs, "rev-parse", "HEAD")
    gto(theirs, "register", NAME)
    c1, c2 = two_versions(repo, monkeypatch)
    for i, (ours, gtos) in enumerate(STEPS):
        at(monkeypatch, 10 + i)
        assert cli.main(ours) == 0
        time.sleep(1 - time.time() % 1)  # gto dates its tags now: one step per second
        gto(theirs, *gtos)
        assert targets(repo, {c1: "first", c2: "second"}) == targets(
            theirs, {g1: "first", g2: "second"}
        )
        assert shown_state(repo) == our_state(repo), ours  # gto reads ours as we do
        assert shown_state(theirs) == our_state(theirs), gtos  # we read gto's as it does
    history = gto(repo, "history", NAME, "--json", "--ascending")
    assert [(e["event"], e["version"], e["stage"], e["ref"]) for e in history][2:] == [
        ("assignment", "v0.0.1", "prod", f"{NAME}#prod#1"),
        ("assignment", "v0.0.2", "staging", f"{NAME}#staging#2"),
        ("assignment", "v0.0.2", "prod", f"{NAME}#prod#3"),
        ("unassignment", "v0.0.2", "prod", f"{NAME}#prod!#4"),
        ("deregistration", "v0.0.1", None, f"{NAME}@v0.0.1!"),
        ("deprecation", None, None, f"{NAME}@deprecated"),
    ]
    messages = [e["message"].splitlines()[0] for e in history[2:]]
    theirs_history = gto(theirs, "history", NAME, "--json", "--ascending")
    assert messages == [e["message"].splitlines()[0] for e in theirs_history[2:]]
    # `models --history` is gto's journal, field for field, in both repositories.
    for where in (repo, theirs):
        ours = [registry.event_json(e) for e in registry.history(registry.models(NAME, cwd=where))]
        assert [{k: v for k, v in e.items() if k != "run_url"} for e in ours] == gto(
            where, "history", NAME, "--json"
        )


def test_history_says_who_and_which_run(
    repo: Path,
    github_env: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    two_versions(repo, monkeypatch)
    publish_tags(github_env, repo)
    monkeypatch.setattr(fakegithub, "_EPOCH", datetime.fromtimestamp(START + 100, timezone.utc))
    assert cli.main(["assign", f"{NAME}@v0.0.2", "prod"]) == 0
    capsys.readouterr()
    assert cli.main(["models", NAME, "--history", "--json"]) == 0
    events = json.loads(capsys.readouterr().out)
    assert [(e["event"], e["version"], e["stage"], e["author"]) for e in events] == [
        ("assignment", "v0.0.2", "prod", "github-actions[bot]"),
        ("registration", "v0.0.2", None, "Test"),
        ("registration", "v0.0.1", None, "Test"),
    ]
    assert (
        events[0]["run_url"] == f"{github_env.host_url}/{github_env.repository}/actions/runs/4242"
    )
    assert cli.main(["models", NAME, "--history"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["date", "name", "event", "version", "stage", "by", "run"]
    assert table[2].split()[2:6] == [NAME, "assignment", "v0.0.2", "prod"]
    assert table[2].endswith("/actions/runs/4242")


def test_assignment_records_the_version_and_this_run(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    c1, _ = two_versions(repo, monkeypatch)
    model = registry.find_model(NAME)
    assert model is not None
    v1 = model.find("v0.0.1")
    assert v1 is not None and v1.info is not None
    run = "https://github.com/o/r/actions/runs/9"
    change = lifecycle.assign(repo, NAME, "v0.0.1", "prod", writer=GitTagWriter(repo), run_url=run)
    assert (change.tag, change.commit, change.written, change.pushed) == (
        f"{NAME}#prod#1",
        c1,
        True,
        False,
    )
    info = tags.parse_message(git(repo, "tag", "-l", "--format=%(contents)", change.tag))
    assert info is not None
    assert (info.model_sha256, info.metrics, info.run_url) == (
        v1.info.model_sha256,
        v1.info.metrics,
        run,
    )
    assert change.sha256 == v1.info.model_sha256

    # Again: the stage is there already, nothing is tagged and the answer names its tag.
    assert cli.main(["assign", f"{NAME}@v0.0.1", "prod", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["tag"], out["written"], out["version"]) == (f"{NAME}#prod#1", False, "v0.0.1")
    assert tag_names(repo).count(f"{NAME}#prod#1") == 1 and len(tag_names(repo)) == 3


def test_rollback_reassigns_an_earlier_version(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    two_versions(repo, monkeypatch)
    for i, version in enumerate(["v0.0.1", "v0.0.2", "v0.0.1"]):
        at(monkeypatch, 10 + i)
        assert cli.main(["assign", f"{NAME}@{version}", "prod"]) == 0
    assert our_state(repo) == ("v0.0.2", {"prod": "v0.0.1"}) == shown_state(repo)
    assert f"{NAME}#prod#3" in tag_names(repo)


def test_second_deregistration_and_deprecation_take_counters(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version registered again after its deregistration, a model brought back after its
    deprecation: the simple tags exist, so the new ones carry counters (as `gto --force`)."""
    c1, _ = two_versions(repo, monkeypatch)
    steps = [
        ["deregister", f"{NAME}@v0.0.1"],
        ["deprecate", NAME],
    ]
    for i, argv in enumerate(steps):
        at(monkeypatch, 10 + i)
        assert cli.main(argv) == 0
    at(monkeypatch, 12)
    git(repo, "tag", "-a", "-m", "again", f"{NAME}@v0.0.1#1", c1)  # GTO's re-registration
    for i, argv in enumerate(steps):
        at(monkeypatch, 13 + i)
        assert cli.main(argv) == 0
    assert {f"{NAME}@v0.0.1!#2", f"{NAME}@deprecated#3"} <= set(tag_names(repo))
    model = registry.find_model(NAME)
    assert model is not None and model.deprecated
    v1 = model.find("v0.0.1")
    assert v1 is not None and v1.deregistered
    assert shown_state(repo) is None  # gto hides a deprecated model too


# ---- bad input ------------------------------------------------------------------------------


def _deregistered(monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, 5)
    assert cli.main(["deregister", f"{NAME}@v0.0.1"]) == 0


def _deprecated(monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, 5)
    assert cli.main(["deprecate", NAME]) == 0


@pytest.mark.parametrize(
    ("argv", "before", "said"),
    [
        (
            ["assign", "nope@v0.0.1", "prod"],
            None,
            f"no model 'nope' in the registry (models: {NAME})",
        ),
        (
            ["assign", f"{NAME}@v9.9.9", "prod"],
            None,
            f"{NAME}@v9.9.9: no such version (registered: v0.0.2, v0.0.1)",
        ),
        (
            ["assign", NAME, "prod"],
            None,
            f"'{NAME}' is not a model version: use NAME@vX.Y.Z, e.g. my-model@v1.2.0 "
            "(`mlops-actions models` lists them)",
        ),
        (
            ["deregister", f"{NAME}@1.0"],
            None,
            f"'{NAME}@1.0' is not a model version: use NAME@vX.Y.Z, e.g. my-model@v1.2.0 "
            "(`mlops-actions models` lists them)",
        ),
        (
            ["unassign", NAME, "staging"],
            None,
            f"{NAME} has no version in stage 'staging' (stages: none)",
        ),
        (
            ["assign", f"{NAME}@v0.0.1", "prod"],
            _deregistered,
            f"{NAME}@v0.0.1 is deregistered: assign an active version (registered: v0.0.2), "
            "or register this one again",
        ),
        (
            ["deregister", f"{NAME}@v0.0.1"],
            _deregistered,
            f"{NAME}@v0.0.1 is deregistered already (GTO refuses it twice)",
        ),
        (
            ["deprecate", NAME],
            _deprecated,
            f"{NAME} is deprecated already (GTO refuses it twice); registering or assigning "
            "a version brings it back",
        ),
        (["deprecate", "bad name"], None, None),
        *(
            (["assign", f"{NAME}@v0.0.1", stage], None, None)
            for stage in ("pro..d", "prod#1", "prod!", "a//b", "prod/", "st age", "x.lock")
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    before: Any,
    said: str | None,
) -> None:
    two_versions(repo, monkeypatch)
    if before is not None:
        before(monkeypatch)
    at(monkeypatch, 6)
    existing = tag_names(repo)
    capsys.readouterr()
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    if said is not None:
        assert err == f"error: {said}\n"
    elif argv[0] == "assign":
        assert err.startswith(f"error: stage '{argv[-1]}': not a valid stage name")
    assert tag_names(repo) == existing


def test_stages_gto_config_allows(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `.gto` file that lists the stages: gto assign refuses any other, and so do we."""
    two_versions(repo, monkeypatch)
    (repo / ".gto").write_text("stages: [staging, prod]\n")
    capsys.readouterr()
    assert cli.main(["assign", f"{NAME}@v0.0.1", "qa"]) == 2
    assert capsys.readouterr().err == (
        "error: stage 'qa': not one of the stages .gto allows (staging, prod); add it to "
        "`stages:` in .gto or use one of them\n"
    )
    proc = subprocess.run(
        [*GTO, "assign", NAME, "--version", "v0.0.1", "--stage", "qa"],
        cwd=repo,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )
    assert proc.returncode != 0  # gto refuses it as well
    assert not any("#" in t for t in tag_names(repo))
    assert cli.main(["assign", f"{NAME}@v0.0.1", "prod"]) == 0
    assert gto(repo, "show", "--json")[NAME]["stage"] == {"staging": None, "prod": "v0.0.1"}


def test_a_shallow_clone_is_refused(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """actions/checkout's default depth: the tags' commits are missing."""
    two_versions(repo, monkeypatch)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", repo.as_uri(), str(shallow))
    git(shallow, "fetch", "-q", "--tags")
    before = tag_names(shallow)
    monkeypatch.chdir(shallow)
    capsys.readouterr()
    assert cli.main(["assign", f"{NAME}@v0.0.2", "prod"]) == 2
    assert capsys.readouterr().err == (
        f"error: {shallow}: a shallow clone cannot see the registry's tags; in GitHub Actions "
        "set `fetch-depth: 0` on actions/checkout\n"
    )
    assert tag_names(shallow) == before


def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MlopsError, match="not a git repository: run inside your project's clone"):
        from mlops_actions.commands import lifecycle as command

        command.main("deprecate", NAME, None, push=False, as_json=False, token=None)


# ---- pushing to origin, and its races ---------------------------------------------------------


@pytest.fixture
def origin(tmp_path: Path, repo: Path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    return bare


class Racing:
    """Runs `other()` before each of the first `times` writes: another run taking the tag."""

    def __init__(self, inner: Any, other: Any, times: int = 1) -> None:
        self.inner, self.other, self.times = inner, other, times

    def write(self, new: Sequence[NewTag], *, push: bool) -> bool:
        if self.times:
            self.times -= 1
            self.other(new[0])
        ok: bool = self.inner.write(new, push=push)
        return ok

    def refresh(self) -> None:
        self.inner.refresh()

    def published_versions(self) -> set[str]:
        return set(self.inner.published_versions())

    def published_tags(self) -> set[str]:
        return set(self.inner.published_tags())


def test_push_race_takes_the_next_counter(
    repo: Path, origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c1, c2 = two_versions(repo, monkeypatch)
    git(repo, "push", "-q", "origin", "--tags")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))

    def meanwhile(_: NewTag) -> None:  # another run sends v0.0.2 to prod, as NAME#prod#1
        at(monkeypatch, 10)
        lifecycle.assign(other, NAME, "v0.0.2", "prod", writer=GitTagWriter(other), push=True)
        at(monkeypatch, 11)

    writer = Racing(GitTagWriter(repo), meanwhile)
    change = lifecycle.assign(repo, NAME, "v0.0.1", "prod", writer=writer, push=True)
    assert (change.tag, change.pushed) == (f"{NAME}#prod#2", True)
    on_origin = git(origin, "tag", "-l").splitlines()
    assert {f"{NAME}#prod#1", f"{NAME}#prod#2"} <= set(on_origin)
    assert git(origin, "rev-parse", f"{NAME}#prod#1^{{commit}}") == c2  # theirs, not moved
    assert git(origin, "rev-parse", f"{NAME}#prod#2^{{commit}}") == c1
    assert git(repo, "rev-parse", f"{NAME}#prod#1^{{commit}}") == c2  # our view is fixed up
    assert our_state(repo) == ("v0.0.2", {"prod": "v0.0.1"}) == shown_state(repo)


def test_push_without_push_flag_stays_local(
    repo: Path, origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_versions(repo, monkeypatch)
    assert cli.main(["assign", f"{NAME}@v0.0.1", "prod"]) == 0
    assert f"{NAME}#prod#1" not in git(origin, "tag", "-l")
    assert cli.main(["unassign", NAME, "prod", "--push"]) == 0
    assert git(origin, "tag", "-l").splitlines() == [f"{NAME}#prod!#2"]


# ---- inside Actions: the REST API -------------------------------------------------------------


def publish_tags(server: FakeGitHub, repo: Path) -> None:
    """The repo's tags as if pushed to the fake GitHub (a checkout in Actions has them)."""
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/tags")
    for line in out.splitlines():
        ref, sha = line.split()
        server.add_ref(ref, sha)


def created(server: FakeGitHub) -> list[tuple[str, str, str]]:
    """(tag, commit, first line of the message) of every tag object created through the API."""
    return [
        (t["tag"], t["object"]["sha"], t["message"].splitlines()[0])
        for t in server.tag_objects.values()
    ]


def test_every_verb_through_the_api(
    repo: Path, github_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    c1, c2 = two_versions(repo, monkeypatch)
    publish_tags(github_env, repo)
    # GitHub dates the tags it creates: after the local ones, as a real clock would.
    monkeypatch.setattr(fakegithub, "_EPOCH", datetime.fromtimestamp(START + 100, timezone.utc))
    runner = tmp_path / "runner"
    run_url = f"{github_env.host_url}/{github_env.repository}/actions/runs/4242"
    for i, (argv, _) in enumerate(STEPS):
        at(monkeypatch, 10 + i)
        assert cli.main(argv) == 0
    expected = [
        (f"{NAME}#prod#1", c1, f"Assigning stage prod to artifact {NAME} version v0.0.1"),
        (f"{NAME}#staging#2", c2, f"Assigning stage staging to artifact {NAME} version v0.0.2"),
        (f"{NAME}#prod#3", c2, f"Assigning stage prod to artifact {NAME} version v0.0.2"),
        (
            f"{NAME}#prod!#4",
            c2,
            f"Unassigning stage 'prod' to artifact '{NAME}' version 'v0.0.2'",
        ),
        (f"{NAME}@v0.0.1!", c1, f"Deregistering artifact {NAME} version v0.0.1"),
        (f"{NAME}@deprecated", c1, f"Deprecating artifact '{NAME}'"),
    ]
    assert created(github_env) == expected
    for tag, commit, _ in expected:  # published, and mirrored into the clone as the same tag
        obj = github_env.refs[f"refs/tags/{tag}"]
        assert github_env.tag_objects[obj]["tagger"]["name"] == "github-actions[bot]"
        assert git(repo, "rev-parse", f"{tag}^{{commit}}") == commit
    outputs = read_outputs(runner / "output")
    assert {k: outputs[k] for k in ("tag", "name", "version", "stage", "commit")} == {
        "tag": f"{NAME}@deprecated",
        "name": NAME,
        "version": "",
        "stage": "",
        "commit": c1,
    }
    # Each assignment started the deploy workflows; the other verbs send no event.
    assert [(d["event_type"], d["client_payload"]["tag"]) for d in github_env.dispatches] == [
        ("mlops-assigned", f"{NAME}#prod#1"),
        ("mlops-assigned", f"{NAME}#staging#2"),
        ("mlops-assigned", f"{NAME}#prod#3"),
    ]
    first = github_env.dispatches[0]["client_payload"]
    model = registry.find_model(NAME)
    v1 = model.find("v0.0.1") if model else None
    assert v1 is not None and v1.info is not None and v1.info.model_sha256
    sha = v1.info.model_sha256
    assert first == {
        "name": NAME,
        "version": "v0.0.1",
        "stage": "prod",
        "tag": f"{NAME}#prod#1",
        "commit": c1,
        "sha256": sha,
        "run_url": run_url,
    }
    assert our_state(repo) is None  # deprecated


def test_api_assignment_reads_tags_this_clone_lacks(
    repo: Path, github_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """A counter taken on GitHub on a commit this clone does not have still counts."""
    two_versions(repo, monkeypatch)
    publish_tags(github_env, repo)
    gh = client(github_env, sleeps)
    elsewhere = "e" * 40
    obj = gh.create_tag_object(f"{NAME}#canary#7", "Assigning", elsewhere)
    gh.create_ref(f"refs/tags/{NAME}#canary#7", obj["sha"])
    assert cli.main(["assign", f"{NAME}@v0.0.1", "prod"]) == 0
    assert f"refs/tags/{NAME}#prod#8" in github_env.refs


def test_api_race_takes_the_next_counter(
    repo: Path, github_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    c1, c2 = two_versions(repo, monkeypatch)
    publish_tags(github_env, repo)
    gh = client(github_env, sleeps)

    def meanwhile(new: NewTag) -> None:  # another run sends v0.0.2 to prod with our name
        obj = gh.create_tag_object(new.name, "Assigning stage prod", c2)
        gh.create_ref(f"refs/tags/{new.name}", obj["sha"])

    writer = Racing(RestTagWriter(gh, repo, NAME), meanwhile)
    change = lifecycle.assign(repo, NAME, "v0.0.1", "prod", writer=writer, push=True)
    assert change.tag == f"{NAME}#prod#2"
    refs = github_env.refs
    assert refs.keys() >= {f"refs/tags/{NAME}#prod#1", f"refs/tags/{NAME}#prod#2"}
    assert github_env.tag_objects[refs[f"refs/tags/{NAME}#prod#1"]]["object"]["sha"] == c2
    assert github_env.tag_objects[refs[f"refs/tags/{NAME}#prod#2"]]["object"]["sha"] == c1
    assert git(repo, "rev-parse", f"{NAME}#prod#1^{{commit}}") == c2  # mirrored on refresh


def test_api_race_for_the_same_assignment_ends_with_one_tag(
    repo: Path, github_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """Two runs send the same version to the same stage at once: the loser writes nothing."""
    c1, _ = two_versions(repo, monkeypatch)
    publish_tags(github_env, repo)
    monkeypatch.setattr(fakegithub, "_EPOCH", datetime.fromtimestamp(START + 100, timezone.utc))
    gh = client(github_env, sleeps)

    def meanwhile(new: NewTag) -> None:
        obj = gh.create_tag_object(new.name, new.message, new.commit)
        gh.create_ref(f"refs/tags/{new.name}", obj["sha"])

    writer = Racing(RestTagWriter(gh, repo, NAME), meanwhile)
    change = lifecycle.assign(repo, NAME, "v0.0.1", "prod", writer=writer, push=True)
    assert (change.tag, change.written, change.commit) == (f"{NAME}#prod#1", False, c1)
    assert [r for r in github_env.refs if "#" in r] == [f"refs/tags/{NAME}#prod#1"]


def test_api_race_lost_twice_is_one_line_and_writes_nothing(
    repo: Path,
    github_env: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    cli_sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    two_versions(repo, monkeypatch)
    publish_tags(github_env, repo)
    before, local = set(github_env.refs), tag_names(repo)
    taken = Answer(422, {"message": "Reference already exists"})
    github_env.script("POST", r"/git/refs$", taken, taken)
    capsys.readouterr()
    assert cli.main(["assign", f"{NAME}@v0.0.1", "prod"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(
        f"{NAME}#prod#1: other runs changed {NAME}'s tags twice while this one wrote; "
        "nothing was tagged: check `mlops-actions models` and re-run"
    )
    assert set(github_env.refs) == before and tag_names(repo) == local
    assert github_env.dispatches == []
    # Lost once, then free: the second attempt writes it.
    github_env.script("POST", r"/git/refs$", taken)
    assert cli.main(["assign", f"{NAME}@v0.0.1", "prod"]) == 0
    assert f"refs/tags/{NAME}#prod#1" in github_env.refs


def test_no_api_without_actions(
    repo: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token alone (run by hand) writes local tags and sends no event."""
    two_versions(repo, monkeypatch)
    monkeypatch.setenv("GITHUB_TOKEN", github_server.token)
    monkeypatch.setenv("GITHUB_API_URL", github_server.url)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert cli.main(["assign", f"{NAME}@v0.0.1", "prod"]) == 0
    assert f"{NAME}#prod#1" in tag_names(repo)
    assert github_server.requests == []
