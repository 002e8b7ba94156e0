"""Every Mermaid block the report draws parses with the real Mermaid parser (the npm package,
under jsdom), at the version GitHub renders and at the newest (package.json pins both)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mlops_actions.report import markdown
from mlops_actions.report.markdown import ReportInput, Row

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "js" / "mermaid_parse.mjs"
PACKAGES = ("mermaid", "mermaid12")


def blocks(body: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)\n```", body, flags=re.S)


def parse(diagrams: list[str], package: str) -> dict[str, object]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (ROOT / "node_modules" / package / "package.json").is_file():
        pytest.fail(f"node_modules/{package} is missing: run `npm install` (make test does)")
    done = subprocess.run(
        ["node", str(SCRIPT), package],
        input=json.dumps(diagrams),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    parsed: dict[str, object] = json.loads(done.stdout)
    return parsed


def _scenarios() -> dict[str, ReportInput]:
    classification = [
        Row("accuracy", 0.951, 0.958),
        Row("balanced_accuracy", 0.944, 0.951),
        Row("precision", 0.95, 0.97),
        Row("recall", 0.905, 0.889),
        Row("f1", 0.927, 0.927),
        Row("roc_auc", 0.9951, 0.9881),
        Row("log_loss", 0.12, 0.15),
        Row("rows.test", 143, 143),
    ]
    ci = {"f1": (0.89, 0.96), "roc_auc": (0.976, 0.997)}
    base_ci = {"f1": (0.89, 0.958), "roc_auc": (0.985, 0.999)}
    return {
        "classification": ReportInput(
            "demo",
            "`main` (abc1234)",
            classification,
            intervals=ci,
            base_intervals=base_ci,
            primary="roc_auc",
            gated=["f1", "recall"],
        ),
        "regression": ReportInput(
            "diabetes",
            "`main` (abc1234)",
            [Row("rmse", 56.3, 53.1), Row("mae", 45.2, 44.0), Row("r2", 0.41, 0.47)],
            intervals={"rmse": (49.0, 58.2)},
            base_intervals={"rmse": (51.0, 61.9)},
        ),
        "negative-and-large": ReportInput(
            "m",
            "`main` (abc1234)",
            [Row("r2", -0.3, -0.1), Row("neg_log_loss", -0.4, -0.35), Row("revenue", 1.2e7, 1.3e7)],
        ),
        "equal-and-tiny": ReportInput(
            "m", "`main` (abc1234)", [Row("f1", 0.5, 0.5), Row("gap", 1e-9, 2e-9)]
        ),
        "hostile-names": ReportInput(
            "m",
            "`main` (abc1234)",
            [
                Row('say "hi"', 0.1, 0.2),
                Row("a,b]c", 0.1, 0.2),
                Row("per_class.1.f1", 0.5, 0.6),
                Row("précision %% ; #35;", 0.7, 0.8),
                Row("x`y", 0.1, 0.2),
            ],
        ),
        "no-baseline": ReportInput("m", None, [Row("f1", None, 0.9)]),
    }


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    return {name: markdown.render(data) for name, data in _scenarios().items()}


def test_the_metrics_are_a_table_not_bar_charts(bodies: dict[str, str]) -> None:
    """A bar per metric repeated the table on a cut axis: the table alone says it."""
    assert {name: len(blocks(body)) for name, body in bodies.items()} == dict.fromkeys(bodies, 0)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_block_parses(bodies: dict[str, str], package: str) -> None:
    from tests.report_shapes import drift_issue, shapes

    found = [drift_issue(), *shapes().values(), *bodies.values()]
    diagrams = [d for body in found for d in blocks(body)]
    assert len(diagrams) >= 10
    parsed = parse(diagrams, package)
    failures = [
        (d, r)
        for d, r in zip(diagrams, parsed["results"], strict=True)  # type: ignore[call-overload]
        if not r["ok"] or r["type"] != "xychart"
    ]
    assert not failures, failures


def test_the_parser_does_reject_a_broken_chart() -> None:
    """The check has teeth: the name the report leaves out would have broken the chart."""
    parsed = parse(['xychart-beta\n  x-axis ["say "hi"", "b"]\n  bar [1, 2]'], "mermaid")
    assert parsed["results"] == [{"ok": False, "error": parsed["results"][0]["error"]}]  # type: ignore[index]


# --- the Plots section --------------------------------------------------------------------


def _plot_bodies(tmp: Path) -> dict[str, str]:
    """The Plots sections of the DVC-plots project, of hostile names and of capped plots."""
    from mlops_actions.report import charts, plots
    from mlops_actions.report.plots import Plot, Series
    from tests import plots_project
    from tests.helpers import commit_all, init_repo

    repo, sha = plots_project.build(tmp / "dvc")
    found, _ = plots.read(repo, sha)
    hostile = init_repo(tmp / "hostile")
    (hostile / "d.csv").write_text("x,y\n0,1\n1,-2.5e-7\n2,1e9\n")
    spec = {
        "plots": [
            {"d.csv": {"x": "x", "y": "y", "title": 'a "b" `c` %% #35;', "x_label": "é → ü"}},
            {"d.csv ; x-axis": {"x": {"d.csv": "x"}, "y": {"d.csv": ["y", "x"]}}},
        ]
    }
    (hostile / "dvc.yaml").write_text(json.dumps(spec))
    commit_all(hostile, "hostile")
    odd, _ = plots.read(hostile, None)
    flat = [Series("flat", [(0.0, 0.5), (1.0, 0.5)])]
    capped = [
        Plot("many", {}, "linear", ["many"], [Series(f"s{i}", [(0, i), (1, i)]) for i in range(9)])
    ]
    capped.append(Plot("flat", {}, "linear", ["flat"], flat, flat))
    bodies = {
        "dvc-plots": charts.render(found, []),
        "hostile": charts.render(odd, []),
        "capped": charts.render(capped, []),
    }
    return {name: body for name, body in bodies.items() if body is not None}


@pytest.fixture(scope="module")
def plot_bodies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _plot_bodies(tmp_path_factory.mktemp("plots"))


def test_the_plots_draw_line_charts(plot_bodies: dict[str, str]) -> None:
    counts = {name: len(blocks(body)) for name, body in plot_bodies.items()}
    assert counts == {"dvc-plots": 4, "hostile": 2, "capped": 2}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_plot_chart_parses(plot_bodies: dict[str, str], package: str) -> None:
    diagrams = [d for body in plot_bodies.values() for d in blocks(body)]
    parsed = parse(diagrams, package)
    failures = [
        (d, r)
        for d, r in zip(diagrams, parsed["results"], strict=True)  # type: ignore[call-overload]
        if not r["ok"] or r["type"] != "xychart"
    ]
    assert not failures, failures
