"""Runs recorded as DVC experiments and listed by `runs`, checked against real git and dvc."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_actions import cli
from tests import tracking_project
from tests.helpers import dvc, git
from tests.markdown import to_html

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with three experiments: two recorded with `train --record` (one pushed to the
    origin), one a teammate made with plain `dvc exp run` + `dvc exp push`."""
    base = tmp_path_factory.mktemp("tracking")
    repo = tracking_project.build(base)
    mate = base / "mate"
    git(base, "clone", "-q", str(base / "origin.git"), str(mate))
    dvc(mate, "remote", "add", "-f", "-d", "store", str(base / "dvc-remote"))
    dvc(mate, "exp", "run", "-q", "-S", "train.n_est=70", "-n", "mate-70")
    dvc(mate, "exp", "push", "-q", "origin", "mate-70")
    for n_est, name in ((80, "ours-80"), (90, "ours-90")):
        (repo / "params.yaml").write_text(tracking_project.params(n_est))
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(repo)
            mp.setattr("mlops_actions.tracking.runrecord.local_name", lambda name=name: name)
            assert cli.main(["train", "--record"]) == 0
    git(repo, "push", "-q", "origin", "refs/exps/*:refs/exps/*")  # as `dvc exp push` would
    git(repo, "checkout", "-q", "--", "params.yaml")
    dvc(repo, "checkout", "-q", "-f")
    return repo


def runs_json(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert cli.main(["runs", "-C", str(repo), "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def dvc_exps(repo: Path) -> dict[str, dict[str, Any]]:
    shown = json.loads(dvc(repo, "exp", "show", "-A", "--json").stdout)
    return {
        rev["name"]: rev["data"]
        for commit in shown
        for exp in commit.get("experiments") or []
        for rev in exp["revs"]
    }


def test_dvc_shows_the_recorded_runs_with_the_values_runs_lists(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dvc(recorded, "exp", "pull", "-q", "origin", "mate-70")
    ours = {r["name"]: r for r in runs_json(recorded, capsys)}
    theirs = dvc_exps(recorded)
    assert set(ours) == set(theirs) == {"mate-70", "ours-80", "ours-90"}
    for name, data in theirs.items():
        assert ours[name]["params"] == data["params"], name
        assert ours[name]["metrics"] == data["metrics"], name
    assert ours["ours-90"]["metrics"]["eval/extra.json"] == {"data": {"auc": 0.045}}
    assert ours["ours-80"]["event"] == "local" and ours["ours-80"]["branch"] == "main"
    assert ours["mate-70"]["event"] is None  # a plain dvc experiment has no run record
    model = repr({"n_est": 80, "seed": 7}).encode()  # model.pkl as train.py wrote it
    assert ours["ours-80"]["model_sha256"] == hashlib.sha256(model).hexdigest()
    baseline = git(recorded, "rev-parse", "HEAD")
    assert {r["baseline"] for r in ours.values()} == {baseline}


@pytest.mark.parametrize("pattern", [False, True], ids=["refs", "pattern"])
def test_a_teammates_remote_experiment_is_listed_without_pulling_it(
    recorded: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pattern: bool,
) -> None:
    """Fetched by name, or (many missing, as on a fresh clone) by one refspec pattern."""
    if pattern:
        monkeypatch.setattr("mlops_actions.tracking.localgit.WILDCARD_OVER", 0)
    fresh = tmp_path / "fresh"
    git(
        recorded.parent,
        "clone",
        "-q",
        "--depth=1",
        f"file://{recorded.parent / 'origin.git'}",
        str(fresh),
    )
    listed = runs_json(fresh, capsys, "--sort", "f1")
    assert [r["name"] for r in listed] == ["ours-90", "ours-80", "mate-70"]
    assert [r["where"] for r in listed] == ["remote"] * 3
    assert git(fresh, "for-each-ref", "refs/exps") == ""  # nothing written where dvc looks
    # the cached metrics of the teammate's run come from the DVC remote
    assert listed[2]["metrics"]["eval/extra.json"] == {"data": {"auc": 0.035}}


def test_filter_sort_limit_and_formats(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    got = runs_json(recorded, capsys, "--filter", "f1 >= 0.075 and train.n_est < 90")
    assert [r["name"] for r in got] == ["ours-80"]
    got = runs_json(recorded, capsys, "--sort=-loss", "--limit", "2")
    assert [r["name"] for r in got] == ["ours-90", "ours-80"]
    capsys.readouterr()
    assert cli.main(["runs", "-C", str(recorded), "--csv", "--sort", "f1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("name,commit,baseline,branch/PR,event,created,status")
    assert lines[1].startswith("ours-90,") and len(lines) == 4
    assert cli.main(["runs", "-C", str(recorded), "--filter", "f1 >= base"]) == 2
    assert "compares with base" in capsys.readouterr().err


def test_dvc_exp_apply_and_branch_work_on_a_recorded_run(recorded: Path, tmp_path: Path) -> None:
    work = tmp_path / "copy"
    shutil.copytree(recorded.parent, work)
    repo = work / "repo"
    dvc(repo, "remote", "modify", "store", "url", str(work / "dvc-remote"))
    dvc(repo, "exp", "apply", "ours-90")
    assert "n_est: 90" in (repo / "params.yaml").read_text()
    assert (repo / "model.pkl").read_text() == repr({"n_est": 90, "seed": 7})
    git(repo, "checkout", "-q", "--", ".")
    dvc(repo, "checkout", "-q", "-f")
    dvc(repo, "exp", "branch", "ours-80", "from-80")
    assert "n_est: 80" in git(repo, "show", "from-80:params.yaml")


def test_diff_and_show(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert cli.main(["runs", "-C", str(recorded), "diff", "ours-80", "ours-90", "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["metrics"]["metrics.json"]["f1"] == {
        "old": 0.08,
        "new": 0.09,
        "diff": pytest.approx(0.01),
    }
    assert diff["params"]["params.yaml"]["train.n_est"]["diff"] == 10
    assert cli.main(["runs", "-C", str(recorded), "show", "ours-80"]) == 0
    shown = capsys.readouterr().out
    assert "experiment ours-80" in shown and "f1 = 0.08" in shown
    assert cli.main(["runs", "-C", str(recorded), "show", "nope"]) == 2
    assert "no experiment named 'nope'" in capsys.readouterr().err


def test_prune_deletes_remote_refs_only_without_dry_run(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "copy"
    shutil.copytree(recorded.parent, work)
    repo, origin = work / "repo", work / "origin.git"
    git(repo, "remote", "set-url", "origin", str(origin))
    before = git(origin, "for-each-ref", "refs/exps")
    assert cli.main(["runs", "-C", str(repo), "prune", "--keep", "1", "--dry-run"]) == 0
    assert "would delete" in capsys.readouterr().out
    assert git(origin, "for-each-ref", "refs/exps") == before
    assert cli.main(["runs", "-C", str(repo), "prune", "--keep", "1", "--sort", "f1"]) == 0
    left = git(origin, "for-each-ref", "--format=%(refname)", "refs/exps")
    assert left.endswith("/ours-90") and len(left.splitlines()) == 1
    assert "/ours-80" in git(repo, "for-each-ref", "--format=%(refname)", "refs/exps")  # local kept


def test_a_failed_run_is_recorded_as_failed_and_an_existing_name_is_refused(
    recorded: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "copy"
    shutil.copytree(recorded.parent, work)
    repo = work / "repo"
    monkeypatch.chdir(repo)
    (repo / "train.py").write_text("raise SystemExit('boom')\n")
    monkeypatch.setattr("mlops_actions.tracking.runrecord.local_name", lambda: "broken")
    assert cli.main(["train", "--record"]) == 2
    listed = {r["name"]: r for r in runs_json(repo, capsys, "--local")}
    assert listed["broken"]["status"] == "failed"
    refs = git(repo, "for-each-ref", "refs/exps")
    assert cli.main(["train", "--record"]) == 2
    assert "experiment broken already exists" in capsys.readouterr().err
    assert git(repo, "for-each-ref", "refs/exps") == refs


def test_recording_works_in_a_shallow_clone(
    recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shallow = tmp_path / "shallow"
    git(
        recorded.parent,
        "clone",
        "-q",
        "--depth=1",
        f"file://{recorded.parent / 'origin.git'}",
        str(shallow),
    )
    dvc(shallow, "remote", "add", "-f", "-d", "store", str(recorded.parent / "dvc-remote"))
    dvc(shallow, "pull", "-q")
    monkeypatch.chdir(shallow)
    (shallow / "params.yaml").write_text(tracking_project.params(60))
    assert cli.main(["train", "--record"]) == 0
    names = dvc_exps(shallow)
    assert (
        len(names) == 1
        and next(iter(names.values()))["params"]["params.yaml"]["data"]["train"]["n_est"] == 60
    )


def test_the_report_places_a_run_among_the_recorded_ones(recorded: Path) -> None:
    from mlops_actions.report import standing as shown_as
    from mlops_actions.tracking import listing, standing

    runs = listing.gather(recorded, remote="origin")
    placed = standing.standing(runs, "f1", 0.085, exclude="ours-80")
    assert placed is not None
    assert (placed.rank, placed.total, placed.best.name) == (2, 3, "ours-90")
    assert [p.name for p in placed.top] == ["ours-90", "mate-70"]
    low = standing.standing(runs, "loss", 0.5)
    assert low is not None and low.lower_is_better and low.rank == 1
    text = shown_as.summary(placed)
    assert (
        text == "<code>f1</code> 0.085: 2nd of 3 recorded runs; best 0.09 in <code>ours-90</code>"
    )
    hostile = standing.Placed("<img src=x>@team", 0.4, 3, None)
    forged = standing.Standing("<b>f1</b>", 0.5, 1, 2, False, hostile, (hostile,))
    section = f"<details><summary>{shown_as.summary(forged)}</summary>\n\n{shown_as.table(forged)}"
    shown = to_html(section + "\n\n</details>\n")
    assert "<img" not in shown and "<b>" not in shown
    assert "<code>&lt;img src=x&gt;@\u2060team</code> (PR" in shown  # the summary: HTML
    assert "<td><code>&lt;img src=x&gt;@team</code></td>" in shown  # a code span
    assert "(PR #\u20603)" in shown and "<td>#\u20603</td>" in shown  # text, not a reference


def test_a_local_run_and_report_rank_the_run_among_the_recorded_ones(
    recorded: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`run --record` and `report` with recording on, among a teammate's plain `dvc exp run`
    and our recorded runs (local and on the origin)."""
    work = tmp_path / "copy"
    shutil.copytree(recorded.parent, work)
    repo = work / "repo"
    dvc(repo, "remote", "modify", "store", "url", str(work / "dvc-remote"))
    git(repo, "remote", "set-url", "origin", str(work / "origin.git"))
    monkeypatch.chdir(repo)
    ours = "mlops:\n  cache: {dir: .mlops-cache}\n  metrics:\n    primary: f1\n"
    (repo / "params.yaml").write_text(tracking_project.params(85) + ours)
    assert cli.main(["run", "--record"]) == 0
    text = (repo / ".mlops-cache" / "report.md").read_text()
    line = "<code>f1</code> 0.085: 2nd of 4 recorded runs; best 0.09 in <code>ours-90</code>"
    assert f"<details><summary>{line}</summary>" in text
    top = text[text.index(line) : text.index("</details>")]
    assert [row.split(" | ")[1] for row in top.splitlines()[4:-1]] == [
        "`ours-90`",
        "**this run**",
        "`ours-80`",
        "`mate-70`",
    ]
    # f1 as a loss: the lowest is the best. The run just recorded is this one: counted once.
    (repo / "params.yaml").write_text(
        tracking_project.params(85) + ours + "    lower_is_better: [f1]\n"
    )
    monkeypatch.setenv("MLOPS_RECORD", "true")
    assert cli.main(["report", "-o", "report.md"]) == 0
    text = (repo / "report.md").read_text()
    assert "0.085: 3rd of 4 recorded runs; best 0.07 in <code>mate-70</code>" in text
    # An unreachable origin: one warning, the report without the line.
    git(repo, "remote", "set-url", "origin", str(work / "gone.git"))
    capsys.readouterr()
    assert cli.main(["report", "-o", "report.md"]) == 0
    [warned] = [line for line in capsys.readouterr().err.splitlines() if "standing" in line]
    assert (
        warned.startswith("warning: the report leaves out the run's standing: ")
        and "ls-remote origin" in warned
    )
    assert " recorded runs; best " not in (repo / "report.md").read_text()


def test_a_dvc_remote_without_the_objects_is_one_line(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "copy"
    shutil.copytree(recorded.parent, work)
    repo = work / "repo"
    dvc(repo, "remote", "modify", "store", "url", str(work / "dvc-remote"))
    shutil.rmtree(work / "dvc-remote")
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / ".git" / "mlops", ignore_errors=True)
    capsys.readouterr()
    assert cli.main(["runs", "-C", str(repo), "--json", "--local"]) == 0
    said = capsys.readouterr()
    listed = {r["name"]: r for r in json.loads(said.out)}
    err = said.err
    assert listed["ours-90"]["metrics"]["metrics.json"]["data"]["f1"] == 0.09  # in git
    assert "eval/extra.json" not in listed["ours-90"]["metrics"]
    [problem] = listed["ours-90"]["errors"]
    assert problem.startswith("eval at ") and "nor on remote 'store'" in problem
    [line] = [x for x in err.splitlines() if "without some values" in x]
    assert "nor on remote 'store'" in line


def test_a_local_record_names_the_model_and_the_data_it_trained_on(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo project (data.dvc, built-in training), trained again with --record: a run
    cache hit, whose record still names the model file and the data version."""
    monkeypatch.setattr("mlops_actions.tracking.runrecord.local_name", lambda: "here")
    assert cli.main(["train", "--record"]) == 0
    [ref] = git(project, "for-each-ref", "--format=%(refname)", "refs/exps").splitlines()
    record = json.loads(git(project, "show", f"{ref}:.mlops/run.json"))
    model = hashlib.sha256((project / "model" / "model.skops").read_bytes()).hexdigest()
    [out] = yaml.safe_load((project / "data.dvc").read_text())["outs"]
    assert (record["model_sha256"], record["data"]) == (model, {out["path"]: out["md5"]})


def _copy(recorded: Path, tmp_path: Path) -> Path:
    """A copy of the recorded project, its git and DVC remotes its own."""
    work = tmp_path / "copy"
    shutil.copytree(recorded.parent, work)
    repo = work / "repo"
    dvc(repo, "remote", "modify", "store", "url", str(work / "dvc-remote"))
    git(repo, "remote", "set-url", "origin", str(work / "origin.git"))
    return repo


def test_a_recorded_integer_too_large_for_a_float_is_no_number(
    recorded: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Anyone who can push an experiment ref can record `"f1": 10**400` (JSON keeps the
    integer exact): `runs --sort`/`--filter` and the report's standing take it as no number
    (sorted last, matching no rule, not ranked) instead of failing."""
    from mlops_actions.tracking import localgit, runrecord

    repo = _copy(recorded, tmp_path)
    base = git(repo, "rev-parse", "main")
    huge = b'{"f1": 1' + b"0" * 400 + b', "loss": 0.5}'
    made = runrecord.RunRecord("push", "ok", None, created=runrecord.now())
    localgit.write(repo, base, "huge", {"metrics.json": huge}, made)
    git(repo, "push", "-q", "origin", "refs/exps/*:refs/exps/*")
    assert [r["name"] for r in runs_json(repo, capsys, "--sort", "f1")] == [
        "ours-90",
        "ours-80",
        "mate-70",
        "huge",
    ]
    assert [r["name"] for r in runs_json(repo, capsys, "--filter", "f1 > 0.08")] == ["ours-90"]
    monkeypatch.chdir(repo)
    monkeypatch.setenv("MLOPS_RECORD", "true")
    (repo / "params.yaml").write_text(
        tracking_project.params(50) + "mlops:\n  metrics:\n    primary: f1\n"
    )
    assert cli.main(["report", "-o", "report.md"]) == 0
    # The workspace holds ours-90's run (counted once); the huge one is not ranked.
    line = (
        "<code>f1</code> 0.09: 1st of 3 recorded runs: the best so far "
        "(previous best 0.08 in <code>ours-80</code>)"
    )
    assert f"<summary>{line}</summary>" in (repo / "report.md").read_text()

    # Whatever else goes wrong computing the standing is one warning naming the error's type:
    # the report is still written, without the line.
    def broken(found: Any) -> float | None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("mlops_actions.tracking.view.number_of", broken)
    capsys.readouterr()
    assert cli.main(["report", "-o", "report.md"]) == 0
    [warned] = [x for x in capsys.readouterr().err.splitlines() if "standing" in x]
    assert warned.startswith(
        "warning: the report leaves out the run's standing: unexpected RuntimeError: a bug"
    )
    assert " recorded runs" not in (repo / "report.md").read_text()


def test_the_best_run_says_so_and_is_marked_in_the_top_five(recorded: Path) -> None:
    from mlops_actions.report import standing as shown_as
    from mlops_actions.tracking import listing, standing

    runs = listing.gather(recorded, remote="origin")
    placed = standing.standing(runs, "f1", 0.095)
    assert placed is not None and (placed.rank, placed.total) == (1, 4)
    assert shown_as.summary(placed) == (
        "<code>f1</code> 0.095: 1st of 4 recorded runs: the best so far "
        "(previous best 0.09 in <code>ours-90</code>)"
    )
    assert shown_as.table(placed).splitlines()[2:] == [
        "| 1 | **this run** | — | 0.095 |",
        "| 2 | `ours-90` | — | 0.09 |",
        "| 3 | `ours-80` | — | 0.08 |",
        "| 4 | `mate-70` | — | 0.07 |",
    ]
    last = standing.standing(runs, "f1", 0.01)
    assert last is not None and last.rank == 4
    assert shown_as.table(last).splitlines()[-1] == "| 4 | **this run** | — | 0.01 |"
    # Below the five: the five others, no row of its own.
    five = tuple(standing.Placed(f"r{i}", 1 - i / 10, None, None) for i in range(5))
    seventh = standing.Standing("f1", 0.1, 7, 9, False, five[0], five)
    assert "this run" not in shown_as.table(seventh)
    assert shown_as.table(seventh).splitlines()[-1] == "| 5 | `r4` | — | 0.6 |"


def test_the_two_job_training_step_does_not_push_the_outputs(
    recorded: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The training job's `results` step holds no DVC remote credentials: it records
    `outputs: not-pushed` and says why, without trying; the one job that trained pushes."""
    from mlops_actions.config import settings
    from mlops_actions.tracking import ci

    repo = _copy(recorded, tmp_path)
    remote = tmp_path / "copy" / "dvc-remote"
    (repo / "params.yaml").write_text(tracking_project.params(65))
    dvc(repo, "repro", "-q")
    before = sorted(p for p in remote.rglob("*") if p.is_file())
    monkeypatch.chdir(repo)
    cfg = settings.load("params.yaml")
    out = tmp_path / "results"
    out.mkdir()
    capsys.readouterr()
    ci.write_files(str(out), cfg, trained=True, fork=False)
    assert json.loads((out / "experiment.json").read_text())["outputs"] == "not-pushed"
    assert sorted(p for p in remote.rglob("*") if p.is_file()) == before
    [said] = [x for x in capsys.readouterr().out.splitlines() if "not pushed" in x]
    assert "this step holds no credentials for the DVC remote" in said
    assert ci._push_outputs(cfg) == "pushed"  # the one-job shape's push
    assert sorted(p for p in remote.rglob("*") if p.is_file()) != before
