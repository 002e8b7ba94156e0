"""Conformance: `mlops-actions compare --json` prints what DVC prints, scenario by scenario.

Each case builds a small project with real git and real dvc: the base commit on `main`, then
changes on branch `pr` (committed or left in the workspace). From the case's working directory
it then asserts

    compare --json [--all] --base main
      == {"metrics": <dvc metrics diff --json [--all] main>,
          "params":  <dvc params diff --json [--all] main>}

The scenarios follow DVC's own functional tests (tests/func/metrics/test_diff.py,
tests/func/metrics/test_show.py, tests/func/params/test_diff.py, tests/func/params/test_show.py
in iterative/dvc): what DVC collects (dvc.yaml top-level `metrics:`/`params:`, stage outputs,
params dependencies, `vars`, foreach/matrix, every dvc.yaml in the repo), where it reads a value
from (git, the workspace, the local cache, the remote), and how it diffs it.

A case that today's implementation gets wrong is marked xfail(strict=True) with the category and
what differs: fixing it makes the case XPASS, and the mark must then go.

Speed: a project is a copy of one `dvc init`-ed template; the dvc commands a case needs (dvc
commit/add/push to write dvc.lock, .dvc files and the cache) run in one Python process per
phase, and the four diffs in one more (tests/dvc_batch.py: dvc's own CLI entry point, once per
command). test_batch_prints_what_separate_dvc_processes_print checks that batching changes
nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from tests.helpers import GIT_ENV, commit_all, dvc, git, init_repo

Files = dict[str, Any]  # path -> text, a mapping (written as JSON), or None (delete)
Command = tuple[str, ...]  # dvc arguments; "{remote}" stands for the case's remote directory

ROOT = Path(__file__).resolve().parent.parent
COMMIT_ALL: Command = ("commit", "-f", "-q")  # record every stage's outputs in dvc.lock + cache
PUSH: tuple[Command, ...] = (("remote", "add", "-d", "store", "{remote}"), ("push", "-q"))


@dataclass(frozen=True)
class Case:
    """One scenario. Phases: write `base`, run `base_dvc`, (drop the cache), commit on main;
    branch pr, write `change`, run `change_dvc`, (commit), write `after`; (clone); diff."""

    id: str
    base: Files
    change: Files = field(default_factory=dict)
    base_dvc: tuple[Command, ...] = ()
    change_dvc: tuple[Command, ...] = ()
    commit_change: bool = False
    after: Files = field(default_factory=dict)
    drop_cache: bool = False  # delete .dvc/cache once main is committed (the remote keeps it)
    clone: bool = False  # diff in a fresh `git clone` of the repo: no cache, only the remote
    cwd: str = "."
    base_ref: str | None = "main"  # None: neither tool is given a revision (DVC: HEAD)
    metrics_targets: tuple[str, ...] = ()  # `dvc metrics diff --targets`
    ours: tuple[str, ...] = ()  # extra arguments to our compare
    dvc_init: bool = True
    no_commits: bool = False
    # Paths DVC's `--all` output must show: a guard against two empty results agreeing.
    shows: tuple[str, ...] = ()


class Mismatch(AssertionError):
    """Our JSON differs from DVC's. Only this is expected of an xfail case: a scenario that
    cannot be built, or that does not show what it should, still fails."""


def xfail(case: Case, reason: str) -> Any:
    mark = pytest.mark.xfail(strict=True, raises=Mismatch, reason=reason)
    return pytest.param(case, id=case.id, marks=mark)


def ok(case: Case) -> Any:
    return pytest.param(case, id=case.id)


PARAMS = "lr: 0.1\nepochs: 10\n"
STAGE_CACHED = "stages:\n  train:\n    cmd: echo\n    params: [lr]\n    metrics:\n"

CASES = [
    # --- git-tracked metrics and params (dvc.yaml declares them) -------------------------------
    ok(
        Case(
            "git/basic",
            {"dvc.yaml": "metrics: [m.json]\n", "m.json": {"acc": 0.9, "loss": 0.3}},
            {"m.json": {"acc": 0.95, "loss": 0.3}},
            shows=("m.json",),
        )
    ),
    ok(
        Case(
            "git/nested-yaml-with-string",
            {"dvc.yaml": "metrics: [m.yaml]\n", "m.yaml": "a:\n  b: {c: 1, d: 1, e: '1'}\n"},
            {"m.yaml": "a:\n  b: {c: 3, d: 1, e: '3'}\n"},
            shows=("m.yaml",),
        )
    ),
    ok(
        Case(
            "git/nested-json-committed-on-branch",
            {"dvc.yaml": "metrics: [m.json]\n", "m.json": {"a": {"b": {"c": 1, "d": 1}}}},
            {"m.json": {"a": {"b": {"c": 2, "d": 1}}}},
            commit_change=True,
            shows=("m.json",),
        )
    ),
    ok(
        Case(
            "git/committed-then-dirty",
            {"dvc.yaml": "metrics: [m.yaml]\n", "m.yaml": "3\n"},
            {"m.yaml": "5\n"},
            commit_change=True,
            after={"m.yaml": "4\n"},  # the workspace moves on after the branch's commit
            shows=("m.yaml",),
        )
    ),
    ok(
        Case(
            "git/metrics-file-added",
            {"dvc.yaml": "metrics: [m.json]\n"},
            {"m.json": {"a": {"b": {"c": 1, "d": 1, "e": "3"}}}},
            shows=("m.json",),
        )
    ),
    ok(
        Case(
            "git/metrics-file-and-declaration-added",
            {"params.yaml": PARAMS},
            {"dvc.yaml": "metrics: [m.json]\n", "m.json": {"acc": 0.5}},
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "git/metrics-file-deleted",
            {"dvc.yaml": "metrics: [m.json]\n", "m.json": {"a": {"c": 1, "e": "3"}}},
            {"m.json": None},
            shows=("m.json",),
        )
    ),
    ok(
        Case(
            "git/uncached-metrics-file-deleted",  # `cache: false`: git keeps it, no DVC cache
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json:\n          cache: false\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1, "b": 2},
            },
            {"m.json": None},
            base_dvc=(COMMIT_ALL,),
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "git/uncached-metrics-file-deleted-lock-committed",
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json:\n          cache: false\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1, "b": 2},
            },
            {"m.json": None},
            base_dvc=(COMMIT_ALL,),
            commit_change=True,
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "git/unchanged",
            {
                "dvc.yaml": "metrics: [m.yaml]\nparams: [params.yaml]\n",
                "m.yaml": "foo: 1\nxyz: 10\n",
                "params.yaml": PARAMS,
            },
            {"m.yaml": "foo: 1\nxyz: 10\n"},
            shows=("m.yaml", "params.yaml"),
        )
    ),
    ok(
        Case(
            "git/keys-added-and-removed",
            {"dvc.yaml": "metrics: [m.json]\n", "m.json": {"a": 1, "gone": 2, "n": {"x": 1}}},
            {"m.json": {"a": 1, "new": 3, "n": {"x": 1, "y": 2}}},
            shows=("m.json",),
        )
    ),
    ok(
        Case(
            "git/strings",
            {"dvc.yaml": "metrics: [m.json]\n", "m.json": {"model": "rf", "n": "1", "s": "x"}},
            {"m.json": {"model": "gb", "n": 1, "s": "x"}},
            shows=("m.json",),
        )
    ),
    ok(
        Case(
            "git/booleans",
            {
                "dvc.yaml": "metrics: [m.json]\n",
                "m.json": {"ok": True, "b2i": True, "i2b": 1, "same": False},
            },
            {"m.json": {"ok": False, "b2i": 3, "i2b": True, "same": False}},
            shows=("m.json",),
        )
    ),
    ok(
        Case(
            "git/lists-and-null-metrics",
            {
                "dvc.yaml": "metrics: [m.json]\n",
                "m.json": {"cm": [[1, 2], [3, 4]], "none": None, "acc": 0.5, "empty": {}},
            },
            {"m.json": {"cm": [[1, 2], [3, 5]], "none": 1, "acc": None, "empty": {"x": 1}}},
            shows=("m.json",),
        )
    ),
    ok(
        Case(
            "git/params-lists-null-strings",
            {
                "dvc.yaml": "params: [p.yaml]\n",
                "p.yaml": "foo: [bar, baz]\nnest: {bar: baz}\nopt: null\nname: a\nlayers: [1]\n",
            },
            {"p.yaml": "foo: [bar, baz, qux]\nnest: {bar: qux}\nopt: 1\nname: b\nlayers: [1]\n"},
            shows=("p.yaml",),
        )
    ),
    ok(
        Case(
            "git/bare-value-file",
            {"dvc.yaml": "metrics: [m.yaml, s.json]\n", "m.yaml": "1\n", "s.json": "0.5"},
            {"m.yaml": "3\n", "s.json": {"s": 1}},
            shows=("m.yaml", "s.json"),
        )
    ),
    ok(
        Case(
            "git/full-float-precision",
            {"dvc.yaml": "metrics: [m.yaml]\n", "m.yaml": "foo: 1.23456789\n"},
            {"m.yaml": "foo: 3.45678910111213\n"},
            shows=("m.yaml",),
        )
    ),
    ok(
        Case(
            "git/yaml-1.2-scalars",
            {"dvc.yaml": "params: [p.yaml]\n", "p.yaml": "lr: 1e-3\nflag: yes\nhex: 0x10\n"},
            {"p.yaml": "lr: 1.0e-2\nflag: no\nhex: 0x11\n"},
            shows=("p.yaml",),
        )
    ),
    ok(
        Case(
            "git/toml-metrics",
            {"dvc.yaml": "metrics: [m.toml]\n", "m.toml": "[foo]\nbar = 1.2\n"},
            {"m.toml": "[foo]\nbar = 1.5\n"},
            shows=("m.toml",),
        )
    ),
    ok(
        Case(
            "git/stage-uncached-metrics-and-params-subset",
            {
                "dvc.yaml": "stages:\n  train:\n    cmd: echo\n    params: [foo, xyz]\n"
                "    metrics:\n      - m.json:\n          cache: false\n",
                "params.yaml": "foo: bar\nxyz: val\nabc: 1\n",
                "m.json": {"acc": 1},
            },
            {"params.yaml": "foo: qux\nxyz: val\nabc: 2\n", "m.json": {"acc": 2}},
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "git/params-file-deleted",
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [foo]\n",
                "params.yaml": "foo: bar\n",
            },
            {"params.yaml": None},
            shows=("params.yaml",),
        )
    ),
    ok(
        Case(
            "git/stage-with-other-params-removed",
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [foo, other.yaml: [xyz]]\n",
                "params.yaml": "foo: bar\n",
                "other.yaml": "xyz: val\nq: 1\n",
            },
            {"dvc.yaml": "stages: {}\n", "other.yaml": "xyz: val2\nq: 1\n"},
            shows=("other.yaml", "params.yaml"),
        )
    ),
    ok(
        Case(
            "git/no-dvc-init",  # DVC reads a plain git repo too (uninitialized)
            {"dvc.yaml": "metrics: [m.json]\n", "m.json": {"a": 1}},
            {"m.json": {"a": 2}},
            dvc_init=False,
            shows=("m.json",),
        )
    ),
    # --- our defaults: no dvc.yaml; we read params.yaml and train.metrics (metrics.json) ------
    # DVC reads no metrics file it is not told of, so its metrics diff gets `--targets`.
    ok(
        Case(
            "defaults/metrics-json-and-params-yaml",
            {"params.yaml": PARAMS, "metrics.json": {"acc": 0.8, "f1": 0.7}},
            {"params.yaml": PARAMS.replace("10", "20"), "metrics.json": {"acc": 0.9, "f1": 0.7}},
            metrics_targets=("metrics.json",),
            shows=("metrics.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "defaults/train-metrics-setting",
            {
                "params.yaml": "mlops: {train: {metrics: eval/m.json}}\n",
                "eval/m.json": {"acc": 0.8},
            },
            {"eval/m.json": {"acc": 0.7}},
            metrics_targets=("eval/m.json",),
            shows=("eval/m.json", "params.yaml"),
        )
    ),
    # --- base values of cached stage outputs (dvc.lock names the md5) --------------------------
    ok(
        Case(
            "cached/local-cache",
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
            },
            {"m.json": {"a": 2}},
            base_dvc=(COMMIT_ALL,),
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/local-cache-both-sides-committed",
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
            },
            {"m.json": {"a": 2}, "params.yaml": "lr: 0.2\nepochs: 10\n"},
            base_dvc=(COMMIT_ALL,),
            change_dvc=(COMMIT_ALL,),
            commit_change=True,
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/remote-only",
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
            },
            {"m.json": {"a": 2}},
            base_dvc=(COMMIT_ALL, *PUSH),
            drop_cache=True,
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/fresh-clone",  # both sides come from the remote: the clone has no m.json
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
            },
            {"m.json": {"a": 2}},
            base_dvc=(COMMIT_ALL, *PUSH),
            change_dvc=(COMMIT_ALL, ("push", "-q")),
            commit_change=True,
            clone=True,
            base_ref="origin/main",
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/output-directory",
            {
                "dvc.yaml": STAGE_CACHED + "      - eval\n",
                "params.yaml": PARAMS,
                "eval/a.json": {"acc": 0.5},
                "eval/b.yaml": "loss: 0.3\n",
            },
            {"eval/a.json": {"acc": 0.6}, "eval/c.json": {"new": 1}},
            base_dvc=(COMMIT_ALL,),
            shows=("eval/a.json", "eval/b.yaml", "eval/c.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/output-directory-file-deleted",
            {
                "dvc.yaml": STAGE_CACHED + "      - eval\n",
                "params.yaml": PARAMS,
                "eval/a.json": {"acc": 0.5},
                "eval/b.yaml": "loss: 0.3\n",
            },
            {"eval/a.json": None},
            base_dvc=(COMMIT_ALL,),
            shows=("eval/a.json", "eval/b.yaml", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/output-directory-deleted",
            {
                "dvc.yaml": STAGE_CACHED + "      - eval\n",
                "params.yaml": PARAMS,
                "eval/a.json": {"acc": 0.5},
            },
            {"eval/a.json": None},
            base_dvc=(COMMIT_ALL,),
            after={"eval": None},
            shows=("eval/a.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/output-directory-remote-only",
            {
                "dvc.yaml": STAGE_CACHED + "      - eval\n",
                "params.yaml": PARAMS,
                "eval/a.json": {"acc": 0.5},
            },
            {"eval/a.json": {"acc": 0.6}},
            base_dvc=(COMMIT_ALL, *PUSH),
            drop_cache=True,
            shows=("eval/a.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/dvc-add-file-declared-as-metrics-deleted",
            {"dvc.yaml": "metrics: [m.yaml]\n", "m.yaml": "foo: 3\nbar: 10\n"},
            {"m.yaml": None},
            base_dvc=(("add", "-q", "m.yaml"),),
            shows=("m.yaml",),
        )
    ),
    ok(
        Case(
            "cached/dvc-add-file-declared-as-metrics",
            {"dvc.yaml": "metrics: [m.yaml]\n", "m.yaml": "foo: 3\nbar: 10\n"},
            {"m.yaml": "foo: 4\nbar: 10\n"},
            base_dvc=(("add", "-q", "m.yaml"),),
            shows=("m.yaml",),
        )
    ),
    ok(
        Case(
            "cached/dvc-add-dirs-declared-as-metrics-remote-only",
            {
                "dvc.yaml": "metrics: [dir/metrics.yaml, dir2]\n",
                "dir/metrics.yaml": "foo: 3\nbar: 10\n",
                "dir2/metrics.yaml": "foo: 42\nbar: 4\n",
            },
            {"dir/metrics.yaml": "foo: 4\nbar: 10\n", "dir2/metrics.yaml": "foo: 43\nbar: 4\n"},
            base_dvc=(("add", "-q", "dir", "dir2"), *PUSH),
            drop_cache=True,
            shows=("dir/metrics.yaml", "dir2/metrics.yaml"),
        )
    ),
    ok(
        Case(
            "cached/dvc-add-dirs-declared-as-params-remote-only",
            {
                "dvc.yaml": "params: [dir/params.yaml, dir2]\n",
                "dir/params.yaml": "foo: 3\nbar: 10\n",
                "dir2/params.yaml": "foo: 42\nbar: 4\n",
            },
            {"dir/params.yaml": "foo: 4\nbar: 10\n", "dir2/params.yaml": "foo: 43\nbar: 4\n"},
            base_dvc=(("add", "-q", "dir", "dir2"), *PUSH),
            drop_cache=True,
            shows=("dir/params.yaml", "dir2/params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/workspace-file-absent",  # both sides read the cache: unchanged
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
            },
            {"m.json": None},
            base_dvc=(COMMIT_ALL,),
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/workspace-file-absent-new-lock",
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
            },
            {"m.json": {"a": 2}},
            base_dvc=(COMMIT_ALL,),
            change_dvc=(COMMIT_ALL,),
            after={"m.json": None},
            shows=("m.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "cached/object-nowhere",  # the base's md5 is in no cache and no remote
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
            },
            {"m.json": {"a": 2}},
            base_dvc=(COMMIT_ALL,),
            drop_cache=True,
            shows=("m.json", "params.yaml"),
        )
    ),
    # --- dvc.yaml files in subdirectories: DVC reads every one ---------------------------------
    ok(
        Case(
            "subdir-dvcyaml/stage-metrics-and-params",
            {
                "sub/dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [p]\n"
                "    metrics:\n      - m.json:\n          cache: false\n",
                "sub/params.yaml": "p: 1\nq: 2\n",
                "sub/m.json": {"z": 1},
            },
            {"sub/params.yaml": "p: 2\nq: 3\n", "sub/m.json": {"z": 2}},
            shows=("sub/m.json", "sub/params.yaml"),
        )
    ),
    ok(
        Case(
            "subdir-dvcyaml/top-level-metrics-beside",
            {"dir/dvc.yaml": "metrics: [my_metrics.yaml]\n", "dir/my_metrics.yaml": "foo: 3\n"},
            {"dir/my_metrics.yaml": "foo: 5\n"},
            shows=("dir/my_metrics.yaml",),
        )
    ),
    ok(
        Case(
            "subdir-dvcyaml/top-level-metrics-in-parent",
            {"dir/dvc.yaml": "metrics: [../my_metrics.yaml]\n", "my_metrics.yaml": "foo: 3\n"},
            {"my_metrics.yaml": "foo: 5\n"},
            shows=("my_metrics.yaml",),
        )
    ),
    ok(
        Case(
            "subdir-dvcyaml/root-and-sub-with-cached-output",
            {
                "dvc.yaml": "metrics: [top.json]\n",
                "top.json": {"t": 1},
                "sub/dvc.yaml": "stages:\n  s:\n    cmd: echo\n    metrics: [m.json]\n",
                "sub/m.json": {"z": 1},
            },
            {"top.json": {"t": 2}, "sub/m.json": {"z": 2}},
            base_dvc=(COMMIT_ALL,),
            shows=("sub/m.json", "top.json"),
        )
    ),
    ok(
        Case(
            "subdir-dvcyaml/wdir",
            {
                "dvc.yaml": "stages:\n  s:\n    wdir: sub\n    cmd: echo\n    params: [p]\n"
                "    metrics:\n      - sm.json:\n          cache: false\n",
                "sub/params.yaml": "p: 1\n",
                "sub/sm.json": {"z": 1},
            },
            {"sub/params.yaml": "p: 2\n", "sub/sm.json": {"z": 2}},
            shows=("sub/params.yaml", "sub/sm.json"),
        )
    ),
    # --- templating: foreach, matrix, vars, ${...} ---------------------------------------------
    ok(
        Case(
            "templating/foreach-over-a-vars-file",  # DVC shows the vars file as params
            {
                "test_params.yaml": "vars:\n  model1: {epoch: 15}\n  model2: {epoch: 35}\n",
                "dvc.yaml": "vars: [test_params.yaml]\nstages:\n  build:\n"
                "    foreach: ${vars}\n    do:\n      cmd: script --epoch ${item.epoch}\n",
            },
            {"test_params.yaml": "vars:\n  model1: {epoch: 20}\n  model2: {epoch: 35}\n"},
            shows=("test_params.yaml",),
        )
    ),
    ok(
        Case(
            "templating/foreach-metrics-paths",
            {
                "dvc.yaml": "stages:\n  train:\n    foreach: [a, b]\n    do:\n      cmd: echo\n"
                "      metrics:\n        - ${item}/m.json:\n            cache: false\n",
                "a/m.json": {"acc": 1},
                "b/m.json": {"acc": 2},
            },
            {"a/m.json": {"acc": 3}},
            shows=("a/m.json", "b/m.json"),
        )
    ),
    ok(
        Case(
            "templating/matrix-params-and-metrics",
            {
                "params.yaml": "rf: {lr: 1}\ngb: {lr: 2}\nother: 0\n",
                "dvc.yaml": "stages:\n  train:\n    matrix:\n      model: [rf, gb]\n"
                "    cmd: echo\n    params:\n      - ${item.model}.lr\n"
                "    metrics:\n      - ${item.model}.json:\n          cache: false\n",
                "rf.json": {"acc": 1},
                "gb.json": {"acc": 2},
            },
            {"params.yaml": "rf: {lr: 3}\ngb: {lr: 2}\nother: 1\n", "gb.json": {"acc": 4}},
            shows=("gb.json", "params.yaml", "rf.json"),
        )
    ),
    ok(
        Case(
            "templating/top-level-metrics-from-params",
            {
                "params.yaml": "metric_file: metrics.yaml\n",
                "dvc.yaml": "metrics: ['${metric_file}']\n",
                "metrics.yaml": "foo: 3\nbar: 10\n",
            },
            {"metrics.yaml": "foo: 4\nbar: 10\n"},
            shows=("metrics.yaml", "params.yaml"),
        )
    ),
    ok(
        Case(
            "templating/top-level-params-from-params",
            {
                "params.yaml": "param_file: param.json\n",
                "dvc.yaml": "params: ['${param_file}']\n",
                "param.json": {"foo": 3, "bar": 10},
            },
            {"param.json": {"foo": 4, "bar": 10}},
            shows=("param.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "templating/metrics-path-changes-with-params",
            {
                "params.yaml": "out: a.json\n",
                "dvc.yaml": "metrics: ['${out}']\n",
                "a.json": {"acc": 1},
                "b.json": {"acc": 2},
            },
            {"params.yaml": "out: b.json\n"},
            shows=("a.json", "b.json", "params.yaml"),
        )
    ),
    ok(
        Case(
            "templating/inline-vars",
            {
                "dvc.yaml": "vars:\n  - out: res.json\n    cfg: conf.yaml\nstages:\n  s:\n"
                "    cmd: echo\n    params: [{'${cfg}': [lr]}]\n"
                "    metrics:\n      - ${out}:\n          cache: false\n",
                "res.json": {"acc": 1},
                "conf.yaml": "lr: 1\nother: 1\n",
            },
            {"res.json": {"acc": 2}, "conf.yaml": "lr: 2\nother: 2\n"},
            shows=("conf.yaml", "res.json"),
        )
    ),
    # --- params files: formats, directories, keys vs whole files -------------------------------
    ok(
        Case(
            "params-formats/py",
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n"
                "    params: [{params.py: [CONST, IS_DIR, Config.foo]}]\n",
                "params.py": "CONST = 1\nIS_DIR: bool = True\nOTHER = 5\n\n\n"
                "class Config:\n    foo = 42\n    bar = 1\n",
            },
            {
                "params.py": "CONST = 2\nIS_DIR: bool = False\nOTHER = 6\n\n\n"
                "class Config:\n    foo = 43\n    bar = 2\n"
            },
            shows=("params.py",),
        )
    ),
    ok(
        Case(
            "params-formats/py-whole-file",
            {"dvc.yaml": "params: [params.py]\n", "params.py": "A = 1\nB = 'x'\nC = [1, 2]\n"},
            {"params.py": "A = 2\nB = 'y'\nC = [1, 3]\n"},
            shows=("params.py",),
        )
    ),
    ok(
        Case(
            "params-formats/toml",
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [{params.toml: [foo]}]\n",
                "params.toml": "top = 1\n[foo]\nbar = 42\nbaz = [1, 2]\n",
            },
            {"params.toml": "top = 2\n[foo]\nbar = 43\nbaz = [1, 3]\n"},
            shows=("params.toml",),
        )
    ),
    ok(
        Case(
            "params-formats/json-whole-file",
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [{other.json: null}]\n",
                "other.json": {"foo": {"bar": "bar"}, "x": "0", "n": 1},
            },
            {"other.json": {"foo": {"bar": "baz"}, "x": "0", "n": 2}},
            shows=("other.json",),
        )
    ),
    ok(
        Case(
            "params-formats/yaml-keys-vs-whole",
            {
                "dvc.yaml": "stages:\n  a:\n    cmd: echo\n    params: [{k.yaml: [k1, nest.k2]}]\n"
                "  b:\n    cmd: echo\n    params: [{w.yaml: null}, {m.yaml: [x]}]\n"
                "  c:\n    cmd: echo\n    params: [{m.yaml: null}]\n",
                "k.yaml": "k1: 1\nk3: 9\nnest: {k2: 2, k4: 4}\n",
                "w.yaml": "a: 1\nb: 2\n",
                "m.yaml": "x: 1\ny: 2\n",
            },
            {
                "k.yaml": "k1: 2\nk3: 8\nnest: {k2: 3, k4: 5}\n",
                "w.yaml": "a: 2\nb: 3\n",
                "m.yaml": "x: 2\ny: 3\n",
            },
            shows=("k.yaml", "m.yaml", "w.yaml"),
        )
    ),
    ok(
        Case(
            "params-formats/git-tracked-directory",
            {
                "dvc.yaml": "params: [conf]\n",
                "conf/a.yaml": "lr: 1\n",
                "conf/b.json": {"depth": 3},
                "conf/deep/c.toml": "x = 1\n",
            },
            {"conf/a.yaml": "lr: 2\n", "conf/deep/c.toml": "x = 2\n", "conf/new.yaml": "n: 1\n"},
            shows=("conf/a.yaml", "conf/b.json", "conf/deep/c.toml", "conf/new.yaml"),
        )
    ),
    ok(
        Case(
            "params-formats/stage-params-directory",
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [{conf: null}]\n",
                "conf/a.yaml": "lr: 1\n",
                "conf/b.yaml": "d: 1\n",
            },
            {"conf/a.yaml": "lr: 2\n"},
            shows=("conf/a.yaml", "conf/b.yaml"),
        )
    ),
    # --- running from a subdirectory of the repo -----------------------------------------------
    ok(
        Case(
            "cwd-subdir/project-at-root",
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [lr]\n"
                "    metrics:\n      - m.json:\n          cache: false\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
                "data/.keep": "",
            },
            {"params.yaml": "lr: 0.2\nepochs: 10\n", "m.json": {"a": 2}},
            cwd="data",
            shows=("../m.json", "../params.yaml"),
        )
    ),
    ok(
        Case(
            "cwd-subdir/project-at-root-params-named",
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [lr]\n"
                "    metrics:\n      - m.json:\n          cache: false\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
                "data/.keep": "",
            },
            {"params.yaml": "lr: 0.2\nepochs: 10\n", "m.json": {"a": 2}},
            cwd="data",
            ours=("--params", "../params.yaml"),
            shows=("../m.json", "../params.yaml"),
        )
    ),
    ok(
        Case(
            "cwd-subdir/vars-file",
            {
                "test_params.yaml": "vars:\n  model1: {epoch: 15}\n",
                "dvc.yaml": "vars: [test_params.yaml]\nstages:\n  build:\n"
                "    foreach: ${vars}\n    do:\n      cmd: script --epoch ${item.epoch}\n",
                "data/.keep": "",
            },
            {"test_params.yaml": "vars:\n  model1: {epoch: 20}\n"},
            cwd="data",
            shows=("../test_params.yaml",),
        )
    ),
    ok(
        Case(
            "cwd-subdir/inside-a-subproject-dvcyaml",
            {
                "ml/dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [p]\n"
                "    metrics:\n      - m.json:\n          cache: false\n",
                "ml/params.yaml": "p: 1\n",
                "ml/m.json": {"z": 1},
                "top.yaml": "t: 1\n",
                "dvc.yaml": "metrics: [top.yaml]\n",
            },
            {"ml/params.yaml": "p: 2\n", "ml/m.json": {"z": 2}, "top.yaml": "t: 2\n"},
            cwd="ml",
            shows=("../top.yaml", "m.json", "params.yaml"),
        )
    ),
    # --- a repository with no commits: DVC prints {} -------------------------------------------
    ok(
        Case(
            "no-commits/dvcyaml",
            {"dvc.yaml": "metrics: [m.json]\nparams: [params.yaml]\n", "m.json": {"a": 1}},
            no_commits=True,
            base_ref=None,
        )
    ),
    ok(
        Case(
            "no-commits/base-named",  # DVC prints {} whatever revision is named
            {"dvc.yaml": "metrics: [m.json]\nparams: [params.yaml]\n", "m.json": {"a": 1}},
            no_commits=True,
            base_ref="main",
        )
    ),
    ok(
        Case(
            "no-commits/defaults",
            {"params.yaml": PARAMS, "metrics.json": {"a": 1}},
            no_commits=True,
            base_ref=None,
            metrics_targets=("metrics.json",),
        )
    ),
    # --- a git-tracked metrics.json that no dvc.yaml declares: DVC ignores it ------------------
    ok(
        Case(
            "undeclared/metrics-json-beside-declared",
            {"dvc.yaml": "metrics: [m.yaml]\n", "m.yaml": "a: 1\n", "metrics.json": {"acc": 1}},
            {"m.yaml": "a: 2\n", "metrics.json": {"acc": 2}},
            shows=("m.yaml",),
        )
    ),
    ok(
        Case(
            "undeclared/metrics-json-with-params-only-pipeline",
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [lr]\n",
                "params.yaml": PARAMS,
                "metrics.json": {"acc": 1},
            },
            {"params.yaml": "lr: 0.3\nepochs: 10\n", "metrics.json": {"acc": 2}},
            shows=("params.yaml",),
        )
    ),
    ok(
        Case(
            "undeclared/train-metrics-setting-not-declared",
            {
                "dvc.yaml": "metrics: [m.yaml]\n",
                "params.yaml": "mlops: {train: {metrics: eval.json}}\n",
                "m.yaml": "a: 1\n",
                "eval.json": {"acc": 1},
            },
            {"m.yaml": "a: 2\n", "eval.json": {"acc": 2}},
            shows=("m.yaml", "params.yaml"),
        )
    ),
    # --- errors: unparseable files (JSON output only; DVC warns on stderr) ---------------------
    ok(
        Case(
            "errors/unparseable-metrics-in-workspace",
            {"dvc.yaml": "metrics: [m.json]\n", "m.json": {"a": {"b": {"c": 1, "d": 1}}}},
            {"m.json": json.dumps({"a": {"b": {"c": 1, "d": 1}}}) + "ma\nlformed\n"},
            shows=("m.json",),
        )
    ),
    ok(
        Case(
            "errors/unparseable-metrics-at-base",
            {
                "dvc.yaml": "metrics: [m.yaml, ok.json]\n",
                "m.yaml": "acc: [0.7\n",
                "ok.json": {"x": 1},
            },
            {"m.yaml": "acc: 0.8\n", "ok.json": {"x": 2}},
            shows=("m.yaml", "ok.json"),
        )
    ),
    ok(
        Case(
            "errors/unparseable-metrics-both-sides",
            {"dvc.yaml": "metrics: [m.json, ok.json]\n", "m.json": "{", "ok.json": {"x": 1}},
            {"m.json": '{"a":', "ok.json": {"x": 2}},
            shows=("ok.json",),
        )
    ),
    ok(
        Case(
            "errors/unparseable-params-in-workspace",
            {
                "dvc.yaml": "params: [p.json]\nmetrics: [m.json]\n",
                "p.json": {"a": 1},
                "m.json": {"x": 1},
            },
            {"p.json": '{"a": 2', "m.json": {"x": 2}},
            shows=("m.json", "p.json"),
        )
    ),
    ok(
        Case(
            "errors/malformed-dvcyaml-in-workspace",
            {"dvc.yaml": "metrics: [m.yaml]\n", "m.yaml": "m: 1.1\n"},
            {"dvc.yaml": "metrics: [m.yaml]\n\nMALFORMED!\n", "m.yaml": "m: 1.2\n"},
            shows=("m.yaml",),
        )
    ),
    ok(
        Case(
            "errors/cached-output-unparseable-in-workspace",
            {
                "dvc.yaml": STAGE_CACHED + "      - m.json\n",
                "params.yaml": PARAMS,
                "m.json": {"a": 1},
            },
            {"m.json": "{oops"},
            base_dvc=(COMMIT_ALL,),
            shows=("m.json", "params.yaml"),
        )
    ),
]


# --- building a case --------------------------------------------------------------------------


def write(repo: Path, files: Files) -> None:
    for name, content in files.items():
        path = repo / name
        if content is None:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))


def dvc_batch(commands: list[tuple[Path, Command]]) -> list[tuple[int, str, str]]:
    """Each (cwd, args) through dvc's CLI, all in one process: [(returncode, stdout, stderr)]."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.dvc_batch"],
        input=json.dumps([[str(cwd), list(args)] for cwd, args in commands]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **GIT_ENV, "DVC_NO_ANALYTICS": "1", "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    return [tuple(r) for r in json.loads(proc.stdout)]  # type: ignore[misc]


def run_dvc(repo: Path, commands: tuple[Command, ...], remote: Path) -> None:
    if not commands:
        return
    resolved = [tuple(a.replace("{remote}", str(remote)) for a in c) for c in commands]
    for args, (code, out, err) in zip(
        resolved, dvc_batch([(repo, c) for c in resolved]), strict=True
    ):
        assert code == 0, f"dvc {' '.join(args)}: {err}{out}"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repo with `dvc init` done and nothing committed."""
    repo = init_repo(tmp_path_factory.mktemp("conformance") / "repo")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    return repo


def build(case: Case, template: Path, tmp_path: Path) -> Path:
    """The case's project; returns the directory both tools run from."""
    repo = tmp_path / "repo"
    remote = tmp_path / "remote"
    shutil.copytree(template, repo, symlinks=True)
    if not case.dvc_init:
        shutil.rmtree(repo / ".dvc")
        (repo / ".dvcignore").unlink()
    write(repo, case.base)
    run_dvc(repo, case.base_dvc, remote)
    if case.no_commits:
        return repo / case.cwd
    commit_all(repo, "base")
    if case.drop_cache:
        shutil.rmtree(repo / ".dvc" / "cache")
    git(repo, "checkout", "-q", "-b", "pr")
    write(repo, case.change)
    run_dvc(repo, case.change_dvc, remote)
    if case.commit_change:
        commit_all(repo, "pr")
    write(repo, case.after)
    if case.clone:
        clone = tmp_path / "clone"
        git(tmp_path, "clone", "-q", str(repo), str(clone))
        repo = clone
    return repo / case.cwd


def dvc_diffs(cwd: Path, case: Case) -> dict[bool, dict[str, Any]]:
    """{all: {"metrics": ..., "params": ...}} as `dvc metrics/params diff --json` print them."""
    targets = ("--targets", *case.metrics_targets) if case.metrics_targets else ()
    rev = (case.base_ref,) if case.base_ref else ()
    commands: list[tuple[Path, Command]] = []
    for all_ in (True, False):
        flag = ("--all",) if all_ else ()
        commands.append((cwd, ("metrics", "diff", "--json", *flag, *targets, *rev)))
        commands.append((cwd, ("params", "diff", "--json", *flag, *rev)))
    results = iter(dvc_batch(commands))
    out: dict[bool, dict[str, Any]] = {}
    for all_ in (True, False):
        out[all_] = {}
        for kind in ("metrics", "params"):
            code, stdout, stderr = next(results)
            assert code == 0, f"dvc {kind} diff: {stderr}"
            out[all_][kind] = json.loads(stdout or "{}")
    return out


def ours(capsys: pytest.CaptureFixture[str], case: Case, all_: bool) -> dict[str, Any]:
    flag = ["--all"] if all_ else []
    base = ["--base", case.base_ref] if case.base_ref else []
    code = cli.main(["compare", "--json", *flag, *base, *case.ours])
    out, err = capsys.readouterr()
    if code != 0:  # a crash is a mismatch too: DVC printed its JSON
        raise Mismatch(f"compare exited {code}: {err}")
    result: dict[str, Any] = json.loads(out)
    return result


# --- the conformance table ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_compare_json_equals_dvc(
    case: Case,
    template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cwd = build(case, template, tmp_path)
    theirs = dvc_diffs(cwd, case)
    shown = sorted({path for section in theirs[True].values() for path in section})
    assert shown == sorted(case.shows), "the scenario does not show what it is meant to"
    monkeypatch.chdir(cwd)
    got = {"all": ours(capsys, case, True), "changed": ours(capsys, case, False)}
    want = {"all": theirs[True], "changed": theirs[False]}
    if got != want:
        raise Mismatch(f"compare --json{{--all,}}:\n ours: {got}\n  dvc: {want}")


@pytest.mark.slow
def test_batch_prints_what_separate_dvc_processes_print(template: Path, tmp_path: Path) -> None:
    """tests/dvc_batch.py changes nothing: the same bytes as one `python -m dvc` per command."""
    case = next(p.values[0] for p in CASES if p.id == "cached/output-directory")
    cwd = build(case, template, tmp_path)
    commands: list[Command] = [
        ("metrics", "diff", "--json", "--all", "main"),
        ("params", "diff", "--json", "main"),
        ("metrics", "diff", "--json", "main"),
    ]
    # Parsed: DVC's key order for a directory's files differs from one process to the next.
    batched = [json.loads(out) for _, out, _ in dvc_batch([(cwd, c) for c in commands])]
    assert batched == [json.loads(dvc(cwd, *c).stdout) for c in commands]
    assert batched[0]["eval/a.json"]  # not vacuous
