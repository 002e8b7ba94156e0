"""A small DVC pipeline for the tracking tests: params.yaml, a git-tracked metrics file, a
DVC-cached metrics file (read from the cache or the remote), a cached model, a bare git
origin and a DVC remote on disk."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, dvc, git, init_repo

TRAIN = """\
import json, os, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
os.makedirs("eval", exist_ok=True)
json.dump({"f1": p["n_est"] / 1000, "loss": 1 - p["n_est"] / 1000}, open("metrics.json", "w"))
json.dump({"auc": p["n_est"] / 2000}, open("eval/extra.json", "w"))
open("model.pkl", "w").write(repr(p))
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    outs: [model.pkl, eval]
    metrics:
    - metrics.json:
        cache: false
metrics:
- eval/extra.json
artifacts:
  clf:
    path: model.pkl
    type: model
"""


def params(n_est: int) -> str:
    return f"train:\n  n_est: {n_est}\n  seed: 7\n"


def build(base: Path) -> Path:
    """`base/repo` (a clone of `base/origin.git`, pushed), `base/dvc-remote`."""
    origin = base / "origin.git"
    git(base, "init", "-q", "--bare", "-b", "main", str(origin))
    repo = init_repo(base / "repo")
    (repo / "train.py").write_text(TRAIN)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "params.yaml").write_text(params(50))
    dvc(repo, "init", "-q")
    dvc(repo, "remote", "add", "-d", "store", str(base / "dvc-remote"))
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    commit_all(repo, "baseline")
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return repo
