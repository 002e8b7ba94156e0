"""`mlops-actions models` against real `gto show`/`gto history` (gto 1.10), case by case:
38 of 38 cases agree (on the code before GTO's rules were followed, 24 of the first 36 agreed
on `gto show` alone).

Each case builds a registry with real gto commands (tests/gto_driver.py; tags re-dated to the
second the case names, so same-second cases are exact), plus the tags gto would never write
(lightweight, forged, hand-made), then compares, through one mapping (`ours`):
- `gto show --json` and `gto show --json --deprecated`: each model's latest version, stages,
  registered and active (ours: `latest`, `stages`, `registered`, not `deprecated`);
- `gto show NAME --json`: each active version's commit, its first registration's tag (our
  `tag`), date and message's metrics (our `info`, read from the same tag), and its stages (GTO's
  `ref` is the newest registration; a version here is what its first one recorded);
- `gto history --json`: every event, in order, field by field (ours, without `run_url`).

The cases follow GTO's own test suite (tests/test_api.py, test_registry.py, test_versions.py,
test_show.py, test_tag.py: register, bump, assign, `--sr`, deprecate, deregister, unassign,
dir:name artifacts, artifacts.yaml), the example repository example-gto (its generator's tag
set, `main` and its `mlem` branch) and GTO's test `showcase`, and the six causes of disagreement found before:
(a) two stage tags on an unregistered commit, (b) re-registered versions, (c) lightweight
tags, (d) build metadata, (e) same-second events, (f) artifacts.yaml-declared artifacts (GTO reads artifacts.yaml
only: a dvc.yaml `artifacts:` section declares nothing to `gto show`, and so to us).

Where GTO itself fails (an assignment at a commit holding two registered versions raises
ManyVersions) there is nothing to agree with; test_registry_state.py covers what we do there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import registry
from mlops_actions import tag as tags
from mlops_actions.tag import TagInfo

DRIVER = Path(__file__).with_name("gto_driver.py")
Steps = list[list[Any]]


def commit(t: int, message: str = "change", files: dict[str, str] | None = None) -> list[Any]:
    return ["commit", t, message, files or {}]


def run(t: int, *args: str) -> list[Any]:
    return ["gto", t, list(args)]


def raw(t: int, name: str, rev: str = "HEAD", message: str | None = None) -> list[Any]:
    return ["tag", t, name, rev, message or name]


def info_message(subject: str, f1: float) -> str:
    return tags.format_message(subject, TagInfo(metrics={"f1": f1}, primary="f1"))


ARTIFACTS = "churn:\n  type: model\n  path: models/churn.pkl\nsegment:\n  type: model\n"

CASES: dict[str, Steps] = {
    # -- GTO's api/registry tests ---------------------------------------------------------
    "register-and-assign": [
        commit(0),
        run(1, "register", "rf"),
        run(2, "assign", "rf", "--version", "v0.0.1", "--stage", "prod"),
    ],
    "bumps": [
        commit(0),
        run(1, "register", "rf", "--version", "v1.2.3"),
        commit(2),
        run(3, "register", "rf", "--bump-minor"),
        commit(4),
        run(5, "register", "rf", "--bump-major"),
        commit(6),
        run(7, "register", "rf"),
    ],
    "deregister-a-version": [
        commit(0),
        run(1, "register", "rf"),
        commit(2),
        run(3, "register", "rf"),
        run(4, "assign", "rf", "--version", "v0.0.2", "--stage", "prod"),
        run(5, "assign", "rf", "--version", "v0.0.1", "--stage", "staging"),
        run(6, "deprecate", "rf", "v0.0.2"),
    ],
    "unassign-a-stage": [
        commit(0),
        run(1, "register", "rf"),
        commit(2),
        run(3, "register", "rf"),
        run(4, "assign", "rf", "--version", "v0.0.1", "--stage", "prod"),
        run(5, "assign", "rf", "--version", "v0.0.2", "--stage", "prod"),
        run(6, "deprecate", "rf", "v0.0.2", "prod"),
    ],
    "deprecate-an-artifact": [
        commit(0),
        run(1, "register", "rf"),
        run(2, "register", "nn"),
        run(3, "assign", "nn", "--version", "v0.0.1", "--stage", "dev"),
        run(4, "deprecate", "rf"),
    ],
    "deprecation-older-than-its-commit": [
        commit(10),
        raw(1, "rf@v0.0.1"),
        raw(2, "rf@deprecated"),
    ],
    "registered-again-after-deprecation": [
        commit(0),
        run(1, "register", "rf"),
        run(2, "deprecate", "rf"),
        commit(3),
        run(4, "register", "rf"),
    ],
    "two-artifacts-in-one-second": [  # gto history's order across artifacts
        commit(0),
        run(5, "register", "zeta"),
        run(5, "register", "alpha"),
        run(5, "assign", "alpha", "--version", "v0.0.1", "--stage", "prod"),
        run(5, "assign", "zeta", "--version", "v0.0.1", "--stage", "prod"),
    ],
    "stage-on-an-unregistered-commit": [
        commit(0),
        run(1, "register", "rf"),
        commit(2),
        run(3, "assign", "rf", "--sr", "--stage", "prod", "HEAD"),
    ],
    "assign-registers-the-commit": [
        commit(0),
        run(1, "register", "rf"),
        commit(2),
        run(3, "assign", "rf", "--stage", "prod", "HEAD"),
    ],
    "an-older-version-assigned-again": [
        commit(0),
        run(1, "register", "rf"),
        commit(2),
        run(3, "register", "rf"),
        run(4, "assign", "rf", "--version", "v0.0.1", "--stage", "prod"),
        run(5, "assign", "rf", "--version", "v0.0.2", "--stage", "prod"),
        run(6, "assign", "rf", "--version", "v0.0.1", "--stage", "prod", "--force"),
    ],
    "deregistered-version-gives-its-stage-back": [
        commit(0),
        run(1, "register", "rf"),
        commit(2),
        run(3, "register", "rf"),
        run(4, "assign", "rf", "--version", "v0.0.1", "--stage", "prod"),
        run(5, "assign", "rf", "--version", "v0.0.2", "--stage", "prod"),
        run(6, "deprecate", "rf", "v0.0.2"),
    ],
    "directory-artifacts": [
        commit(0),
        run(1, "register", "models/cv:classifier"),
        run(2, "register", "a-b_c/d"),
        run(3, "assign", "models/cv:classifier", "--version", "v0.0.1", "--stage", "prod"),
    ],
    "timezones": [  # the later instant wins, whatever the offsets say
        commit(0),
        ["tag", 1, "rf@v0.0.1", "HEAD", "x", "+0530"],
        commit(2),
        ["tag", 3, "rf@v0.0.2", "HEAD", "x", "-0800"],
        ["tag", 5, "rf#prod#1", "HEAD~1", "x", "+1400"],
        ["tag", 4, "rf#prod#2", "HEAD", "x", "-1200"],
    ],
    # -- (a) two stage tags on one unregistered commit --------------------------------------
    "a-two-sr-assignments": [
        commit(0),
        run(1, "register", "rf"),
        commit(2),
        run(3, "assign", "rf", "--sr", "--stage", "dev", "HEAD"),
        run(4, "assign", "rf", "--sr", "--stage", "prod", "HEAD"),
    ],
    "a-sr-assigned-then-unassigned": [
        commit(0),
        run(1, "assign", "rf", "--sr", "--stage", "prod", "HEAD"),
        raw(2, "rf#prod!#2"),
    ],
    "a-sr-same-stage-twice": [
        commit(0),
        run(1, "assign", "rf", "--sr", "--stage", "prod", "HEAD"),
        commit(2),
        run(3, "assign", "rf", "--sr", "--stage", "prod", "HEAD"),
        run(4, "assign", "rf", "--sr", "--stage", "prod", "HEAD~1", "--force"),
    ],
    # -- (b) re-registered versions --------------------------------------------------------
    "b-re-registered": [
        commit(0),
        raw(1, "a@v1.2.3", message=info_message("Registering artifact a version v1.2.3", 0.1)),
        run(2, "deprecate", "a", "v1.2.3"),
        raw(3, "a@v1.2.3#1", message=info_message("Registering artifact a version v1.2.3", 0.3)),
    ],
    "b-re-registered-by-gto": [
        commit(0),
        run(1, "register", "a", "--version", "v1.2.3"),
        run(2, "deprecate", "a", "v1.2.3"),
        run(3, "register", "a", "--version", "v1.2.3"),
        run(4, "assign", "a", "--version", "v1.2.3", "--stage", "prod"),
    ],
    "b-re-registered-in-one-second": [
        commit(0),
        raw(5, "a@v1.2.3", message=info_message("Registering artifact a version v1.2.3", 0.1)),
        raw(5, "a@v1.2.3#1", message=info_message("Registering artifact a version v1.2.3", 0.2)),
    ],
    # -- (c) lightweight tags --------------------------------------------------------------
    "c-lightweight-only": [
        commit(0),
        ["lightweight", "ghost@v1.0.0", "HEAD"],
        ["lightweight", "ghost#prod#1", "HEAD"],
        run(1, "register", "rf"),
    ],
    "c-lightweight-beside-annotated": [
        commit(0),
        run(1, "register", "rf"),
        commit(2),
        ["lightweight", "rf@v9.0.0", "HEAD"],
        ["lightweight", "rf#prod#7", "HEAD"],
        run(3, "assign", "rf", "--version", "v0.0.1", "--stage", "staging"),
    ],
    # -- (d) build metadata and pre-releases -------------------------------------------------
    "d-build-metadata-registered-last": [
        commit(0),
        run(1, "register", "a", "--version", "v1.0.0"),
        commit(2),
        run(3, "register", "a", "--version", "v1.0.0+build.1"),
    ],
    "d-build-metadata-registered-first": [
        commit(0),
        run(1, "register", "a", "--version", "v1.0.0+build.1"),
        commit(2),
        run(3, "register", "a", "--version", "v1.0.0"),
    ],
    "d-build-metadata-same-second": [
        commit(0),
        raw(4, "a@v1.0.0+build.2"),
        commit(1),
        raw(4, "a@v1.0.0+build.10"),
    ],
    "d-build-metadata-mixed": [
        commit(0),
        run(1, "register", "a", "--version", "v1.0.1+z"),
        commit(2),
        run(3, "register", "a", "--version", "v1.0.0+build.9"),
        commit(4),
        run(5, "register", "a", "--version", "v1.0.0-rc.1+exp.sha.5114f85"),
        commit(6),
        run(7, "register", "a", "--version", "v1.0.0+build.10"),
        commit(8),
        run(9, "register", "a", "--version", "v0.9.0"),
        run(10, "assign", "a", "--version", "v1.0.0+build.9", "--stage", "prod"),
    ],
    "d-prereleases": [
        commit(0),
        run(1, "register", "a", "--version", "v1.0.0-alpha"),
        commit(2),
        run(3, "register", "a", "--version", "v1.0.0-alpha.1"),
        commit(4),
        run(5, "register", "a", "--version", "v1.0.0-beta.11"),
        commit(6),
        run(7, "register", "a", "--version", "v1.0.0-beta.2"),
        commit(8),
        run(9, "register", "b", "--version", "v1.0.0-rc.1"),
        commit(10),
        run(11, "register", "b", "--version", "v0.9.9"),
    ],
    # -- (e) same-second events ------------------------------------------------------------
    "e-two-assignments-one-second": [
        commit(0),
        run(1, "register", "rf"),
        commit(2),
        run(3, "register", "rf"),
        run(5, "assign", "rf", "--version", "v0.0.2", "--stage", "prod"),
        run(5, "assign", "rf", "--version", "v0.0.1", "--stage", "prod"),
    ],
    "e-counters-ordered-as-names": [
        commit(0),
        raw(1, "rf@v0.0.1"),
        commit(2),
        raw(3, "rf@v0.0.2"),
        raw(5, "rf#prod#9", "HEAD"),
        raw(5, "rf#prod#10", "HEAD~1"),
    ],
    "e-assign-unassign-assign-one-second": [
        commit(0),
        run(1, "register", "rf"),
        run(5, "assign", "rf", "--version", "v0.0.1", "--stage", "prod"),
        run(5, "deprecate", "rf", "v0.0.1", "prod"),
        run(5, "assign", "rf", "--version", "v0.0.1", "--stage", "prod"),
    ],
    "e-deregister-re-register-one-second": [
        commit(0),
        run(1, "register", "rf"),
        run(5, "deprecate", "rf", "v0.0.1"),
        run(5, "register", "rf", "--version", "v0.0.1"),
    ],
    "e-register-and-assign-one-second": [
        commit(0),
        run(5, "register", "rf"),
        run(5, "assign", "rf", "--version", "v0.0.1", "--stage", "prod"),
        run(5, "deprecate", "rf"),
    ],
    # -- (f) artifacts.yaml ----------------------------------------------------------------
    "f-declared-never-tagged": [
        commit(0, "annotate", {"artifacts.yaml": ARTIFACTS}),
        run(1, "register", "churn"),
    ],
    "f-declared-and-staged-at-head": [
        commit(0, "annotate", {"artifacts.yaml": ARTIFACTS}),
        run(1, "assign", "segment", "--sr", "--stage", "dev", "HEAD"),
    ],
    "f-dvc-yaml-artifacts-are-not-gto-s": [
        commit(0, "dvc", {"dvc.yaml": "artifacts:\n  text-classifier:\n    path: model.pkl\n"}),
        run(1, "register", "rf"),
    ],
    "f-declared-then-removed": [
        commit(0, "annotate", {"artifacts.yaml": ARTIFACTS}),
        ["commit", 1, "remove", {"artifacts.yaml": "churn:\n  type: model\n"}],
    ],
    # -- GTO's test showcase (tests/conftest.py) -----------------------------------------------
    "gto-showcase": [
        commit(0, "Create models", {"models/rf.pkl": "1st", "models/nn.pkl": "1st"}),
        run(1, "register", "rf", "HEAD", "--version", "v1.2.3"),
        run(1, "register", "nn", "HEAD"),
        commit(2, "Update model", {"models/rf.pkl": "2nd"}),
        run(3, "register", "rf", "HEAD"),
        run(3, "assign", "nn", "--version", "v0.0.1", "--stage", "staging"),
        run(3, "assign", "rf", "--version", "v1.2.3", "--stage", "production"),
        run(4, "assign", "rf", "HEAD", "--stage", "staging"),
        run(5, "assign", "rf", "HEAD", "--stage", "production"),
        run(6, "assign", "rf", "--version", "v1.2.3", "--stage", "production", "--force"),
    ],
}

# iterative/example-gto, as its generator (iterative/example-repos-dev example-gto/generate.sh)
# builds it: one tag a step, STEP_TIME apart; `gto annotate` is now a hand-written
# artifacts.yaml.
_STEP = 100_000
_EXAMPLE: Steps = [
    commit(1 * _STEP, "Initialize Git repository with CI workflow", {"README.md": "# x\n"}),
    commit(2 * _STEP, "Create models", {"models/churn.pkl": "1st version\n"}),
    commit(
        3 * _STEP,
        "Annotate models with GTO",
        {
            "artifacts.yaml": (
                "churn:\n  type: model\n  path: models/churn.pkl\n"
                "segment:\n  type: model\n  path: s3://mycorp/proj-ml/segm-model-2022-04-15.pt\n"
                "cv-class:\n  type: model\n  path: s3://mycorp/proj-ml/classif-v2.pt\n"
            )
        },
    ),
    run(4 * _STEP, "register", "churn", "--version", "v3.0.0"),
    run(5 * _STEP, "register", "segment", "--version", "v0.4.1"),
    run(6 * _STEP, "register", "cv-class", "--version", "v0.1.13"),
    commit(7 * _STEP, "Update model", {"models/churn.pkl": "2nd version\n"}),
    run(8 * _STEP, "register", "churn", "--bump-minor"),
    run(9 * _STEP, "assign", "churn", "--version", "v3.0.0", "--stage", "dev"),
    run(10 * _STEP, "assign", "churn", "HEAD", "--stage", "staging"),
    run(11 * _STEP, "assign", "churn", "--version", "v3.0.0", "--stage", "prod"),
    run(12 * _STEP, "assign", "churn", "--version", "v3.1.0", "--stage", "dev"),
    run(12 * _STEP, "assign", "segment", "--version", "v0.4.1", "--stage", "dev"),
]
CASES["example-gto-main"] = _EXAMPLE
CASES["example-gto-mlem-branch"] = [
    *_EXAMPLE,
    ["checkout", "mlem"],
    commit(13 * _STEP, "Add MLEM model", {"models/mlem.txt": "mlem\n"}),
    run(14 * _STEP, "assign", "churn", "--stage", "dev", "HEAD"),
]


def gto_reads(repo: Path, steps: Steps) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(repo)],
        input=json.dumps(steps),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


# -- the mapping, defined once -------------------------------------------------------------


def _stages(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "stage": {k: v for k, v in state["stage"].items() if v}}


def _gto_versions(listed: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """`gto show NAME --json`, one entry per (version, commit): an unregistered commit may be
    listed several times by gto (one per stage tag), so its stages are merged."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for v in listed:
        key = (v["version"], v["commit_hexsha"])
        stages = {s["stage"] for s in v["stages"]}
        if v["registrations"]:
            # A version is what its first registration recorded (GTO's `ref` and `message`
            # are its newest's; GTO lists the registrations in the order it indexed them).
            first = v["registrations"][0]
            found[key] = {
                "ref": first["tag"],
                "created_at": first["created_at"],
                "stages": sorted(stages),
                "info": tags.parse_message(first["message"]),
            }
        else:
            old = found.get(key, {"stages": []})
            found[key] = {"stages": sorted(stages | set(old["stages"]))}
    return found


def gto_side(reads: dict[str, Any]) -> dict[str, Any]:
    return {
        "show": {n: _stages(s) for n, s in reads["show"].items()},
        "show_all": {n: _stages(s) for n, s in reads["show_all"].items()},
        "history": reads["history"],
        "versions": {n: _gto_versions(v) for n, v in reads["versions"].items()},
    }


def ours(repo: Path) -> dict[str, Any]:
    found = registry.models(cwd=repo)
    show_all = {}
    versions: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for name, m in found.items():
        latest = m.latest()
        show_all[name] = {
            "version": latest.version if latest else None,
            "stage": dict(m.stages),
            "registered": m.registered,
            "active": not m.deprecated,
        }
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for v in m.versions if not m.deprecated else []:
            if v.registered and v.active:
                rows[(v.version, v.commit)] = {
                    "ref": v.tag,
                    "created_at": v.date,
                    "stages": sorted(v.stages),
                    "info": v.info,
                }
            elif not v.registered:
                rows[(v.version, v.commit)] = {"stages": sorted(v.stages)}
        versions[name] = rows
    history = []
    for e in registry.history(found):
        event: dict[str, Any] = dict(registry.event_json(e))
        del event["run_url"]
        history.append(event)
    return {
        "show": {n: s for n, s in show_all.items() if s["active"]},
        "show_all": show_all,
        "history": history,
        "versions": versions,
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_models_agree_with_gto(case: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    theirs = gto_side(gto_reads(repo, CASES[case]))
    mine = ours(repo)
    for key in ("show", "show_all", "versions", "history"):
        assert mine[key] == theirs[key], f"{case}: {key} differs"
