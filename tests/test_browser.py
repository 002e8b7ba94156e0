"""Every report shape rendered as GitHub renders it (cmark-gfm with GitHub's extensions,
github-markdown-css, the pinned Mermaid, Debian's Chromium through puppeteer-core), light and
dark, 760 and 400 px wide, and checked from the DOM as a reviewer would read it. Screenshots go
to $REPORT_SCREENSHOTS (CI uploads them), else to the test's temporary directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.markdown import to_html
from tests.report_shapes import shapes

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "js" / "render_reports.mjs"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CML_HEIGHT = 2_570  # CML's comment for a comparable project, 760 px wide

pytestmark = pytest.mark.slow

# What the old report drew, for the checks to catch: a curve on a float x axis (Mermaid 11
# drops its last point), feature names on one x axis (they overlap), Mermaid's default bars.
CONTROL = "\n".join(
    [
        "```mermaid",
        "xychart-beta",
        '    x-axis "epoch" 1 --> 10',
        '    y-axis "loss" 0 --> 1',
        f"    line [{', '.join(str(round(1 / (i + 1), 3)) for i in range(30))}]",
        "```",
        "",
        "```mermaid",
        "xychart-beta",
        "    x-axis [" + ", ".join(f'"worst_fractal_dimension_{i}"' for i in range(20)) + "]",
        '    y-axis "PSI" 0 --> 1',
        f"    bar [{', '.join('0.5' for _ in range(20))}]",
        "```",
    ]
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        pytest.skip(f"needs node and {CHROMIUM} (make test installs chromium with apt)")
    if not (ROOT / "node_modules" / "puppeteer-core").exists():
        pytest.skip("needs the npm packages: npm install")
    out = Path(os.environ.get("REPORT_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    reports = [{"name": name, "html": to_html(body)} for name, body in shapes().items()]
    reports.append({"name": "control", "html": to_html(CONTROL)})
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps({"reports": reports, "widths": [760, 400], "out": str(out)}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    assert found["mermaid"] == "11.12.0"
    results: list[dict[str, Any]] = found["results"]
    return results


def _one(rendered: list[dict[str, Any]], name: str, theme: str, width: int) -> dict[str, Any]:
    return next(r for r in rendered if (r["name"], r["theme"], r["width"]) == (name, theme, width))


def _luminance(colour: str) -> float:
    found = re.findall(r"[\d.]+", colour) if colour.startswith("rgb") else None
    if found:
        channels = [float(c) / 255 for c in found[:3]]
    else:
        hexa = colour.lstrip("#")
        channels = [int(hexa[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_headline_names_the_failing_gate_and_fits_a_phone(
    rendered: list[dict[str, Any]],
) -> None:
    for r in rendered:
        if r["name"] == "control":
            continue
        if r["name"] in ("failing-pr", "job-summary"):
            assert r["headline"].startswith("❌ f1 0.902 < 0.920 (base 0.940 − 0.020)"), r
            assert r["headline"].endswith("1 of 4 gates failed")
        if r["name"] == "passing-pr":
            assert r["headline"].startswith("✅ 4 of 4 gates passed · f1 0.94 → 0.9505")
        # The verdict is on screen without scrolling sideways, at 400 px too.
        assert r["headlineRight"] <= r["contentRight"] + 1, (r["name"], r["width"])
        assert r["scrollWidth"] <= r["width"], (r["name"], r["width"])
        for table in r["tables"]:
            assert table["verdictRight"] <= r["contentRight"] + 1, (r["name"], table)
            assert all(table["header"]), f"a blank header in {r['name']}: {table['header']}"


def test_the_checks_catch_what_the_old_charts_did(rendered: list[dict[str, Any]]) -> None:
    control = _one(rendered, "control", "light", 760)
    curve, bars = control["charts"]
    assert curve["lines"][0]["points"] == 29 < _counts(curve["source"], "line")[0] == 30
    assert len(bars["overlaps"]) > 10
    assert contrast(bars["bars"][0]["colour"], "#ffffff") < 3


def test_the_comment_is_shorter_than_cmls(rendered: list[dict[str, Any]]) -> None:
    for name in ("failing-pr", "passing-pr", "dvc-plots", "regression"):
        height = _one(rendered, name, "light", 760)["height"]
        assert height < CML_HEIGHT, (name, height)
    # The job summary opens everything: the plots are there.
    assert _one(rendered, "job-summary", "light", 760)["height"] > CML_HEIGHT


def _counts(source: str, kind: str) -> list[int]:
    return [len(m.split(",")) for m in re.findall(rf"^\s*{kind} \[(.*)\]$", source, re.M)]


def test_every_chart_draws_every_point_legibly_in_both_themes(
    rendered: list[dict[str, Any]],
) -> None:
    seen = 0
    for r in rendered:
        if r["name"] == "control":
            continue
        for chart in r["charts"]:
            if not chart["visible"]:
                continue
            seen += 1
            where = (r["name"], r["theme"], r["width"], chart["source"][:160])
            assert [line["points"] for line in chart["lines"]] == _counts(
                chart["source"], "line"
            ), where
            assert [bar["bars"] for bar in chart["bars"]] == _counts(chart["source"], "bar"), where
            assert chart["overlaps"] == [], where
            if r["width"] == 760:  # at 400 px Mermaid 11 may cut an axis's last label in half
                assert chart["clipped"] == [], where  # no label cut at the chart's edge
            for series in chart["lines"] + chart["bars"]:
                assert contrast(series["colour"], r["canvas"]) >= 3, (where, series)
    assert seen >= 20


def test_curves_and_drift_draw_as_the_data_says(rendered: list[dict[str, Any]]) -> None:
    summary = _one(rendered, "dvc-plots-summary", "dark", 760)
    sources = [c["source"] for c in summary["charts"]]
    roc = next(s for s in sources if 'title "ROC"' in s)
    assert re.search(r"x-axis .* 0 --> 1\n", roc) and re.search(r"y-axis .* 0 --> 1\n", roc)
    assert not any("bar [" in s for s in sources)  # no bars on a cut axis
    issue = _one(rendered, "drift-issue", "light", 400)
    (history,) = issue["charts"]  # the PSI per feature is a bar column: no names to overlap
    psi = next(t for t in issue["tables"] if t["header"][1] == "PSI")
    assert psi["header"] == ["feature (top 10 of 30)", "PSI", "bar, from 0"]
    top = float(re.search(r'y-axis "drifted features \(%\)" 0 --> ([\d.]+)', history["source"])[1])
    assert top < 20  # scaled to shares of 0–10%, not to 100
    assert "04_07" not in history["source"]
