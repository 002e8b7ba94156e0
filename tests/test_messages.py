"""Every message a newcomer meets, word for word: run as a user would (`cli.main`), each test
asserts the exit code and the line on stderr. One test per message."""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from tests.helpers import DEMO_PARAMS, commit_all, dvc, git, init_repo, write_params
from tests.test_s3_remote import BUCKET, s3_env, s3_server  # noqa: F401  (fixtures)

REGRESSION = {"rmse": 53.88, "mae": 42.9, "r2": 0.4521, "rows": {"train": 353, "test": 89}}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    """The exit code and the lines on stderr."""
    code = cli.main(list(argv))
    return code, capsys.readouterr().err.splitlines()


def _params(**mlops: Any) -> dict[str, Any]:
    """A builtin project's mlops: section with `mlops` merged over it."""
    params: dict[str, Any] = {
        "data": {"path": "data/table.csv", "target": "y"},
        "model": {"name": "demo-model"},
    }
    params.update(mlops)
    return params


def _command(code: str) -> str:
    """A train.command that runs `code` in this interpreter."""
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


WRITE_METRICS = (
    "import json; json.dump({'rmse': 53.88, 'mae': 42.9, 'r2': 0.45}, open('m.json', 'w'))"
)


def _command_params(code: str, **mlops: Any) -> dict[str, Any]:
    """A command-mode project whose command runs `code` and writes its metrics to m.json."""
    train = {"mode": "command", "command": _command(code), "metrics": "m.json"}
    return _params(train=train, **mlops)


# --- gates ----------------------------------------------------------------------------------


def test_gate_on_a_missing_metric_lists_the_metrics_there(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_params(git_repo, _params(gates=["RMSE <= 60"]))
    commit_all(git_repo, "project")
    (git_repo / "metrics.json").write_text(json.dumps(REGRESSION))
    code, err = _run(capsys, "gate")
    assert code == 2
    assert err[-1] == (
        "error: gate 'RMSE <= 60' could not be evaluated: metric not found (did you mean "
        "'rmse'?); metrics.json has: rmse, mae, r2, rows.test, rows.train"
    )


def test_gate_on_a_missing_metric_lists_at_most_twelve(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_params(git_repo, _params(gates=["loss_07 <= 1"]))
    commit_all(git_repo, "project")
    many = {f"loss_{i:02}": 0.5 for i in range(1, 31) if i != 7}
    (git_repo / "metrics.json").write_text(json.dumps(many))
    code, err = _run(capsys, "gate")
    assert code == 2
    assert err[-1].startswith("error: gate 'loss_07 <= 1' could not be evaluated: metric not found")
    # 29 metrics: 12 of them shown, the closest names first.
    listed = err[-1].split("; metrics.json has: ")[1].split(", ")
    assert listed[-1] == "… (17 more)"
    assert len(set(listed[:-1]) & set(many)) == 12


# --- data -----------------------------------------------------------------------------------


def test_data_path_typo_after_a_verified_pull(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = json.loads(json.dumps(DEMO_PARAMS))
    params["data"]["path"] = "data/breast_cancr.csv"
    write_params(demo_repo, params)
    code, err = _run(capsys, "train")
    assert code == 2
    assert err[-1] == (
        "error: data/breast_cancr.csv: not in the pulled data; close names: breast_cancer.csv; "
        "check mlops.data.path in params.yaml"
    )


def test_missing_target_column_shows_the_closest_columns_first(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = json.loads(json.dumps(DEMO_PARAMS))
    params["data"]["target"] = "Diagnosis"
    write_params(demo_repo, params)
    code, err = _run(capsys, "train")
    assert code == 2
    assert err[-1].startswith(
        "error: params.yaml: mlops.data.target: column 'Diagnosis' is not in "
        "data/breast_cancer.csv (did you mean 'diagnosis'?) (columns, closest first: diagnosis, "
    )


def _unpushed(repo: Path) -> None:
    """A new file in the tracked data: `dvc add`ed and committed, never pushed."""
    (repo / "data" / "extra.csv").write_text("a,b\n1,2\n")
    dvc(repo, "add", "-q", "data")
    commit_all(repo, "more data")


def test_data_added_but_never_pushed_is_a_warning_where_it_was_added(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _unpushed(demo_repo)
    code, err = _run(capsys, "pull")
    assert code == 0
    assert err == [
        "warning: the DVC remote 'local' lacks data/extra.csv (added but never pushed?): a "
        "fresh clone (CI) cannot pull it; run `dvc push`"
    ]
    dvc(demo_repo, "push", "-q")
    assert _run(capsys, "pull") == (0, [])


def test_data_never_pushed_fails_a_fresh_clone_with_dvcs_whole_message(
    demo_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _unpushed(demo_repo)
    clone = demo_repo.parent / "clone"
    git(demo_repo.parent, "clone", "-q", str(demo_repo), str(clone))
    monkeypatch.chdir(clone)
    code, err = _run(capsys, "pull")
    assert code == 2
    assert err[-1] == (
        "error: data.dvc: the DVC remote 'local' lacks data (added but never pushed?); run "
        "`dvc push` from the machine that has it (dvc: failed to pull data from the cloud - "
        "Checkout failed for following targets: data; Is your cache up to date? "
        "<https://error.dvc.org/missing-files>)"
    )


def test_imported_data_is_not_expected_in_the_remote(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An import's data comes from its source, not from the project's remote.
    source = demo_repo.parent / "source.csv"
    source.write_text("a,b\n1,2\n")
    dvc(demo_repo, "import-url", "-q", str(source), "imported.csv")
    commit_all(demo_repo, "import")
    assert _run(capsys, "pull") == (0, [])
    dvc(demo_repo, "remote", "remove", "local")
    os.remove(demo_repo / "data.dvc")
    assert _run(capsys, "pull") == (0, [])


def test_data_with_no_remote_is_a_warning(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dvc(demo_repo, "remote", "remove", "local")
    code, err = _run(capsys, "pull")
    assert code == 0
    assert err == [
        "warning: data.dvc: no DVC remote is configured, so a fresh clone (CI) cannot pull the "
        "data; add one with `dvc remote add -d NAME URL`, then `dvc push`"
    ]


def test_data_never_pushed_to_s3_is_a_warning(
    demo_repo: Path,
    s3_server: str,  # noqa: F811  (the fixture)
    s3_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    import boto3

    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=BUCKET)
    dvc(demo_repo, "remote", "add", "-f", "-d", "s3", f"s3://{BUCKET}/dvc")
    dvc(demo_repo, "remote", "modify", "s3", "endpointurl", s3_server)
    dvc(demo_repo, "push", "-q", "-r", "s3")
    _unpushed(demo_repo)
    code, err = _run(capsys, "pull")
    assert code == 0
    assert err == [
        "warning: the DVC remote 's3' lacks data/extra.csv (added but never pushed?): a "
        "fresh clone (CI) cannot pull it; run `dvc push`"
    ]


# --- command mode ---------------------------------------------------------------------------


def test_command_mode_creates_the_output_directories(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # model/ is gitignored, so in CI it never exists before the command runs.
    code = WRITE_METRICS + "; open('model/model.skops', 'wb').write(b'model')"
    write_params(git_repo, _command_params(code))
    assert _run(capsys, "train") == (0, [])
    assert (git_repo / "model" / "model.skops").read_bytes() == b"model"


def test_command_that_writes_no_model(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_params(git_repo, _command_params(WRITE_METRICS))
    code, err = _run(capsys, "train")
    assert code == 0
    assert err == [
        "warning: params.yaml: mlops.train.model: mlops.train.command wrote no model at "
        "model/model.skops; the run has metrics but nothing to register (set mlops.train.model "
        "to the file it writes)"
    ]


def test_killed_command_names_the_signal(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_params(git_repo, _command_params("import os, signal; os.kill(os.getpid(), 9)"))
    code, err = _run(capsys, "train")
    assert code == 2
    assert err[-1] == (
        "error: mlops.train.command was killed by signal 9 (out of memory?); see its output above"
    )


def test_written_files_follow_the_umask(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = WRITE_METRICS + "; open('model/model.skops', 'wb').write(b'model')"
    write_params(git_repo, _command_params(code))
    old = os.umask(0o022)
    try:
        assert _run(capsys, "train") == (0, [])
    finally:
        os.umask(old)
    card = git_repo / "model" / "card.json"  # ours, written atomically
    assert stat.S_IMODE(card.stat().st_mode) == 0o644


# --- metrics.primary ------------------------------------------------------------------------

PRIMARY_TYPO = (
    "error: params.yaml: mlops.metrics.primary: 'RMSE' is not a metric in m.json (did you mean "
    "'rmse'?); m.json has: rmse, mae, r2"
)


@pytest.mark.parametrize("command", ["train", "run"])
def test_primary_typo_fails_the_training_run(
    git_repo: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    write_params(git_repo, _command_params(WRITE_METRICS, metrics={"primary": "RMSE"}))
    commit_all(git_repo, "project")
    code, err = _run(capsys, command)
    assert code == 2
    assert err[-1] == PRIMARY_TYPO


@pytest.mark.parametrize("command", ["gate", "report", "promote"])
def test_primary_typo_fails_at_load_once_metrics_exist(
    git_repo: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    write_params(
        git_repo, _command_params(WRITE_METRICS, metrics={"primary": "RMSE"}, gates=["r2 >= 0"])
    )
    commit_all(git_repo, "project")
    (git_repo / "m.json").write_text(json.dumps({"rmse": 53.88, "mae": 42.9, "r2": 0.45}))
    code, err = _run(capsys, command)
    assert code == 2
    assert err[-1] == PRIMARY_TYPO


def test_primary_that_is_not_a_number(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_params(git_repo, _params(metrics={"primary": "model"}))
    (git_repo / "metrics.json").write_text(json.dumps({"model": "ridge", "r2": 0.45}))
    code, err = _run(capsys, "gate")
    assert code == 2
    assert err[-1] == (
        "error: params.yaml: mlops.metrics.primary: 'model' is 'ridge' in metrics.json, not a "
        "number; promotion compares versions on it, so name a numeric metric"
    )


def test_primary_is_not_checked_before_training_against_old_metrics(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The metrics from before a switch of task name other metrics: training replaces them.
    (git_repo / "m.json").write_text(json.dumps({"accuracy": 0.9}))
    write_params(git_repo, _command_params(WRITE_METRICS, metrics={"primary": "rmse"}))
    code, err = _run(capsys, "train")
    assert code == 0
    assert not any(line.startswith("error:") for line in err)
    assert json.loads((git_repo / "m.json").read_text())["rmse"] == 53.88


# --- git ------------------------------------------------------------------------------------


def _outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    write_params(project, _params(metrics={"primary": "rmse"}))
    (project / "metrics.json").write_text(json.dumps(REGRESSION))
    monkeypatch.chdir(project)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return project


@pytest.mark.parametrize("argv", [["models"], ["models", "get", "demo-model@v1.0.0"], ["promote"]])
def test_outside_a_git_repository(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    project = _outside_git(tmp_path, monkeypatch)
    code, err = _run(capsys, *argv)
    assert code == 2
    assert err == [
        f"error: {project}: not a git repository: run inside your project's clone (or `git "
        "init` a new project)"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository away")
def test_repository_another_user_owns(
    git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(git_repo.parent))  # no global safe.directory
    os.chown(git_repo, 12345, 12345)
    code, err = _run(capsys, "models")
    assert code == 2
    assert err == [
        f"error: {git_repo}: git refuses a repository another user owns; trust it with "
        f"`git config --global --add safe.directory {git_repo}`"
    ]


def test_long_git_options_are_cut_in_a_message(tmp_path: Path) -> None:
    from mlops_actions import git as git_mod
    from mlops_actions.errors import GitError

    repo = init_repo(tmp_path / "repo")
    with pytest.raises(GitError) as caught:
        git_mod.run("log", "--format=" + "%H" * 30, "no-such-branch", cwd=repo)
    assert str(caught.value) == (
        "git log --format=… no-such-branch: ambiguous argument 'no-such-branch': unknown "
        "revision or path not in the working tree."
    )
    with pytest.raises(GitError) as caught:
        git_mod.run("tag", "-a", "-m", "first line\nsecond", "v1", "no-such-commit", cwd=repo)
    assert str(caught.value) == (
        "git tag -a -m first line… v1 no-such-commit: Failed to resolve 'no-such-commit' as a "
        "valid ref."
    )
