"""DVC plots in the report: read at the base and in this run as `dvc plots diff` reads them,
drawn as Mermaid line charts, confusion tables and image links, within GitHub's limits."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlops_actions import cli
from mlops_actions.report import charts as plots_render
from mlops_actions.report import plots
from mlops_actions.report.plots import Plot, Series
from mlops_actions.training.builtin import write_plots
from tests import plots_project
from tests.fakegithub import FakeGitHub
from tests.helpers import (
    commit_all,
    dvc,
    git,
    init_repo,
    pull_request_env,
    write_params,
)
from tests.helpers import gated_params as _params

MARKER = "<!-- mlops-actions:report id=default -->"


@pytest.fixture(scope="module")
def dvc_plots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return plots_project.build(tmp_path_factory.mktemp("plots"))


@pytest.fixture(scope="module")
def read_plots(dvc_plots: tuple[Path, str]) -> list[Plot]:
    repo, sha = dvc_plots
    found, notes = plots.read(repo, sha)
    assert notes == []
    return found


@pytest.fixture(scope="module")
def section(read_plots: list[Plot]) -> str:
    body = plots_render.render(read_plots, [], "https://github.com/o/r/actions/runs/7")
    assert body is not None
    return body


def charts(body: str) -> dict[str, str]:
    """title -> Mermaid block."""
    blocks = re.findall(r"```mermaid\n(.*?)\n```", body, flags=re.S)
    return {re.search(r'title "(.*)"', b).group(1): b for b in blocks}  # type: ignore[union-attr]


def lines_of(block: str) -> list[list[float]]:
    return [[float(v) for v in m.split(", ")] for m in re.findall(r"line \[(.*)\]", block)]


def test_dvclive_plots_render_as_line_charts_and_tables(
    dvc_plots: tuple[Path, str], section: str
) -> None:
    drawn = charts(section)
    assert set(drawn) == {
        "Receiver operating characteristic (ROC)",
        "Precision-Recall Curve",
        "Train and test loss",
        "eval/loss.tsv",
    }
    roc = drawn["Receiver operating characteristic (ROC)"]
    assert 'x-axis "False Positive Rate" 0 --> 1' in roc
    assert 'y-axis "True Positive Rate" 0 --> 1' in roc  # a rate's axis is all of 0–1
    # A power-of-two step: Mermaid, adding it up in floats, reaches every point, 1 too.
    assert [len(line) for line in lines_of(roc)] == [33, 33]
    assert len(lines_of(drawn["Train and test loss"])) == 4  # two files, base and this run
    assert "`train.csv` base: light blue" in section  # which line is which
    # The confusion template: base and this run, the change in each cell.
    assert "| base: actual \\ predicted" in section
    assert "| this run: actual \\ predicted" in section
    repo, sha = dvc_plots
    path = "dvclive/plots/sklearn/confusion_matrix.json"
    old = json.loads(git(repo, "show", f"{sha}:{path}"))
    new = json.loads((repo / path).read_text())
    for actual in ("0", "1"):
        cells = []
        for predicted in ("0", "1"):
            n = sum(p == {"actual": actual, "predicted": predicted} for p in new)
            d = n - sum(p == {"actual": actual, "predicted": predicted} for p in old)
            cells.append(f"{n} ({'+' if d > 0 else '−'}{abs(d)})" if d else str(n))
        assert re.search(
            rf"\| \*\*{actual}\*\* +\| {re.escape(cells[0])} +\| {re.escape(cells[1])} +\|", section
        )
    # The image: listed with the run's artifacts, not drawn.
    assert (
        "- `eval/importance.png`: changed · [workflow run]"
        "(https://github.com/o/r/actions/runs/7)" in section
    )


def test_the_data_points_are_the_ones_dvc_plots_diff_reads(
    dvc_plots: tuple[Path, str], read_plots: list[Plot]
) -> None:
    """Same plot ids, same kinds, same (x, y) points per revision as DVC's own `plots diff`
    (the learning curve's base comes from DVC's cache: it is not in git)."""
    repo, _ = dvc_plots
    done = dvc(repo, "plots", "diff", "main", "--json")
    theirs = json.loads(done.stdout)["data"]
    ours = {p.id: p for p in read_plots}
    assert set(ours) == set(theirs)
    for plot_id, renders in theirs.items():
        plot = ours[plot_id]
        if renders[0]["type"] == "image":
            assert plot.kind == "image"
            continue
        content = renders[0]["content"]
        x, y = _field(content, "x"), _field(content, "y")
        values = content["data"]["values"]
        for rev, side in (("workspace", plot.new), ("main", plot.base)):
            points = [p for p in values if p["rev"] == rev]
            if plot.kind == "confusion":
                pairs = plot.new_pairs if rev == "workspace" else plot.base_pairs
                assert pairs is not None
                got = sorted(pair for ps in pairs.values() for pair in ps)
                assert got == sorted((str(p[x]), str(p[y])) for p in points)
                continue
            assert side is not None
            expected = sorted((float(p[x]), float(p[y])) for p in points)
            assert sorted(pt for s in side for pt in s.points) == expected, plot_id


def _field(content: Any, axis: str) -> str:
    """The field a Vega-Lite spec encodes on `axis` (the first one found)."""
    if isinstance(content, dict):
        found = content.get(axis)
        if isinstance(found, dict) and isinstance(found.get("field"), str):
            return found["field"]
        children = content.values()
    elif isinstance(content, list):
        children = content
    else:
        return ""
    for child in children:
        if got := _field(child, axis):
            return got
    return ""


def test_a_chart_is_both_sides_interpolated_onto_one_grid(
    dvc_plots: tuple[Path, str], section: str
) -> None:
    """Reference: numpy.interp of the raw file values at the base and now, on the chart's grid."""
    repo, sha = dvc_plots
    path = "dvclive/plots/sklearn/roc.json"
    new = json.loads((repo / path).read_text())["roc"]
    old = json.loads(git(repo, "show", f"{sha}:{path}"))["roc"]
    grid = np.arange(33) / 32
    block = charts(section)["Receiver operating characteristic (ROC)"]
    drawn = lines_of(block)
    for line, points in zip(drawn, (old, new), strict=True):
        pts = sorted(((p["fpr"], p["tpr"]) for p in points), key=lambda p: p[0])
        expected = np.interp(grid, [p[0] for p in pts], [p[1] for p in pts])
        assert np.allclose(line, expected, rtol=1e-3, atol=1e-4)


def _curve(n: int, shift: float = 0.0) -> list[tuple[float, float]]:
    return [(i / n, (i / n) ** 0.5 + shift) for i in range(n + 1)]


def test_long_curves_many_series_and_many_plots_stay_within_the_limits() -> None:
    many = [Series(f"run{i}.json", _curve(5000, i / 100)) for i in range(plots_render.SERIES + 3)]
    big = [Plot(f"p{i}.json", {}, "linear", [f"p{i}.json"], many, many) for i in range(40)]
    body = plots_render.render(big, [])
    assert body is not None
    assert len(body) < 40_000
    assert f"showing {plots_render.SERIES} of {plots_render.SERIES + 3} series" in body
    drawn = body.count("```mermaid")
    assert 0 < drawn <= plots_render.PLOTS  # the plot cap or the size budget, whichever first
    assert f"{40 - drawn} more plots not drawn, to keep the comment within" in body
    assert all(len(line) == 33 for line in lines_of(body))  # x from 0 to 1 by 1/32


def test_names_from_a_pull_request_are_escaped(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    (repo / ".dvc").mkdir()
    (repo / "d.json").write_text(json.dumps([{"x": 1, "y": 2}, {"x": 2, "y": 3}]))
    (repo / "c.json").write_text(json.dumps([{"a": "<b>x</b>", "p": "`y`"}]))
    hostile = {
        "title": 'ROC"\n```\n<img src=x onerror=alert(1)>',
        "x": "x",
        "y": "y",
        "x_label": 'a"b',
        "y_label": "[link](https://evil.example)",
    }
    spec = {
        "plots": [{"d.json": hostile}, {"c.json": {"template": "confusion", "x": "a", "y": "p"}}]
    }
    (repo / "dvc.yaml").write_text(json.dumps(spec))
    commit_all(repo, "hostile")
    found, _ = plots.read(repo, None)
    body = plots_render.render(found, [])
    assert body is not None
    assert "<img" not in body and "<b>" not in body
    assert body.count("```") == 2  # one chart: the title cannot end its fence
    (block,) = charts(body).values()
    # What would end the label or the fence becomes `_`; the rest is drawn as text.
    assert 'title "ROC_ ___ _img src=x onerror=alert(1)_"' in block and 'x-axis "a_b"' in block
    assert 'y-axis "[link](https://evil.example)"' in block  # quoted: Mermaid draws text
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "**&lt;b&gt;x&lt;/b&gt;**" in body  # a class name in the confusion table


def test_builtin_writes_dvclive_files_roc_and_pr_for_binary_only(tmp_path: Path) -> None:
    y = pd.Series(["no", "yes", "yes", "no", "yes"])
    pred = np.array(["no", "yes", "no", "no", "yes"])
    scores = np.array([0.1, 0.9, 0.4, 0.3, 0.8])
    written = write_plots(tmp_path, y, (pred, None, scores), ["no", "yes"])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(
        plots.BUILTIN_FILES.values()
    )
    roc = json.loads((tmp_path / plots.BUILTIN_FILES["roc"]).read_text())
    assert set(roc) == {"roc"} and set(roc["roc"][0]) == {"fpr", "tpr", "threshold"}
    cm = json.loads((tmp_path / plots.BUILTIN_FILES["confusion_matrix"]).read_text())
    assert cm[2] == {"actual": "yes", "predicted": "no"}
    three = tmp_path / "three"
    y3 = pd.Series(["a", "b", "c"])
    written = write_plots(three, y3, (np.array(["a", "b", "b"]), None, None), ["a", "b", "c"])
    assert [p.name for p in written] == ["confusion_matrix.json"]


def test_pr_report_starts_with_the_verdict_and_shows_the_builtin_plots(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (project / plots.BUILTIN_FILES["roc"]).is_file()  # committed on main with metrics
    git(project, "checkout", "-q", "-b", "feature")
    write_params(project, _params(model__params={"n_estimators": 20, "max_depth": 2}))
    commit_all(project, "shallower trees")
    pull = pull_request_env(monkeypatch, github_server, project)
    assert cli.main(["run"]) == 0, capsys.readouterr().err

    (comment,) = github_server.issue_comments[pull["number"]]
    body = comment["body"]
    # The verdict, said once, with the primary metric's change.
    first = body.splitlines()[1]
    assert first.startswith("**✅ 3 of 3 gates passed** · `f1` ")
    assert body.count("gates passed") == 1
    summary = (project.parent / "runner" / "summary.md").read_text()
    assert summary.lstrip().startswith(f"{MARKER}\n{first}\n")
    assert "<details><summary>Plots</summary>" in body  # closed in the comment
    assert "<details open><summary>Plots</summary>" in summary  # open in the job summary
    drawn = charts(body)
    assert {"Receiver operating characteristic (ROC)", "Precision-Recall Curve"} <= set(drawn)
    assert all(len(lines_of(b)) == 2 for b in drawn.values() if "ROC" in b)  # base, this run
    assert "| base: actual \\ predicted" in body and "| this run: actual \\ predicted" in body
    assert "Confusion matrix (this run)" not in body  # the Plots section has both sides


def test_a_long_curve_is_drawn_from_evenly_spaced_rows_and_counts_stay_exact(
    tmp_path: Path,
) -> None:
    """100,000 rows: the chart matches the interpolation of every row; the confusion counts
    are every row's, in dvclive's plain list and in a DVC shape the converter must unpack."""
    repo = init_repo(tmp_path / "r")
    xs = np.linspace(0, 1, 100_000)
    rows = [{"x": float(x), "y": float(x**0.5)} for x in xs]
    (repo / "curve.json").write_text(json.dumps({"curve": rows}))
    pairs = [{"a": str(i % 3), "p": str((i * 7) % 3)} for i in range(30_000)]
    (repo / "cm.json").write_text(json.dumps(pairs))
    (repo / "cm_nested.json").write_text(json.dumps({"test": {"rows": pairs}}))
    confusion = {"template": "confusion", "x": "a", "y": "p"}
    spec = {
        "plots": [
            {"curve.json": {"x": "x", "y": "y"}},
            {"cm.json": confusion},
            {"cm_nested.json": confusion},
        ]
    }
    (repo / "dvc.yaml").write_text(json.dumps(spec))
    commit_all(repo, "long")
    found = {p.id: p for p in plots.read(repo, None)[0]}
    body = plots_render.render([found["curve.json"]], [])
    assert body is not None
    (line,) = lines_of(body)
    grid = np.arange(33) / 32
    assert np.allclose(line, np.sqrt(grid), atol=2e-3)
    expected = sorted((r["a"], r["p"]) for r in pairs)
    for plot_id in ("cm.json", "cm_nested.json"):
        got = found[plot_id].new_pairs
        assert got is not None
        assert sorted(pair for ps in got.values() for pair in ps) == expected


def test_a_base_commit_that_cannot_be_read_leaves_this_runs_plots(
    dvc_plots: tuple[Path, str],
) -> None:
    repo, _ = dvc_plots
    found, notes = plots.read(repo, "0" * 40)
    assert {p.id for p in found if p.new or p.new_pairs} >= {"eval/loss.tsv", "Train and test loss"}
    assert all(p.base is None and p.base_pairs is None for p in found)
    assert [n.split(":")[0] for n in notes] == ["plots at the base 0000000 not read"]


@pytest.mark.parametrize("limit", [3_000, 5_000, 8_000])
def test_a_cut_report_keeps_only_whole_charts(limit: int) -> None:
    from mlops_actions.report import markdown

    lines = [Series("a.json", _curve(100)), Series("b.json", _curve(100, 0.1))]
    many = [Plot(f"p{i}.json", {}, "linear", [f"p{i}.json"], lines, lines) for i in range(8)]
    section = plots_render.render(many, [])
    data = markdown.ReportInput(
        "m", "`main` (abc1234)", [markdown.Row("f1", 0.5, 0.6)], plots=section
    )
    body = markdown.render(data)
    assert len(body) > limit
    cut = markdown.fit(body, limit)
    assert len(cut) <= limit and cut.count("```") % 2 == 0
    drawn = re.findall(r"```mermaid\n(.*?)\n```", cut, flags=re.S)
    assert drawn and all(b.count("line [") == 4 for b in drawn if "plotColorPalette" in b)


def test_confusion_normalized_shows_shares_of_each_actual_class() -> None:
    old = [("a", "a")] * 3 + [("a", "b")] + [("b", "b")] * 2
    new = [("a", "a")] * 2 + [("a", "b")] * 2 + [("b", "b")] * 2
    plot = Plot(
        "cm.json",
        {"template": "confusion_normalized"},
        "confusion",
        ["cm.json"],
        base_pairs={"cm.json": old},
        new_pairs={"cm.json": new},
    )
    body = plots_render.render([plot], [])
    assert body is not None
    assert re.search(r"\| \*\*a\*\* +\| 0\.750 +\| 0\.250 +\|", body)  # base: 3 of 4, 1 of 4
    assert re.search(r"\| \*\*a\*\* +\| 0\.500 \(−0\.250\) +\| 0\.500 \(\+0\.250\) +\|", body)
    assert re.search(r"\| \*\*b\*\* +\| 0\.000 +\| 1\.000 +\|", body)
