from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, cast

import pytest

from mlops_actions import cli
from mlops_actions.config import gates
from tests.helpers import DEMO_PARAMS, commit_all, git, read_outputs, write_params


def test_contexts_are_stable_and_prefixed() -> None:
    a, b = gates.parse_rules(["f1>=base-0.01", "accuracy >= 0.90"], "params.yaml")
    assert gates.context(a) == "mlops/gate: f1 >= base - 0.01"
    assert gates.context(b, "ml") == "ml: accuracy >= 0.9"
    assert gates.overall_context() == "mlops/gate"
    [result] = gates.evaluate([a], {"f1": 0.9}, {"f1": 0.9}, prefix="ml/gate")
    assert result.context == "ml/gate: f1 >= base - 0.01"


# --- evaluation --------------------------------------------------------------------------------


def _one(
    text: str, current: dict[str, Any], base: dict[str, Any] | None = None, **kw: Any
) -> gates.GateResult:
    [result] = gates.evaluate([gates.parse_rule(text)], current, base, **kw)
    return result


@pytest.mark.parametrize(
    ("text", "value", "base", "state", "threshold", "description"),
    [
        # higher is better, absolute
        ("accuracy >= 0.90", 0.912, None, "pass", 0.9, "accuracy 0.912 ≥ 0.900 ✓"),
        ("accuracy >= 0.90", 0.9, None, "pass", 0.9, "accuracy 0.900 ≥ 0.900 ✓"),
        ("accuracy >= 0.90", 0.85, None, "fail", 0.9, "accuracy 0.850 < 0.900"),
        ("accuracy > 0.90", 0.9, None, "fail", 0.9, "accuracy 0.900 ≤ 0.900"),
        ("accuracy >= 0.9125", 0.9121, None, "fail", 0.9125, "accuracy 0.9121 < 0.9125"),
        # lower is better, absolute
        ("rmse <= 3.5", 3.5, None, "pass", 3.5, "rmse 3.500 ≤ 3.500 ✓"),
        ("rmse <= 3.5", 3.6, None, "fail", 3.5, "rmse 3.600 > 3.500"),
        ("rmse < 3.5", 3.5, None, "fail", 3.5, "rmse 3.500 ≥ 3.500"),
        ("loss < 0.0005", 0.00049, None, "pass", 0.0005, "loss 0.00049 < 0.00050 ✓"),
        # counts stay integers
        ("rows.test >= 100", 143, None, "pass", 100, "rows.test 143 ≥ 100 ✓"),
        ("rows.test >= 100", 99, None, "fail", 100, "rows.test 99 < 100"),
        ("rows.test == 143", 143, None, "pass", 143, "rows.test 143 = 143 ✓"),
        ("rows.test == 143", 142, None, "fail", 143, "rows.test 142 ≠ 143"),
        # relative, absolute offset
        ("f1 >= base - 0.01", 0.871, 0.89, "fail", 0.88, "f1 0.871 < 0.880 (base 0.890 − 0.010)"),
        ("f1 >= base - 0.01", 0.88, 0.89, "pass", 0.88, "f1 0.880 ≥ 0.880 (base 0.890 − 0.010) ✓"),
        ("roc_auc >= base", 0.95, 0.95, "pass", 0.95, "roc_auc 0.950 ≥ 0.950 (base) ✓"),
        ("roc_auc >= base", 0.949, 0.95, "fail", 0.95, "roc_auc 0.949 < 0.950 (base)"),
        ("rmse <= base + 0.1", 3.6, 3.5, "pass", 3.6, "rmse 3.600 ≤ 3.600 (base 3.500 + 0.100) ✓"),
        # relative, percentage (of the base's magnitude)
        ("rmse <= base + 5%", 3.57, 3.4, "pass", 3.57, "rmse 3.570 ≤ 3.570 (base 3.400 + 5%) ✓"),
        ("rmse <= base + 5%", 3.58, 3.4, "fail", 3.57, "rmse 3.580 > 3.570 (base 3.400 + 5%)"),
        (
            "accuracy >= base - 2%",
            0.881,
            0.9,
            "fail",
            0.882,
            "accuracy 0.881 < 0.882 (base 0.900 − 2%)",
        ),
        (
            "r2 >= base - 10%",
            -0.54,
            -0.5,
            "pass",
            -0.55,
            "r2 -0.540 ≥ -0.550 (base -0.500 − 10%) ✓",
        ),
    ],
)
def test_evaluation(
    text: str,
    value: float,
    base: float | None,
    state: str,
    threshold: float,
    description: str,
) -> None:
    metric = gates.parse_rule(text).metric
    baseline = None if base is None else {metric: base}
    result = _one(text, {metric: value}, baseline)
    assert result.state == state
    assert result.value == value
    assert result.baseline == base
    assert result.threshold == pytest.approx(threshold)
    assert result.description == description


@pytest.mark.parametrize(
    ("value", "description"),
    [
        (float("nan"), "accuracy: metric is NaN"),
        (float("inf"), "accuracy: metric is infinite"),
        (float("-inf"), "accuracy: metric is -infinite"),
        ("0.95", "accuracy: metric is '0.95', not a number"),
        (True, "accuracy: metric is true, not a number"),
        (None, "accuracy: metric is null"),
    ],
)
def test_unusable_metrics_are_errors_never_passes(value: Any, description: str) -> None:
    for text in ("accuracy >= 0.9", "accuracy <= 0.9", "accuracy >= base"):
        result = _one(text, {"accuracy": value}, {"accuracy": 0.9})
        assert result.state == "error"
        assert result.description == description
        assert result.threshold is None


def test_missing_metric_is_an_error_with_a_suggestion() -> None:
    result = _one("acuracy >= 0.9", {"accuracy": 0.95, "f1": 0.9})
    assert result.state == "error"
    assert result.description == "acuracy: metric not found (did you mean 'accuracy'?)"
    assert result.value is None


@pytest.mark.parametrize(
    ("base", "description"),
    [
        ({"accuracy": 0.9}, "f1: base value not found"),
        ({"f1": float("nan")}, "f1: base value is NaN"),
        ({"f1": "n/a"}, "f1: base value is 'n/a', not a number"),
    ],
)
def test_relative_rule_without_a_usable_base_value_is_an_error(
    base: dict[str, Any], description: str
) -> None:
    result = _one("f1 >= base - 0.01", {"f1": 0.9}, base)
    assert (result.state, result.description) == ("error", description)


def test_absolute_rule_ignores_an_unusable_base_value() -> None:
    result = _one("f1 >= 0.8", {"f1": 0.9}, {"f1": float("nan")})
    assert (result.state, result.baseline) == ("pass", None)


@pytest.mark.parametrize(
    ("mode", "state", "description"),
    [
        ("skip", "skipped", "f1: no base metrics, skipped"),
        ("fail", "fail", "f1: no base metrics"),
        ("error", "error", "f1: no base metrics"),
    ],
)
def test_no_baseline(mode: str, state: str, description: str) -> None:
    rules = gates.parse_rules(["f1 >= base - 0.01", "f1 >= 0.8"], "params.yaml")
    relative, absolute = gates.evaluate(rules, {"f1": 0.9}, None, no_baseline=mode)
    assert (relative.state, relative.description) == (state, description)
    assert (relative.value, relative.baseline, relative.threshold) == (0.9, None, None)
    assert absolute.state == "pass"


def test_no_baseline_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="no_baseline must be one of skip, fail, error"):
        gates.evaluate([], {}, None, no_baseline="ignore")


def _results(*states: str) -> list[gates.GateResult]:
    rule = gates.parse_rule("x >= 0")
    return [
        gates.GateResult(rule, cast(gates.State, s), None, None, None, "", "", "") for s in states
    ]


@pytest.mark.parametrize(
    ("states", "overall", "code"),
    [
        ((), "pass", 0),
        (("pass",), "pass", 0),
        (("pass", "skipped"), "pass", 0),
        (("skipped",), "pass", 0),
        (("pass", "fail"), "fail", 1),
        (("fail", "skipped"), "fail", 1),
        (("pass", "error"), "error", 2),
        (("fail", "error", "pass"), "error", 2),
    ],
)
def test_overall_and_exit_code(states: tuple[str, ...], overall: str, code: int) -> None:
    results = _results(*states)
    assert gates.overall(results) == overall
    assert gates.exit_code(results) == code


@pytest.mark.parametrize(
    ("metric", "base"),
    [
        ("a" * 300, None),
        ("metrics.test.per_class." + "very_long_class_name_" * 10 + ".f1", 0.93),
        ("x" * 130, 0.93),
    ],
)
def test_descriptions_fit_a_commit_status(metric: str, base: float | None) -> None:
    texts = [f"{metric} >= base - 0.01", f"{metric} <= 0.9", f"{metric} >= 0.9"]
    rules = gates.parse_rules(texts, "params.yaml")
    baseline = None if base is None else {metric: base}
    for result in gates.evaluate(rules, {metric: 0.91}, baseline, no_baseline="error"):
        assert len(result.description) <= gates.DESCRIPTION_LIMIT
        # The numbers survive; the name loses its middle, keeping both ends.
        assert result.description.startswith(metric[:10])
        if result.state in ("pass", "fail"):
            assert "0.910" in result.description
            assert metric[-20:] in result.description
            assert "…" in result.description
    missing = _one(f"{metric[:-1]}z >= 0.9", {metric: 0.9})
    assert missing.state == "error"
    assert len(missing.description) <= gates.DESCRIPTION_LIMIT


def test_results_serialize_to_json() -> None:
    rules = gates.parse_rules(["f1 >= base - 0.01", "loss < 1"], "params.yaml")
    results = gates.evaluate(rules, {"f1": 0.871, "loss": float("nan")}, {"f1": 0.89})
    data = json.loads(json.dumps([r.to_dict() for r in results], allow_nan=False))
    assert data[0] == {
        "rule": "f1 >= base - 0.01",
        "metric": "f1",
        "context": "mlops/gate: f1 >= base - 0.01",
        "state": "fail",
        "value": 0.871,
        "baseline": 0.89,
        "threshold": pytest.approx(0.88),
        "description": "f1 0.871 < 0.880 (base 0.890 − 0.010)",
    }
    assert data[1]["state"] == "error"
    assert data[1]["value"] is None


def test_github_states() -> None:
    assert gates.GITHUB_STATES == {
        "pass": "success",
        "fail": "failure",
        "error": "error",
        "skipped": "success",
    }


def test_render_markdown() -> None:
    rules = gates.parse_rules(
        ["accuracy >= 0.9", "f1 >= base - 0.01", "'a|b' > 0", "auc >= base"], "params.yaml"
    )
    results = gates.evaluate(rules, {"accuracy": 0.95, "f1": 0.8, "auc": 0.9}, None)
    markdown = gates.render_markdown(results)
    lines = markdown.splitlines()
    # The headline names the gate that decided, and how many there were of each.
    assert lines[0] == (
        "**⚠️ a\\|b: metric not found** · 1 of 4 gates could not be evaluated · 2 skipped"
    )
    assert lines[2].replace(" ", "") == "|gate|result|"  # the result second: a phone shows it
    body = "\n".join(lines[4:])
    assert "✅ 0.950 ≥ 0.900" in lines[4] and "`accuracy >= 0.9`" in lines[4]
    assert "⏭" in lines[5] and "no base metrics, skipped" in lines[5]
    assert "⚠️" in lines[6] and "`'a\\|b' > 0`" in lines[6]
    assert body.count("\n") == 3
    assert gates.render_markdown([]) == ""

    results = gates.evaluate(rules[:2], {"accuracy": 0.85, "f1": 0.8}, {"f1": 0.9})
    assert "❌" in gates.render_markdown(results)
    assert gates.summary(results) == "gates: 2 failed"
    assert gates.headline(results) == "**❌ accuracy 0.850 &lt; 0.900** · 2 of 2 gates failed"
    assert gates.failed_metrics(results) == ["accuracy", "f1"]


def test_the_headline_names_the_failed_gate_with_its_base_or_says_all_passed() -> None:
    rules = gates.parse_rules(
        ["accuracy >= 0.90", "f1 >= base - 0.02", "roc_auc >= 0.95", "rows.test >= 100"],
        "params.yaml",
    )
    current = {"accuracy": 0.93, "f1": 0.902, "roc_auc": 0.97, "rows.test": 143}
    results = gates.evaluate(rules, current, {"f1": 0.94})
    assert gates.headline(results) == (
        "**❌ f1 0.902 &lt; 0.920** (base 0.940 − 0.020) · 1 of 4 gates failed"
    )
    assert gates.failed_metrics(results) == ["f1"]
    passed = gates.evaluate(rules, {**current, "f1": 0.95}, {"f1": 0.94})
    assert gates.headline(passed) == "**✅ 4 of 4 gates passed**"
    assert gates.headline([]) is None


def test_summary() -> None:
    assert gates.summary([]) == "no gates in params.yaml"
    assert gates.summary(_results("pass", "skipped")) == "gates: 1 passed, 1 skipped"
    assert gates.summary(_results("pass", "error", "error")) == ("gates: 1 passed, 2 errors")


# --- the command -------------------------------------------------------------------------------

GATES = [
    "accuracy >= 0.90",
    "f1 >= base - 0.01",
    "log_loss <= base + 5%",
    "rows.test >= 100",
]


def _metrics(repo: Path, **values: Any) -> None:
    data = {"accuracy": 0.95, "f1": 0.94, "log_loss": 0.2, "rows": {"train": 426, "test": 143}}
    data.update(values)
    (repo / "metrics.json").write_text(json.dumps(data))


def _project(repo: Path, rules: list[Any], **extra: Any) -> None:
    params = copy.deepcopy(DEMO_PARAMS)
    params["gates"] = rules
    params.update(extra)
    write_params(repo, params)


@pytest.fixture
def branch_repo(git_repo: Path) -> Path:
    """main has passing metrics committed; the test runs on the branch 'change'."""
    _project(git_repo, GATES)
    _metrics(git_repo)
    commit_all(git_repo, "baseline")
    git(git_repo, "checkout", "-q", "-b", "change")
    return git_repo


def test_gate_passes(
    branch_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    output_file = branch_repo.parent / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output_file))
    _metrics(branch_repo, accuracy=0.96, f1=0.935, log_loss=0.21)
    assert cli.main(["gate", "--base", "main"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["rule", "value", "baseline", "result"]
    rows = _cells(lines)
    # An absolute rule does not read the base value: its baseline cell stays empty.
    assert rows[0] == ["accuracy >= 0.90", "0.96", "", "pass: 0.960 ≥ 0.900"]
    assert rows[1][:3] == ["f1 >= base - 0.01", "0.935", "0.94"]
    assert "pass: 0.935 ≥ 0.930 (base 0.940 − 0.010)" in lines[3]
    assert "pass: 0.210 ≤ 0.210 (base 0.200 + 5%)" in lines[4]
    assert "rows.test >= 100" in lines[5] and "143" in lines[5]
    assert lines[-1] == "gates: 4 passed"

    outputs = read_outputs(output_file)
    assert outputs["gates-passed"] == "true"
    results = json.loads(outputs["gates"])
    assert [r["state"] for r in results] == ["pass"] * 4
    assert results[1]["context"] == "mlops/gate: f1 >= base - 0.01"
    assert results[1]["baseline"] == 0.94


def _cells(lines: list[str]) -> list[list[str]]:
    """The body cells of a tabulate 'simple' table, cut where its dashed rule has gaps."""
    starts = [m.start() for m in re.finditer(r"-+", lines[1])]
    ends: list[int | None] = [*starts[1:], None]
    body = [line for line in lines[2:] if not line.startswith("gates:")]
    return [[line[a:b].strip() for a, b in zip(starts, ends, strict=True)] for line in body]


def test_gate_fails(
    branch_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    output_file = branch_repo.parent / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output_file))
    _metrics(branch_repo, f1=0.92, log_loss=0.3)
    assert cli.main(["gate", "--base", "main"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: 0.920 < 0.930 (base 0.940 − 0.010)" in out
    assert "FAIL: 0.300 > 0.210 (base 0.200 + 5%)" in out
    assert out.splitlines()[-1] == "gates: 2 passed, 2 failed"
    outputs = read_outputs(output_file)
    assert outputs["gates-passed"] == "false"
    assert [r["state"] for r in json.loads(outputs["gates"])] == ["pass", "fail", "fail", "pass"]


def test_gate_errors_on_a_missing_or_broken_metric(
    branch_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(branch_repo, [*GATES, "precision >= 0.9"])
    (branch_repo / "metrics.json").write_text(
        '{"accuracy": NaN, "f1": 0.99, "log_loss": 0.1, "rows": {"test": 50}}'
    )
    assert cli.main(["gate", "--base", "main"]) == 2
    captured = capsys.readouterr()
    assert "ERROR: metric is NaN" in captured.out
    assert "FAIL: 50 < 100" in captured.out
    assert "ERROR: metric not found" in captured.out
    assert captured.out.splitlines()[-1] == ("gates: 2 passed, 1 failed, 2 errors")
    assert "error: gate 'precision >= 0.9' could not be evaluated: metric not found" in captured.err


def test_gate_without_base_metrics_skips_relative_rules(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(git_repo, GATES)
    commit_all(git_repo, "main has no metrics yet")
    git(git_repo, "checkout", "-q", "-b", "change")
    _metrics(git_repo)
    assert cli.main(["gate"]) == 0
    captured = capsys.readouterr()
    assert "warning: no base metrics" in captured.err
    assert "2 relative gate(s) skipped" in captured.err
    assert captured.out.count("skipped: no base metrics, skipped") == 2
    assert captured.out.splitlines()[-1] == "gates: 2 passed, 2 skipped"


def test_gate_with_an_unknown_base_is_an_error(
    branch_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_BASE_REF", "no-such-branch")
    assert cli.main(["gate"]) == 2
    err = capsys.readouterr().err
    assert "base branch 'no-such-branch' is not in this clone" in err and "fetch-depth: 0" in err
    assert cli.main(["gate", "--base", "nope"]) == 2


def test_gate_finds_the_base_on_origin(
    branch_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A pull-request checkout has origin/main but no local main.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--branch", "change", str(branch_repo), str(clone))
    assert git(clone, "branch", "--list", "main") == ""
    monkeypatch.chdir(clone)
    _metrics(clone, f1=0.92)
    assert cli.main(["gate", "--base", "main"]) == 1
    assert "FAIL: 0.920 < 0.930 (base 0.940 − 0.010)" in capsys.readouterr().out


def test_gate_refuses_an_invalid_rule(
    branch_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(branch_repo, ["accuracy >= 0.9", "f1 >= base", "accuracy >= 0.9x"])
    assert cli.main(["gate", "--base", "main"]) == 2
    err = capsys.readouterr().err
    assert (
        "error: params.yaml: mlops.gates[2]: 'accuracy >= 0.9x': unexpected 'x' at column 16" in err
    )


def test_gate_without_metrics_is_an_error(
    branch_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (branch_repo / "metrics.json").unlink()
    assert cli.main(["gate", "--base", "main"]) == 2
    assert "metrics.json: metrics file not found" in capsys.readouterr().err


def test_gate_without_rules(
    git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    output_file = git_repo / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output_file))
    _project(git_repo, [])
    assert cli.main(["gate"]) == 0
    assert "no gates in params.yaml" in capsys.readouterr().out
    assert read_outputs(output_file) == {"gates-passed": "true", "gates": "[]"}


def test_gate_options_from_params(
    branch_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"no_baseline": "fail", "status_prefix": "ml/gate"}
    output_file = branch_repo.parent / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output_file))
    git(branch_repo, "checkout", "-q", "--orphan", "fresh")
    (branch_repo / "metrics.json").unlink()
    _project(branch_repo, GATES, gate_options=options)
    commit_all(branch_repo, "a base without metrics")
    _metrics(branch_repo)
    assert cli.main(["gate", "--base", "fresh"]) == 1
    assert "2 relative gate(s) failed" in capsys.readouterr().err
    contexts = [r["context"] for r in json.loads(read_outputs(output_file)["gates"])]
    assert contexts[0] == "ml/gate: accuracy >= 0.9"
    results = json.loads(read_outputs(output_file)["gates"])
    assert results[0]["context"] == "ml/gate: accuracy >= 0.9"


def test_a_missing_metric_in_the_report_lists_the_metrics_there() -> None:
    rules = gates.parse_rules(["RMSE <= 60", "r2 >= 0.4"], "params.yaml")
    current = {"rmse": 53.9, "mae": 42.9, "r2": 0.45}
    missing, present = gates.evaluate(rules, current, None, source="metrics.json")
    assert missing.hint == "metrics.json has: rmse, mae, r2"
    assert missing.description == "RMSE: metric not found (did you mean 'rmse'?)"
    assert present.hint == ""
    row = gates.render_markdown([missing]).splitlines()[-1]
    assert row.endswith(
        "| ⚠️ `metric not found (did you mean 'rmse'?); metrics.json has: rmse, mae, r2` |"
    )
