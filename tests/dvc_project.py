"""A DVC project of the real shape (DVC's get-started): prepare → featurize → train → evaluate
on generated text data, params.yaml with the user's own sections, `eval/` a cached output
holding the metrics, plots, a `text-classification` model artifact, a local DVC remote and GTO
tags on an older commit. `build` makes it once per module; tests work on copies.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import commit_all, dvc, git, init_repo, write_params

NAME = "text-classification"
MODEL = "model.pkl"
METRICS = "eval/metrics.json"

DVC_YAML = """\
stages:
  prepare:
    cmd: python src/prepare.py data/data.xml
    deps: [data/data.xml, src/prepare.py]
    params: [prepare.seed, prepare.split]
    outs: [data/prepared]
  featurize:
    cmd: python src/featurization.py data/prepared data/features
    deps: [data/prepared, src/featurization.py]
    params: [featurize.max_features, featurize.ngrams]
    outs: [data/features]
  train:
    cmd: python src/train.py data/features model.pkl
    deps: [data/features, src/train.py]
    params: [train.seed, train.n_est, train.min_split]
    outs: [model.pkl]
  evaluate:
    cmd: python src/evaluate.py model.pkl data/features
    deps: [data/features, model.pkl, src/evaluate.py]
    outs: [eval]
metrics:
- eval/metrics.json
plots:
- ROC:
    template: simple
    x: fpr
    y:
      eval/plots/roc.json: tpr
- eval/plots/importance.json
artifacts:
  text-classification:
    path: model.pkl
    type: model
"""

SCRIPTS = {
    "prepare.py": """\
import os, random, sys, xml.etree.ElementTree as ET
import yaml

params = yaml.safe_load(open("params.yaml"))["prepare"]
rows = []
for post in ET.parse(sys.argv[1]).getroot():
    label = 1 if "<python>" in post.get("Tags", "") else 0
    rows.append(f"{post.get('Id')}\\t{label}\\t{post.get('Title')} {post.get('Body')}\\n")
random.Random(params["seed"]).shuffle(rows)
cut = int(len(rows) * params["split"])
os.makedirs("data/prepared", exist_ok=True)
open("data/prepared/test.tsv", "w").writelines(rows[:cut])
open("data/prepared/train.tsv", "w").writelines(rows[cut:])
""",
    "featurization.py": """\
import os, pickle, sys
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

params = yaml.safe_load(open("params.yaml"))["featurize"]
src, out = sys.argv[1], sys.argv[2]
def read(name):
    rows = [line.rstrip("\\n").split("\\t") for line in open(os.path.join(src, name))]
    return [r[2] for r in rows], [int(r[1]) for r in rows]
vec = TfidfVectorizer(max_features=params["max_features"], ngram_range=(1, params["ngrams"]))
os.makedirs(out, exist_ok=True)
text, y = read("train.tsv")
pickle.dump((vec.fit_transform(text), y), open(os.path.join(out, "train.pkl"), "wb"))
text, y = read("test.tsv")
pickle.dump((vec.transform(text), y), open(os.path.join(out, "test.pkl"), "wb"))
""",
    "train.py": """\
import os, pickle, sys
import yaml
from sklearn.ensemble import RandomForestClassifier

params = yaml.safe_load(open("params.yaml"))["train"]
x, y = pickle.load(open(os.path.join(sys.argv[1], "train.pkl"), "rb"))
clf = RandomForestClassifier(
    n_estimators=params["n_est"], min_samples_split=params["min_split"], n_jobs=1,
    random_state=params["seed"],
)
clf.fit(x, y)
pickle.dump(clf, open(sys.argv[2], "wb"))
""",
    "evaluate.py": """\
import json, os, pickle, sys
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

clf = pickle.load(open(sys.argv[1], "rb"))
metrics = {"avg_prec": {}, "roc_auc": {}}
os.makedirs("eval/plots", exist_ok=True)
for split in ("train", "test"):
    x, y = pickle.load(open(os.path.join(sys.argv[2], f"{split}.pkl"), "rb"))
    scores = clf.predict_proba(x)[:, 1]
    metrics["avg_prec"][split] = round(float(average_precision_score(y, scores)), 6)
    metrics["roc_auc"][split] = round(float(roc_auc_score(y, scores)), 6)
fpr, tpr, _ = roc_curve(y, scores)
json.dump([{"fpr": float(a), "tpr": float(b)} for a, b in zip(fpr, tpr)], open("eval/plots/roc.json", "w"))
imp = [{"feature": i, "importance": float(v)} for i, v in enumerate(clf.feature_importances_[:20])]
json.dump(imp, open("eval/plots/importance.json", "w"))
json.dump(metrics, open("eval/metrics.json", "w"), indent=2)
""",
}

USER_PARAMS: dict[str, Any] = {
    "prepare": {"split": 0.25, "seed": 20170428},
    "featurize": {"max_features": 100, "ngrams": 1},
    "train": {"seed": 20170428, "n_est": 50, "min_split": 0.01},
}
MLOPS: dict[str, Any] = {
    "metrics": {"primary": "roc_auc.test"},
    "gates": ["roc_auc.test >= 0.5", "avg_prec.test >= 0.3"],
}


def write_project_params(repo: Path, user: dict[str, Any], mlops: dict[str, Any]) -> None:
    """params.yaml: the user's sections and our `mlops:` one."""
    write_params(repo, {**user, "mlops": mlops})


def write_params_file(path: Path, params: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


WORDS = {
    1: [
        "python",
        "pandas",
        "numpy",
        "django",
        "flask",
        "pip",
        "list",
        "dict",
        "import",
        "def",
        "lambda",
    ],
    0: ["java", "javascript", "css", "html", "sql", "rust", "golang", "kotlin", "swift", "react"],
}
COMMON = [
    "how",
    "to",
    "fix",
    "error",
    "when",
    "using",
    "the",
    "code",
    "with",
    "a",
    "function",
    "and",
    "loop",
    "in",
    "my",
    "project",
]


def write_posts(path: Path, rows: int = 300, seed: int = 7) -> None:
    rng = random.Random(seed)
    lines = ["<?xml version='1.0' encoding='utf-8'?>", "<posts>"]
    for i in range(rows):
        label = int(rng.random() < 0.4)
        words = [rng.choice(WORDS[label] if rng.random() < 0.08 else COMMON) for _ in range(12)]
        tag = "&lt;python&gt;" if label else "&lt;java&gt;"
        title = " ".join(words[:5])
        body = " ".join(words[5:])
        lines.append(f'  <row Id="{i}" Tags="{tag}" Title="{title}" Body="{body}" />')
    lines.append("</posts>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def python_on_path(env: dict[str, str]) -> dict[str, str]:
    """The stages' `python` is this interpreter (dvc runs them through the shell)."""
    return {**env, "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}


def build(base: Path) -> Path:
    """base/repo and its DVC remote base/remote: v1.0.0 (and prod) registered by GTO-format
    tags on an older commit (n_est 20); HEAD trains n_est 50, its dvc.lock fresh and pushed
    with the run cache."""
    repo = init_repo(base / "repo")
    write_posts(repo / "data" / "data.xml")
    (repo / "src").mkdir()
    for name, text in SCRIPTS.items():
        (repo / "src" / name).write_text(text, encoding="utf-8")
    (repo / "dvc.yaml").write_text(DVC_YAML, encoding="utf-8")
    (repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n", encoding="utf-8")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    dvc(repo, "remote", "add", "-d", "storage", "../remote")
    dvc(repo, "add", "-q", "data/data.xml")
    older = {**USER_PARAMS, "train": {**USER_PARAMS["train"], "n_est": 20}}
    write_project_params(repo, older, MLOPS)
    commit_all(repo, "text classification, 20 trees")  # its runs are not kept: one repro only
    from mlops_actions import tag

    for name, subject in (
        (f"{NAME}@v1.0.0", tag.registration_subject(NAME, "v1.0.0")),
        (f"{NAME}#prod#1", tag.assignment_subject(NAME, "prod", "v1.0.0")),
    ):  # as `gto register` / `gto assign` write them: GTO's subject, no JSON block
        git(repo, "tag", "-a", name, "-m", subject)
    write_project_params(repo, USER_PARAMS, MLOPS)
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q", "--run-cache")
    commit_all(repo, "50 trees")
    return repo


def lock_md5(repo: Path, rev: str, path: str = MODEL) -> str:
    lock = yaml.safe_load(git(repo, "show", f"{rev}:dvc.lock"))
    return next(
        str(out["md5"])
        for stage in lock["stages"].values()
        for out in stage.get("outs", [])
        if out["path"] == path
    )
