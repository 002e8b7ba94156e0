"""The model card as a release body: tables a person reads, every value inert, within GitHub's
release limit; and the release `promote --release` creates carries it, for a builtin project
(model/card.json) and a DVC project (the card beside the run cache)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from mlops_actions.config import settings
from mlops_actions.flow import deliver
from mlops_actions.github.client import GitHub
from mlops_actions.report import modelcard
from tests.fakegithub import FakeGitHub
from tests.helpers import commit_all, init_repo, write_params

TAG = "demo-model@v1.2.0"
CARD: dict[str, Any] = {
    "name": "demo-model",
    "mode": "builtin",
    "estimator": "sklearn.ensemble.RandomForestClassifier",
    "params": {"model": {"params": {"n_estimators": 200, "max_depth": 6}}, "data": {"seed": 42}},
    "data": {"data": {"dvc_file": "data.dvc", "md5": "4683717b.dir", "size": 124869, "nfiles": 1}},
    "git": {"commit": "42c459a025fb74ffa858f4677a66c5411ec787af", "dirty": False},
    "versions": {"scikit-learn": "1.9.1", "mlops-actions": "0.1.0"},
    "metrics": {
        "accuracy": 0.958041958041958,
        "f1": 0.94,
        "ci": {"accuracy": [0.923077, 0.986014]},
        "rows": {"train": 426, "test": 143},
    },
    "model": {"path": "model/model.skops", "sha256": "d5009138" * 8},
    "fingerprint": "f25d07b9" * 8,
    "trained_at": "2026-12-01T23:00:09+00:00",
    "training_seconds": 3.737,
}


def render(body: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(body)


def rows_of(body: str, title: str) -> list[list[str]]:
    """The cells (as rendered HTML) of the table under `### title`."""
    section = body.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]
    table = render(section)
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        if "<td" in row
    ]


def text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell))


def test_the_card_reads_as_tables_and_keeps_the_whole_card_as_json() -> None:
    body = modelcard.release_body(TAG, CARD, "model/card.json")

    assert body.startswith("Model `demo-model@v1.2.0`, promoted by mlops-actions.\n")
    summary = {text(k): text(v) for k, v in rows_of(body, "Model")}
    assert summary["estimator"] == "sklearn.ensemble.RandomForestClassifier"
    assert summary["commit"] == CARD["git"]["commit"]
    assert summary["model sha256"] == CARD["model"]["sha256"]
    assert summary["training seconds"] == "3.737"
    metrics = [[text(c) for c in row] for row in rows_of(body, "Metrics")]
    assert metrics == [
        ["accuracy", "0.958", "0.9231 – 0.986"],
        ["f1", "0.94", ""],
        ["rows.train", "426", ""],
        ["rows.test", "143", ""],
    ]
    assert [[text(c) for c in row] for row in rows_of(body, "Data")] == [
        ["data", "data.dvc", "4683717b.dir", "124869", "1"]
    ]
    params = {text(k): text(v) for k, v in rows_of(body, "Params")}
    assert params == {
        "model.params.n_estimators": "200",
        "model.params.max_depth": "6",
        "data.seed": "42",
    }
    assert {text(k): text(v) for k, v in rows_of(body, "Packages")} == CARD["versions"]
    [block] = re.findall(
        r"<pre><code class=\"language-json\">(.*?)</code></pre>", render(body), re.S
    )
    assert json.loads(html.unescape(block)) == CARD


HOSTILE = [
    "@octocat please look",
    "<script>alert(1)</script>",
    "[click](https://evil.example/x)",
    "https://evil.example/autolink",
    "a | b | c",
    "two\nlines\n### heading",
    "ends with a tick`",
    "``` fence",
    "**bold** _it_ ![img](https://evil.example/i.png)",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_value_stays_text(hostile: str) -> None:
    card = {
        **CARD,
        "name": hostile,
        "estimator": hostile,
        "params": {hostile: hostile},
        "metrics": {hostile: 0.5, "f1": hostile},
        "data": {hostile: {"dvc_file": hostile, "md5": hostile}},
        "versions": {hostile: hostile},
    }
    body = modelcard.release_body(TAG, card, "model/card.json")
    page = render(body)

    outside = re.sub(r"<code[^>]*>.*?</code>", "", page, flags=re.S)
    assert "<a " not in page and "<img" not in page and "<script" not in page
    assert "@octocat" not in outside and "evil.example" not in outside  # no mention, no link
    assert "<strong>" not in page and "<em>" not in page
    assert page.count("<h3>") == 5  # no heading of the value's own
    cells = {"Model": 2, "Metrics": 3, "Data": 5, "Params": 2, "Packages": 2}
    for title, width in cells.items():
        for row in rows_of(body, title):
            assert len(row) == width, (title, row)
    flat = " ".join(hostile.split())
    assert flat in {text(v) for _, v in rows_of(body, "Params")}
    [block] = re.findall(r"<pre><code class=\"language-json\">(.*?)</code></pre>", page, re.S)
    assert json.loads(html.unescape(block)) == card


def test_a_card_too_big_for_a_release_is_cut_to_the_limit_keeping_the_summary() -> None:
    params = {f"feature_{i:05d}.weight": i / 7 for i in range(6000)}
    body = modelcard.release_body(TAG, {**CARD, "params": params}, ".mlops-cache/card.json")

    assert len(body) <= modelcard.RELEASE_LIMIT
    assert "language-json" not in render(body)  # the JSON copy goes first
    assert "### Metrics" in body and CARD["model"]["sha256"] in body
    assert "`feature_00000.weight`" in body
    assert body.endswith(
        "_The model card was cut to fit GitHub's release limit; the whole card is "
        "`.mlops-cache/card.json` of the commit's training run._\n"
    )
    small = modelcard.release_body(TAG, CARD, "model/card.json", limit=900)
    assert len(small) <= 900 and "### Model" in small


def test_a_long_value_is_cut_in_its_cell() -> None:
    body = modelcard.release_body(TAG, {**CARD, "estimator": "x" * 5000}, "model/card.json")
    summary = {text(k): text(v) for k, v in rows_of(body, "Model")}
    assert summary["estimator"] == "x" * 199 + "…"


def _release_for(root: Path, card_path: Path, github: GitHub, server: FakeGitHub) -> str:
    cfg = settings.load(root / "params.yaml")
    assert cfg.resolve(cfg.train.card) == card_path
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card_path.write_text(json.dumps(CARD), encoding="utf-8")
    deliver.release(github, cfg, TAG)
    (release,) = server.releases
    assert release["tag_name"] == TAG and release["name"] == TAG
    body: str = release["body"]
    assert body == modelcard.release_body(TAG, CARD, cfg.train.card)
    return body


def test_promote_release_of_a_builtin_project_has_the_card_of_model_card_json(
    tmp_path: Path, github: GitHub, github_server: FakeGitHub
) -> None:
    repo = init_repo(tmp_path / "repo")
    write_params(repo, {"data": {"path": "d.csv", "target": "y"}, "model": {"name": "demo-model"}})
    commit_all(repo, "project")
    body = _release_for(repo, repo / "model" / "card.json", github, github_server)
    assert "`sklearn.ensemble.RandomForestClassifier`" in body


def test_promote_release_of_a_dvc_project_has_the_card_beside_the_run_cache_outside_the_tree(
    tmp_path: Path, github: GitHub, github_server: FakeGitHub
) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python train.py\n    outs: [model.pkl]\n"
        "metrics: [eval/metrics.json]\n"
        "artifacts:\n  demo-model:\n    path: model.pkl\n    type: model\n",
        encoding="utf-8",
    )
    (repo / "params.yaml").write_text("train: {seed: 1}\n", encoding="utf-8")
    commit_all(repo, "project")
    _release_for(repo, settings.default_cache_dir(repo) / "card.json", github, github_server)
    assert not (repo / "model").exists()
