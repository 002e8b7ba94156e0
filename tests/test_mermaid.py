"""Every Mermaid block the report draws parses with the real Mermaid parser (the npm package,
under jsdom), at the version GitHub renders and at the newest (package.json pins both)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mlops_actions import report
from mlops_actions.report import ReportInput, Row

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
    return {name: report.render(data) for name, data in _scenarios().items()}


def test_the_scenarios_draw_charts(bodies: dict[str, str]) -> None:
    counts = {name: len(blocks(body)) for name, body in bodies.items()}
    assert counts == {
        "classification": 4,
        "regression": 3,
        "negative-and-large": 3,
        "equal-and-tiny": 2,
        "hostile-names": 3,  # the quote and the backtick are left out
        "no-baseline": 0,
    }


@pytest.mark.parametrize("package", PACKAGES)
def test_every_block_parses(bodies: dict[str, str], package: str) -> None:
    diagrams = [d for body in bodies.values() for d in blocks(body)]
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
