from __future__ import annotations

import pytest

from mlops_actions import inert
from mlops_actions.report import markdown
from mlops_actions.report.markdown import DataChange, ReportInput, Row


def _rows(body: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in body.splitlines()
        if line.startswith("|")
    ]


def _input(**kw: object) -> ReportInput:
    base: dict[str, object] = {
        "model": "demo-model",
        "baseline": "`main` (abc1234)",
        "metrics": [
            Row("accuracy", 0.95, 0.958),
            Row("log_loss", 0.12, 0.15),
            Row("rows.test", 143, 143),
        ],
    }
    base.update(kw)
    return ReportInput(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (Row("accuracy", 0.90, 0.95), ("↑", "better")),
        (Row("accuracy", 0.95, 0.90), ("↓", "worse")),
        # The arrow says better or worse, whichever way the value moved.
        (Row("rmse", 3.0, 2.5), ("↑", "better")),
        (Row("mae", 1.0, 1.5), ("↓", "worse")),
        (Row("log_loss", 0.2, 0.1), ("↑", "better")),
        (Row("val.cross_entropy_loss", 0.2, 0.3), ("↓", "worse")),
        (Row("mean_abs_error", 2.0, 1.0), ("↑", "better")),
        (Row("f1", 0.5, 0.5), ("", "same")),
        (Row("auc", None, 0.7), ("", "new")),
        (Row("auc", 0.7, None), ("", "removed")),
        (Row("rows.test", 143, 140), ("↓", "fewer")),
    ],
)
def test_direction_aware_verdicts(row: Row, expected: tuple[str, str]) -> None:
    _, arrow, judgement = markdown.verdict(row, [], [])
    assert (arrow, judgement) == expected


def test_config_overrides_direction() -> None:
    row = Row("error_budget_left", 1.0, 2.0)
    assert markdown.verdict(row, [], [])[2] == "worse"
    assert markdown.verdict(row, [], ["error_budget_left"])[2] == "better"
    assert markdown.verdict(Row("latency", 1.0, 2.0), ["latency"], [])[2] == "worse"


def test_a_change_inside_the_base_interval_is_within_noise() -> None:
    row = Row("roc_auc", 0.9951, 0.9881)  # -0.7% on 143 test rows
    assert markdown.verdict(row, [], [], base=(0.985, 0.999))[1:] == ("", "noise")
    assert markdown.verdict(row, [], [], base=(0.990, 0.999))[2] == "worse"
    assert markdown.verdict(row, [], [], current=(0.980, 0.996))[2] == "noise"
    assert markdown.verdict(row, [], [])[2] == "worse"
    # Lower is better: an rmse that rose inside the noise has no arrow pointing up.
    assert markdown.verdict(Row("rmse", 2.0, 2.1), [], [], base=(1.8, 2.2))[1:] == ("", "noise")


def test_a_metric_whose_gate_failed_is_never_noise() -> None:
    row = Row("f1", 0.94, 0.925)
    assert markdown.verdict(row, [], [], base=(0.92, 0.96))[2] == "noise"
    assert markdown.verdict(row, [], [], base=(0.92, 0.96), failed=True)[2] == "❌ failed"
    body = markdown.render(
        _input(
            metrics=[row, Row("accuracy", 0.95, 0.951)],
            base_intervals={"f1": (0.92, 0.96), "accuracy": (0.93, 0.97)},
            failed=["f1"],
            verdict="**❌ f1 0.925 &lt; 0.930** (base 0.940 − 0.010) · 1 of 1 gates failed",
        )
    )
    first = body.splitlines()[1]
    assert first.startswith("**❌ f1 0.925")
    assert ["`f1`", "❌\u00a0failed", "0.94", "0.925", "−0.015 (−1.6%)"] in _rows(body)
    assert "noise" not in [c for r in _rows(body) if r[0] == "`f1`" for c in r]


def test_an_interval_is_at_least_one_test_example_wide() -> None:
    """A precision of 1 ± 0 on 143 rows: one more false positive (47/48) is not significant
    once the trainer's interval holds every single changed prediction, and no interval of a
    rate is narrower than 1/rows."""
    from mlops_actions.training import bootstrap

    actual = [0] * 90 + [1] * 53
    predicted = [0] * 90 + [0] * 6 + [1] * 47
    found = bootstrap.classification_intervals(
        actual, predicted, [0, 1], None, {"precision": 1.0, "f1": 0.94}, seed=1
    )
    low, high = found["precision"]
    assert high == 1.0 and low <= 47 / 48
    row = Row("precision", 1.0, 47 / 48)
    assert markdown.verdict(row, [], [], base=(low, high))[2] == "noise"
    assert markdown.verdict(row, [], [], base=(1.0, 1.0))[2] == "worse"  # the old 1 ± 0
    data = _input(
        metrics=[Row("accuracy", 0.958, 0.952), Row("rows.test", 143, 143)],
        base_intervals={"accuracy": (0.958, 0.958)},
    )
    base, _ = markdown.intervals(data, "accuracy")
    assert base is not None and base[0] == pytest.approx(0.958 - 1 / 143)
    assert markdown.judged(data)[0].judgement == "noise"


def test_report_puts_what_decides_first_and_the_rest_in_closed_sections() -> None:
    body = markdown.render(
        _input(
            params=[Row("model.params.max_depth", 5, 6)],
            data=[DataChange("data", "a" * 32 + ".dir", "b" * 32 + ".dir", 1, 124_869)],
            mode="builtin",
            cache_hit=True,
            run_url="https://github.example/o/r/actions/runs/1",
            confusion={"labels": ["benign", "malignant"], "matrix": [[90, 0], [6, 47]]},
            gates_markdown="| gate | result |\n|---|---|\n| accuracy >= 0.9 | ✅ |",
            verdict="**✅ 1 of 1 gates passed**",
            primary="accuracy",
        ),
        comment_id="nightly",
    )
    assert body.startswith("<!-- mlops-actions:report id=nightly -->\n")
    # Said once: the gates' verdict and the primary metric's change.
    assert (
        body.splitlines()[1]
        == "**✅ 1 of 1 gates passed** · `accuracy` 0.95 → 0.958 (+0.8%), ↑\u00a0better"
    )
    rows = _rows(body)
    # Above the fold: what moved, the verdict second.
    assert rows[3] == ["metric", "verdict", "base", "now", "change"]
    assert ["**`accuracy`**", "↑\u00a0better", "0.95", "0.958", "+0.008 (+0.8%)"] in rows
    assert ["`log_loss`", "↓\u00a0worse", "0.12", "0.15", "+0.03 (+25.0%)"] in rows
    fold = body.index("<details>")
    assert "| accuracy >= 0.9 | ✅ |" in body[:fold] and "`log_loss`" in body[:fold]
    # Closed: every metric, params, data, the confusion matrix.
    assert ["`rows.test`", "same", "143", "143", "0"] in rows
    for section in ("All 3 metrics", "Params changed (1)", "Data", "Confusion matrix (this run)"):
        assert f"<details><summary>{section}</summary>" in body[fold:]
    assert ["`model.params.max_depth`", "5", "6"] in rows
    assert "- `data`: `aaaaaaaa` → `bbbbbbbb` · 1 file · 121.9 KB" in body
    assert "- rows: test 143" in body
    assert "```mermaid" not in body  # no bar chart repeating the table on a cut axis
    assert (
        "run cache hit" in body
        and "[workflow run: model card and artifacts](https://github.example/o/r/actions/runs/1)"
        in body
    )
    assert "| **malignant**" in body
    assert "<details open><summary>" in markdown.opened(body)
    assert "<details><summary>" not in markdown.opened(body)


def test_no_baseline_says_so_and_shows_current_values() -> None:
    body = markdown.render(_input(baseline=None, metrics=[Row("accuracy", None, 0.9)]))
    assert "**no baseline**" in body
    assert _rows(body)[0] == ["metric", "value"]
    assert ["`accuracy`", "0.9"] in _rows(body)
    assert "```mermaid" not in body


def test_regression_verdicts_follow_lower_is_better() -> None:
    body = markdown.render(
        _input(metrics=[Row("rmse", 60.0, 55.0), Row("mae", 45.0, 46.0), Row("r2", 0.4, 0.45)])
    )
    rows = _rows(body)
    assert ["`rmse`", "↑\u00a0better", "60", "55", "−5 (−8.3%)"] in rows
    assert ["`mae`", "↓\u00a0worse", "45", "46", "+1 (+2.2%)"] in rows
    assert ["`r2`", "↑\u00a0better", "0.4", "0.45", "+0.05 (+12.5%)"] in rows


@pytest.mark.parametrize("limit", [2_000, 10_000, markdown.COMMENT_LIMIT])
def test_large_report_is_cut_at_a_line_with_a_note(limit: int) -> None:
    metrics = [Row(f"per_class.label_{i}.f1", 0.5, 0.5 + i / 1e6) for i in range(3_000)]
    body = markdown.render(_input(metrics=metrics))
    assert len(body) > limit
    cut = markdown.fit(body, limit, summary_url="https://github.example/run/1")
    assert len(cut) <= limit
    assert cut.count("```") % 2 == 0
    assert "the full report is in the job summary ([open it](https://github.example/run/1))" in cut
    kept = cut.split("\n\n> [!NOTE]")[0]
    assert body.startswith(kept)
    assert kept.endswith("|") or kept.endswith("```")


def test_small_report_is_untouched() -> None:
    body = markdown.render(_input())
    assert markdown.fit(body) == body


def test_one_number_format_and_one_nan_symbol() -> None:
    body = markdown.render(
        _input(
            metrics=[
                Row("f1", 0.307705, 0.3077),
                Row("auc", float("nan"), 0.8),
                Row("x", None, 1.5),
            ]
        )
    )
    rows = _rows(body)
    assert ["`f1`", "↓\u00a0worse", "0.3077", "0.3077", "−5e−06 (−0.0%)"] in rows
    full = rows[rows.index(["metric", "verdict", "base", "this run", "change"]) :]
    assert full[3][2] == "NaN" and full[4][2] == "—"
    cells = "".join(c for r in rows if not r[0].startswith(":-") for c in r)
    assert "nan" not in body and "-" not in cells  # one minus sign: U+2212
    precise = markdown.render(_input(metrics=[Row("f1", 0.307705, 0.3077)], precision=6))
    assert ["`f1`", "↓\u00a0worse", "0.307705", "0.3077", "−5e−06 (−0.0%)"] in _rows(precise)


def test_intervals_are_shown_and_a_changed_test_set_is_a_warning() -> None:
    body = markdown.render(
        _input(
            metrics=[
                Row("f1", 0.94, 0.935),
                Row("rows.test", 143, 141),
                Row("rows.train", 426, 420),
            ],
            intervals={"f1": (0.917, 0.953)},
            base_intervals={"f1": (0.922, 0.958)},
            head="0123456789abcdef",
            head_url="https://github.example/o/r/commit/0123456789abcdef",
            training_seconds=1.234,
            model_size=2_500_000,
            mode="builtin",
        )
    )
    assert ["`f1`", "noise", "0.94 ± 0.018", "0.935 ± 0.018", "−0.005 (−0.5%)"] in _rows(body)
    assert "> [!WARNING]\n> The test set changed (143 → 141 rows)" in body
    assert "- rows: test 143 → 141 · train 426 → 420" in body
    assert "head [`0123456`](https://github.example/o/r/commit/0123456789abcdef)" in body
    assert "training: builtin, 1.2 s · model 2.4 MB" in body


def test_first_version_says_there_is_nothing_to_compare() -> None:
    body = markdown.render(_input(baseline=None, first_version=True))
    assert "**first version**: nothing to compare with yet" in body
    assert "compares" not in body and "```mermaid" not in body


def test_names_are_escaped_in_tables() -> None:
    body = markdown.render(_input(metrics=[Row("a|b", 0.5, 0.6), Row("`code`", 0.5, 0.6)]))
    assert "`a\\|b`" in body and "`` `code` ``" in body  # the name as it is


def test_a_confusion_file_whose_matrix_does_not_fit_its_labels_is_named_not_a_crash() -> None:
    from mlops_actions.report.markdown import confusion_table

    assert confusion_table({"labels": [], "matrix": [[1]]}) == (
        "_not shown: the file has 0 labels but not a square matrix of them_"
    )
    assert "not shown" in confusion_table({"labels": ["a", "b"], "matrix": [[1, 2], [3]]})
    assert "**a**" in confusion_table({"labels": ["a", "b"], "matrix": [[1, 2], [3, 4]]})


def test_untrusted_text_in_a_cell_links_mentions_and_emphasises_nothing() -> None:
    cell = inert.cell("@octocat ![x](http://e/p.png) [click](http://e) a|b **bold** <b>")
    assert "@octocat" not in cell and "@\u2060octocat" in cell  # no mention, reads the same
    assert "![x](" not in cell and "[click](" not in cell and "**bold**" not in cell
    assert "<b>" not in cell and "a\\|b" in cell
