from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_actions.compare import comparison
from tests.comparing import PARAMS, Files, compare_json, main_repo, make_repo, run, write
from tests.helpers import commit_all, dvc, git, init_repo


def dvc_diff(repo: Path, *args: str) -> dict[str, Any]:
    """What `dvc metrics diff --json` and `dvc params diff --json` print."""
    return {
        kind: json.loads(dvc(repo, kind, "diff", "--json", *args).stdout or "{}")
        for kind in ("metrics", "params")
    }


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """main: params.yaml and metrics.json committed; the test runs on branch pr."""
    return main_repo(tmp_path, monkeypatch)


# --- DVC's semantics, through the CLI ---------------------------------------------------------


@pytest.mark.parametrize(
    ("new_metrics", "expected"),
    [
        pytest.param(
            {"accuracy": 0.95, "f1": 0.8, "nested": {"a": 2, "b": {"c": 2}}},
            {
                "accuracy": {"old": 0.9, "new": 0.95, "diff": 0.95 - 0.9},
                "nested.a": {"old": 1, "new": 2, "diff": 1},
            },
            id="nested keys flattened with dots, full precision",
        ),
        pytest.param(
            {"accuracy": 0.9, "nested": {"a": 1, "b": {"c": 2}}, "recall": 0.7},
            {"f1": {"old": 0.8, "new": None}, "recall": {"old": None, "new": 0.7}},
            id="a key missing on either side",
        ),
        pytest.param(
            {"accuracy": "high", "f1": 0.8, "nested": {"a": False, "b": {"c": 2}}},
            {
                "accuracy": {"old": 0.9, "new": "high"},
                "nested.a": {"old": 1, "new": False, "diff": -1},
            },
            id="non-numeric values have no diff; booleans count as numbers",
        ),
        pytest.param(
            {"accuracy": 0.9, "f1": 0.8, "nested": {"a": 1, "b": {"c": 2}}, "cm": [[1, 2]]},
            {},
            id="lists (a confusion matrix) are not metrics",
        ),
    ],
)
def test_metric_diffs_follow_dvc(
    repo: Path, capsys: pytest.CaptureFixture[str], new_metrics: Any, expected: Any
) -> None:
    write(repo, {"metrics.json": new_metrics})
    result = compare_json(capsys, "--base", "main")
    assert result == {"metrics": {"metrics.json": expected} if expected else {}, "params": {}}


def test_params_nested_lists_and_yaml_1_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"params.yaml": PARAMS.replace("20", "30") + "lr: 1e-3\nlayers: [1, 2]\n"})
    assert compare_json(capsys, "--base", "main")["params"] == {
        "params.yaml": {
            "model.params.n_estimators": {"old": 20, "new": 30, "diff": 10},
            "lr": {"old": None, "new": 0.001},  # YAML 1.2, as DVC reads it: a number
            "layers": {"old": None, "new": "[1, 2]"},  # lists as their Python text
        }
    }


def test_all_includes_unchanged_entries(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"metrics.json": {"accuracy": 0.9, "f1": 0.85, "nested": {"a": 1}}})
    result = compare_json(capsys, "--all", "--base", "main")
    assert result["metrics"]["metrics.json"] == {
        "accuracy": {"old": 0.9, "new": 0.9, "diff": 0.0},
        "f1": {"old": 0.8, "new": 0.85, "diff": 0.85 - 0.8},
        "nested.a": {"old": 1, "new": 1, "diff": 0},
        "nested.b.c": {"old": 2, "new": None},
    }
    assert result["params"]["params.yaml"]["model.params.max_depth"] == {
        "old": 4,
        "new": 4,
        "diff": 0,
    }
    assert compare_json(capsys, "--base", "main")["params"] == {}


def test_unparsable_metrics_file_warns_and_counts_as_missing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, {"metrics.json": '{"accuracy": 0.9,'})
    code, out, err = run(capsys, "--json", "--base", "main")
    assert code == 0
    assert json.loads(out)["metrics"]["metrics.json"]["accuracy"] == {"old": 0.9, "new": None}
    assert "metrics.json at workspace: not valid JSON" in err
    result = comparison.compare(base="main")
    assert [(e.rev, e.path, e.type, str(e)) for e in result.errors] == [
        (
            "workspace",
            "metrics.json",
            "JSONFileCorruptedError",
            "metrics.json at workspace: not valid JSON "
            "(Expecting property name enclosed in double quotes at line 1)",
        )
    ]


def test_project_in_a_subdirectory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "repo", {"ml/params.yaml": PARAMS, "ml/metrics.json": {"f1": 0.5}})
    write(repo, {"ml/metrics.json": {"f1": 0.25}})
    monkeypatch.chdir(repo)
    result = compare_json(capsys, "--params", "ml/params.yaml", "--base", "main")
    assert result["metrics"] == {
        "ml/metrics.json": {"f1": {"old": 0.5, "new": 0.25, "diff": -0.25}}
    }


def test_entry_paths_are_relative_to_the_project_root_until_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo", {"ml/params.yaml": PARAMS, "ml/metrics.json": {"f1": 0.5}})
    write(repo, {"ml/metrics.json": {"f1": 0.25}, "other/.keep": ""})
    monkeypatch.chdir(repo / "other")
    result = comparison.compare("../ml/params.yaml", base="main")
    assert [e.path for e in result.metrics] == ["metrics.json"]
    assert {e.path for e in result.params} == {"params.yaml"}
    assert [e.path for e in result.relative_to().metrics] == ["../ml/metrics.json"]
    assert [e.path for e in result.relative_to(repo).metrics] == ["ml/metrics.json"]
    assert result.relative_to(repo / "ml") == result
    shown = {"../ml/metrics.json": {"f1": {"old": 0.5, "new": 0.25, "diff": -0.25}}}
    assert json.loads(comparison.render_json(result))["metrics"] == shown
    assert "../ml/metrics.json  f1" in comparison.render_text(result)
    assert "| ../ml/metrics.json | f1 " in comparison.render_markdown(result)


def test_compare_imports_neither_dvc_nor_the_trainer(repo: Path) -> None:
    """Speed: a comparison costs a few git calls, not dvc's or scikit-learn's start-up."""
    write(repo, {"metrics.json": {"accuracy": 0.95}})
    code = (
        "import sys; from mlops_actions import cli; "
        "code = cli.main(['compare', '--json', '--base', 'main']); "
        "heavy = {m.split('.')[0] for m in sys.modules} & {'dvc', 'pandas', 'sklearn', 'numpy'}; "
        "print(sorted(heavy), file=sys.stderr); sys.exit(code)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["metrics"]["metrics.json"]["accuracy"]["new"] == 0.95
    assert proc.stderr.strip() == "[]"


# --- rendering -----------------------------------------------------------------------------------


def test_text_and_markdown_tables(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"metrics.json": {"accuracy": 0.912345678, "f1": 0.8, "nested": {"a": 1}}})
    code, out, _ = run(capsys, "--base", "main")
    assert code == 0
    lines = out.splitlines()
    assert lines[2:5] == [
        "Metrics:",
        "Path          Metric      main    workspace    Change",
        "------------  ----------  ------  -----------  --------",
    ]
    assert "metrics.json  accuracy    0.9     0.91235      0.01235" in lines  # 5 digits, as DVC
    assert "metrics.json  nested.b.c  2       -            -" in lines
    assert lines[-1] == "Params: no changes against main"

    code, out, _ = run(capsys, "--md", "--base", "main")
    assert "| Path         | Metric     | main   | workspace   | Change   |" in out
    assert "| metrics.json | accuracy   | 0.9    | 0.91235     | 0.01235  |" in out
    assert "_No changes against main._" in out


# --- the same numbers as DVC --------------------------------------------------------------------

CACHED = '{"acc": 0.5}'
CACHED_MD5 = hashlib.md5(CACHED.encode()).hexdigest()
SCENARIOS: dict[str, tuple[Files, Files]] = {
    # name: (files committed on main, then changed on pr)
    "changed, unchanged, added and removed keys; nested params": (
        {
            "dvc.yaml": "metrics:\n  - metrics.json\n  - scores.yaml\n",
            "params.yaml": PARAMS + "lr: 1e-3\nflag: true\nopt: null\nlayers: [1, 2, 3]\n"
            "gone: 1\nsingle: [5]\nempty: {}\n",
            "metrics.json": {
                "accuracy": 0.9,
                "f1": 0.8,
                "name": "rf",
                "ok": True,
                "removed": 3,
                "nested": {"a": 1, "b": {"c": 2}},
                "cm": [[1, 2], [3, 4]],
                "none": None,
                "same": 1.5,
                "intb": 1,
            },
            "scores.yaml": "auc: 0.7\nloss: 0.35\n",
        },
        {
            "params.yaml": PARAMS.replace("max_depth: 4", "max_depth: 5, extra: 1")
            + "lr: 0.01\nflag: false\nopt: 1\nlayers: [1, 2, 4]\nadded: x\nsingle: [6]\n",
            "metrics.json": {
                "accuracy": 0.95,
                "f1": 0.7,
                "name": "gb",
                "ok": False,
                "new": 5,
                "nested": {"a": 2, "b": {"c": 2}},
                "cm": [[1, 2], [3, 5]],
                "none": 1,
                "same": 1.5,
                "intb": True,
            },
            "scores.yaml": "auc: 0.7\nloss: 0.3\n",
        },
    ),
    "pipeline stages: params subsets, other files, wdir, DVC-cached and added metrics": (
        {
            "dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n    params:\n"
            "      - lr\n      - other.yaml:\n          - k1\n          - nest.k2\n"
            "    metrics:\n      - metrics.json:\n          cache: false\n      - cached.json\n"
            "  sub:\n    wdir: sub\n    cmd: python s.py\n    params: [p]\n"
            "    metrics:\n      - sm.json:\n          cache: false\n",
            # cached.json lives in the DVC cache, found through dvc.lock, not in git
            "dvc.lock": "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n"
            f"    outs:\n    - path: cached.json\n      hash: md5\n      md5: {CACHED_MD5}\n"
            f"      size: {len(CACHED)}\n",
            f".dvc/cache/files/md5/{CACHED_MD5[:2]}/{CACHED_MD5[2:]}": CACHED,
            ".gitignore": "/cached.json\n",
            "params.yaml": PARAMS + "lr: 0.1\n",
            "other.yaml": "k1: 1\nk3: 9\nnest: {k2: 2, k4: 4}\n",
            "sub/params.yaml": "p: 1\nq: 2\n",
            "metrics.json": {"loss": 0.3},
        },
        {
            "params.yaml": PARAMS + "lr: 0.2\n",
            "other.yaml": "k1: 2\nk3: 8\nnest: {k2: 3, k4: 5}\n",
            "sub/params.yaml": "p: 2\nq: 3\n",
            "metrics.json": {"loss": 0.25},
            "cached.json": {"acc": 0.6},
            "sub/sm.json": {"z": 2},
        },
    ),
    "unparsable metrics file; a file that is one bare value": (
        {
            "dvc.yaml": "metrics: [metrics.json, scalar.json, broken.yaml]\n",
            "params.yaml": PARAMS,
            "metrics.json": {"accuracy": 0.9},
            "scalar.json": "0.5",
            "broken.yaml": "acc: 0.5\n",
        },
        {"metrics.json": '{"accuracy": ', "scalar.json": {"s": 1}, "broken.yaml": "acc: [0.7\n"},
    ),
    "params.yaml that dvc.yaml templating cannot load: DVC reads nothing": (
        {"dvc.yaml": "metrics: [metrics.json]\n", "params.yaml": PARAMS, "metrics.json": {"f1": 1}},
        {"params.yaml": PARAMS + "bad: [1\n", "metrics.json": {"f1": 2}},
    ),
}


@pytest.fixture(scope="module")
def dvc_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One DVC repo; each scenario is a branch (pr-<n>) with its changes uncommitted."""
    repo = init_repo(tmp_path_factory.mktemp("dvc") / "repo")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    commit_all(repo, "dvc init")
    for n, (base, _) in enumerate(SCENARIOS.values()):
        git(repo, "checkout", "-q", "main")
        git(repo, "checkout", "-q", "-b", f"main-{n}")
        write(repo, base)
        commit_all(repo, "base")
    return repo


def _scenario(template: Path, tmp_path: Path, n: int) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(template, repo, symlinks=True)
    git(repo, "checkout", "-q", f"main-{n}")
    git(repo, "branch", "-q", "-f", "main", f"main-{n}")
    git(repo, "checkout", "-q", "-b", "pr")
    write(repo, list(SCENARIOS.values())[n][1])
    return repo


# The files each scenario's `--all` diff shows (a guard against two empty outputs agreeing).
SCENARIO_FILES = [
    {"metrics": ["metrics.json", "scores.yaml"], "params": ["params.yaml"]},
    {
        "metrics": ["cached.json", "metrics.json", "sub/sm.json"],
        "params": ["other.yaml", "params.yaml", "sub/params.yaml"],
    },
    {"metrics": ["broken.yaml", "metrics.json", "scalar.json"], "params": ["params.yaml"]},
    {"metrics": ["metrics.json"], "params": ["params.yaml"]},
]


@pytest.mark.slow
@pytest.mark.parametrize("n", range(len(SCENARIOS)), ids=list(SCENARIOS))
def test_json_all_equals_dvc(
    dvc_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    n: int,
) -> None:
    repo = _scenario(dvc_template, tmp_path, n)
    monkeypatch.chdir(repo)
    ours = compare_json(capsys, "--all", "--base", "main")
    assert ours == dvc_diff(repo, "--all", "main")
    assert {section: sorted(files) for section, files in ours.items()} == SCENARIO_FILES[n]


@pytest.mark.slow
def test_json_without_all_equals_dvc(
    dvc_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = _scenario(dvc_template, tmp_path, 0)
    commit_all(repo, "pr")  # committed this time: the PR branch against main
    monkeypatch.chdir(repo)
    assert compare_json(capsys, "--base", "main") == dvc_diff(repo, "main")


# --- DVC-cached outputs read from the remote ----------------------------------------------------

REMOTE_MD5 = hashlib.md5(b'{"acc": 0.5}').hexdigest()
CACHED_BASE: Files = {
    "dvc.yaml": "stages:\n  train:\n    cmd: echo\n    metrics: [m.json]\n",
    "dvc.lock": "schema: '2.0'\nstages:\n  train:\n    cmd: echo\n    outs:\n"
    f"    - path: m.json\n      hash: md5\n      md5: {REMOTE_MD5}\n      size: 12\n",
    ".gitignore": "/m.json\n",
    ".dvc/config": "[core]\n    remote = store\n['remote \"store\"']\n    url = ../../remote\n",
}


def _remote_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pushed: bool) -> Path:
    repo = make_repo(tmp_path / "repo", CACHED_BASE)
    if pushed:
        write(tmp_path, {f"remote/files/md5/{REMOTE_MD5[:2]}/{REMOTE_MD5[2:]}": '{"acc": 0.5}'})
    write(repo, {"m.json": {"acc": 0.75}})
    monkeypatch.chdir(repo)
    return repo


def test_base_output_read_from_a_local_directory_remote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _remote_repo(tmp_path, monkeypatch, pushed=True)
    result = compare_json(capsys, "--base", "main")
    assert result["metrics"] == {"m.json": {"acc": {"old": 0.5, "new": 0.75, "diff": 0.25}}}


def test_an_object_on_no_remote_is_one_warning_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _remote_repo(tmp_path, monkeypatch, pushed=False)
    code, out, err = run(capsys, "--json", "--base", "main")
    assert code == 0
    assert json.loads(out)["metrics"] == {"m.json": {"acc": {"old": None, "new": 0.75}}}
    [line] = [line for line in err.splitlines() if "m.json" in line]
    assert "m.json at main" in line and "remote 'store'" in line and "dvc push" in line


@pytest.mark.slow
def test_a_cloud_remote_is_read_through_dvcs_object_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path for s3 and other remotes: dvc's own object database, imported only there
    (exercised here on a local remote, which the common path reads without dvc)."""
    from mlops_actions.dvcio import cache

    repo = _remote_repo(tmp_path, monkeypatch, pushed=True)
    objects = cache.Objects(repo)
    try:
        assert objects._read_with_dvc("store", REMOTE_MD5, legacy=False) == (b'{"acc": 0.5}', "")
        assert objects._read_with_dvc("store", "0" * 32, legacy=False)[0] is None
    finally:
        objects.close()
