"""Sweeps end to end on real git and real training: trials recorded as DVC experiment refs,
the user's files untouched, failures recorded, the best trial the best of the same configs
trained one by one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_actions import cli
from mlops_actions.commands import runs
from mlops_actions.sweep import journal
from mlops_actions.tracking.runrecord import RunRecord, SweepTrial
from tests.helpers import commit_all, gated_params, git, init_repo, write_params

DEPTH = "mlops.model.params.max_depth"
TREES = "mlops.model.params.n_estimators"

SCRIPT = """\
import json, yaml
params = yaml.safe_load(open("params.yaml"))
scale = params["train"]["scale"]
json.dump({"score": -((scale - 3) ** 2), "scale": scale}, open("metrics.json", "w"))
"""
USER_PARAMS = """\
# the user's own params, with a comment a trial keeps
train:
  scale: 1  # tried by the sweep
  seed: 7
"""


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    """What a --json command prints on stdout, parsed (its other output goes to stderr)."""
    code = cli.main(list(args))
    out = capsys.readouterr()
    assert out.out.lstrip().startswith(("{", "[")), out.out + out.err
    return code, json.loads(out.out)


def _exp_refs(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname)", "refs/exps/").splitlines()


@pytest.fixture
def command_project(git_repo: Path) -> Path:
    """A project whose own training script reads its own param, train.scale."""
    (git_repo / "train.py").write_text(SCRIPT)
    (git_repo / "params.yaml").write_text(USER_PARAMS)
    mlops = {
        "mlops": {
            "train": {
                "mode": "command",
                "command": f"{sys.executable} train.py",
                "metrics": "metrics.json",
            },
            "cache": {"dir": ".mlops-cache"},
            "metrics": {"primary": "score"},
            "sweep": {"sampler": "grid", "parallel": 2, "params": {"train.scale": [1, 3, 5]}},
        }
    }
    with open(git_repo / "params.yaml", "a") as fh:
        yaml.safe_dump(mlops, fh, sort_keys=False)
    (git_repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n")
    commit_all(git_repo, "a project with its own training script")
    return git_repo


def test_sweep_run_sets_the_users_own_params_and_leaves_the_workspace_alone(
    command_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (command_project / "params.yaml").read_bytes()
    code, result = _json(capsys, "sweep", "run", "--jobs", "2", "--json")
    assert code == 0, result
    assert result["best"]["params"] == {"train.scale": 3} and result["best"]["value"] == 0
    assert sorted(t["params"]["train.scale"] for t in result["trials"]) == [1, 3, 5]
    assert (command_project / "params.yaml").read_bytes() == before
    assert not (command_project / "metrics.json").exists()
    assert git(command_project, "status", "--porcelain") == ""
    refs = _exp_refs(command_project)
    head = git(command_project, "rev-parse", "HEAD")
    assert len(refs) == 3 and all(r.startswith(f"refs/exps/{head[:2]}/{head[2:]}/") for r in refs)
    best = next(r for r in refs if r.endswith(result["best"]["experiment"]))
    # the experiment is HEAD plus the files as the trial left them: DVC's layout
    assert git(command_project, "rev-parse", f"{best}^") == head
    params = git(command_project, "show", f"{best}:params.yaml")
    assert "scale: 3  # tried by the sweep" in params and params.startswith("# the user's own")
    assert json.loads(git(command_project, "show", f"{best}:metrics.json"))["scale"] == 3
    record = json.loads(git(command_project, "show", f"{best}:{journal.RECORD}"))
    assert record["status"] == "ok" and record["sweep"]["trial"] == result["best"]["trial"]
    # the run record experiment tracking lists: its schema, the event
    assert record["schema"] == "mlops-actions/run/1" and record["event"] == "local"
    # the budget is spent: a second run plans nothing and trains nothing
    code, out = _cli(capsys, "sweep", "plan", "--json")
    assert code == 0 and json.loads(out) == {"include": []}
    # experiment tracking lists the trials as runs, with their sweep
    code, listed = _json(capsys, "runs", "--json", "--local")
    assert code == 0
    sweeps = {r["name"]: r["sweep"] for r in listed}
    assert len(sweeps) == 3 and {s["id"] for s in sweeps.values()} == {result["sweep"]}
    assert sorted(s["trial"] for s in sweeps.values()) == [0, 1, 2]
    best_name = result["best"]["experiment"]
    assert sweeps[best_name]["params"] == {"train.scale": 3}
    assert sweeps[best_name]["metric"] == "score"
    assert runs.main("list", [], runs.Query(local_only=True, fmt="json", sweep="0" * 10)) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert (
        runs.main("list", [], runs.Query(local_only=True, fmt="json", sweep=result["sweep"])) == 0
    )
    assert len(json.loads(capsys.readouterr().out)) == 3


@pytest.mark.slow
def test_the_best_trial_is_the_best_of_the_same_configs_trained_one_by_one(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = gated_params()
    params["sweep"] = {
        "sampler": "grid",
        "parallel": 2,
        "params": {DEPTH: [2, 4], TREES: [4, 8]},
    }
    write_params(demo_repo, params)
    commit_all(demo_repo, "a 2x2 sweep")
    code, swept = _json(capsys, "sweep", "run", "--jobs", "2", "--json")
    assert code == 0, swept
    assert len(swept["trials"]) == 4 and all(t["state"] == "complete" for t in swept["trials"])

    one_by_one: list[tuple[float, dict[str, Any]]] = []
    for depth in (2, 4):
        for trees in (4, 8):
            alone = gated_params()
            alone["model"]["params"] = {"n_estimators": trees, "max_depth": depth}
            write_params(demo_repo, alone)
            code, out = _cli(capsys, "train", "--no-cache")
            assert code == 0, out
            f1 = json.loads((demo_repo / "metrics.json").read_text())["f1"]
            one_by_one.append((f1, {DEPTH: depth, TREES: trees}))
    by_config = {json.dumps(p, sort_keys=True): v for v, p in one_by_one}
    for t in swept["trials"]:
        assert t["value"] == by_config[json.dumps(t["params"], sort_keys=True)]
    assert swept["best"]["value"] == max(v for v, _ in one_by_one)


def test_a_failed_trial_is_recorded_as_failed_and_never_wins(
    command_project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (command_project / "train.py").write_text(
        SCRIPT.replace("scale = params", "assert params['train']['scale'] != 5\nscale = params")
    )
    commit_all(command_project, "scale 5 breaks the training")
    bundles = tmp_path / "bundles"
    code, out = _cli(
        capsys, "sweep", "trial", "--trial", "2", "--params", '{"train.scale": 5}',
        "--bundle", str(bundles),
    )  # fmt: skip
    assert code == 1 and "trial 2: train.scale=5 -> failed:" in out, out
    code, out = _cli(capsys, "sweep", "trial", "--trial", "0", "--params", '{"train.scale": 1}')
    assert code == 0 and "-> score -4" in out, out
    # the failed trial reaches another clone through its bundle, as the workflow hands it on
    failed = [r for r in _exp_refs(command_project) if "-2-" in r]
    git(command_project, "update-ref", "-d", failed[0])
    code, gathered = _json(capsys, "sweep", "gather", "--json", "--bundles", str(bundles))
    assert code == 0, gathered
    states = {t["trial"]: t["state"] for t in gathered["trials"]}
    assert states == {0: "complete", 2: "failed"}
    assert gathered["best"]["trial"] == 0 and gathered["remaining"] == 1
    assert gathered["done"] is False
    code, out = _cli(capsys, "sweep", "gather")
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert rows[1].startswith("| 1 | 0 | **\u22124** | 1 |") and rows[2].startswith("| — | 2 | failed")
    # the next wave is the one trial nobody recorded
    code, out = _cli(capsys, "sweep", "plan", "--json")
    assert json.loads(out) == {"include": [{"trial": 1, "params": {"train.scale": 3}}]}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            '{"train.seed": 1}',
            "--params: not in mlops.sweep.params: train.seed; missing: train.scale",
        ),
        ('{"train.scale": 4}', "--params: train.scale: 4 is outside the sweep's space"),
        ("[1]", "--params: expected a JSON object"),
        ("{", "--params: not valid JSON"),
    ],
)
def test_a_trial_refuses_params_the_sweep_does_not_search(
    command_project: Path, capsys: pytest.CaptureFixture[str], values: str, message: str
) -> None:
    code, out = _cli(capsys, "sweep", "trial", "--trial", "0", "--params", values)
    assert code == 2 and message in out and len(out.strip().splitlines()) == 1, out
    assert _exp_refs(command_project) == []


def test_a_bad_sweep_section_is_one_line_at_load(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = gated_params()
    params["sweep"] = {"params": {DEPTH: [2, 4]}, "paralel": 3}
    write_params(git_repo, params)
    code, out = _cli(capsys, "sweep", "plan")
    assert code == 2
    assert out.strip() == (
        "error: params.yaml: mlops.sweep.paralel: unknown key (did you mean 'parallel'?)"
    ) or out.strip().endswith("mlops.sweep.paralel: unknown key (did you mean 'parallel'?)")


def test_planning_reads_the_trials_recorded_as_experiments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trials recorded in a clone and pushed reach the planner through `--fetch`."""
    origin = tmp_path / "origin.git"
    work = init_repo(tmp_path / "work")
    (work / "params.yaml").write_text(
        yaml.safe_dump(
            {
                "mlops": {
                    "train": {"mode": "command", "command": "true"},
                    "metrics": {"primary": "f1"},
                    "sweep": {"sampler": "grid", "parallel": 1, "params": {"a": [1, 2]}},
                }
            }
        )
    )
    commit_all(work, "sweep")
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(origin)], check=True)
    git(work, "remote", "add", "origin", str(origin))
    monkeypatch.chdir(work)
    code, planned = _json(capsys, "sweep", "plan", "--json")
    first = planned["include"][0]
    metrics = json.dumps({"f1": 0.5}).encode()
    run = RunRecord("local", sweep=SweepTrial(_sweep_id(work), first["trial"], first["params"]))
    ref = journal.record(work, "elsewhere", {"metrics.json": metrics}, run)
    git(work, "push", "-q", "origin", f"{ref}:{ref}")
    git(work, "update-ref", "-d", ref)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth=1", f"file://{origin}", str(clone)], check=True)
    monkeypatch.chdir(clone)
    code, planned = _json(capsys, "sweep", "plan", "--json", "--fetch")
    assert code == 0, planned
    assert planned["include"] == [
        {"trial": 1, "params": {"a": 2 if first["params"]["a"] == 1 else 1}}
    ]


def _sweep_id(repo: Path) -> str:
    from mlops_actions.config import settings
    from mlops_actions.config import sweep as spec

    return spec.from_config(settings.load(repo / "params.yaml")).id


@pytest.mark.slow
def test_a_dvc_pipeline_sweeps_its_own_params_and_dvc_shows_the_trials(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dvc repro` trains each trial; `dvc exp show` lists them with their params and metrics."""
    from tests.helpers import dvc

    (git_repo / "train.py").write_text(SCRIPT)
    (git_repo / "params.yaml").write_text(
        USER_PARAMS
        + "mlops:\n  metrics: {primary: score}\n"
        + "  sweep: {sampler: grid, parallel: 2, params: {train.scale: [2, 3]}}\n"
    )
    (git_repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python train.py\n    deps: [train.py]\n"
        "    params: [train.scale]\n    metrics: [{metrics.json: {cache: false}}]\n"
    )
    dvc(git_repo, "init", "-q")
    commit_all(git_repo, "a DVC pipeline")
    code, result = _json(capsys, "sweep", "run", "--jobs", "2", "--json")
    assert code == 0, result
    assert result["best"]["params"] == {"train.scale": 3} and result["best"]["value"] == 0
    assert git(git_repo, "status", "--porcelain") == ""
    shown = json.loads(dvc(git_repo, "exp", "show", "--json").stdout)
    [main] = [row for row in shown if row["name"] == "main"]
    exps = {e["name"]: e["revs"][0]["data"] for e in main["experiments"]}
    for t in result["trials"]:
        data = exps[t["experiment"]]
        assert data["params"]["params.yaml"]["data"]["train"]["scale"] == t["params"]["train.scale"]
        assert data["metrics"]["metrics.json"]["data"]["score"] == t["value"]
