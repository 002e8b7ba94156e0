"""`mlops-actions gate`: params.yaml's rules against the metrics; exit 0 pass, 1 fail, 2 error."""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_actions import config, gates, git, metrics, output
from mlops_actions.errors import GitError, MetricsError

_LABELS = {gates.PASS: "pass", gates.FAIL: "FAIL", gates.ERROR: "ERROR", gates.SKIPPED: "skipped"}


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.params)
    rules = gates.parse_rules(cfg.gates, cfg.path)
    no_baseline, prefix = _options(cfg)
    if not rules:
        output.info("no gates in params.yaml; nothing to check")
        write_outputs({"gates-passed": "true", "gates": "[]"})
        return 0
    current = metrics.scalars(metrics.load(cfg.resolve(cfg.train.metrics), cfg.train.metrics))
    ref = default_base(args.base)
    baseline = load_baseline(cfg, ref)
    relative = sum(rule.relative for rule in rules)
    if baseline is None and relative:
        outcome = {"skip": "skipped", "fail": "failed", "error": "errors"}[no_baseline]
        output.warning(
            f"no base metrics at '{ref}' (no such ref, or {cfg.train.metrics} is not committed "
            f"there): {relative} relative gate(s) {outcome} (gate_options.no_baseline: "
            f"{no_baseline})"
        )
    results = gates.evaluate(rules, current, baseline, no_baseline=no_baseline, prefix=prefix)
    output.info(render_table(results))
    for result in results:
        if result.state == gates.ERROR:
            output.error(f"gate '{result.text}': {result.detail}")
    output.info(gates.summary(results))
    code = gates.exit_code(results)
    write_outputs(
        {
            "gates-passed": "true" if code == 0 else "false",
            "gates": json.dumps([r.to_dict() for r in results], ensure_ascii=False),
        }
    )
    # Commit statuses (--status) are posted here once the GitHub client lands: one per result
    # (result.context, gates.GITHUB_STATES[result.state], result.description) and one overall.
    return code


def render_table(results: Sequence[gates.GateResult]) -> str:
    from tabulate import tabulate

    rows = [
        [
            r.text,
            gates.format_number(r.value),
            gates.format_number(r.baseline),
            f"{_LABELS[r.state]}: {r.detail}",
        ]
        for r in results
    ]
    return tabulate(
        rows,
        headers=["rule", "value", "baseline", "result"],
        tablefmt="simple",
        disable_numparse=True,
    )


def default_base(explicit: str | None) -> str:
    """--base, else the pull request's base branch, else main."""
    return explicit or os.environ.get("GITHUB_BASE_REF") or "main"


def load_baseline(cfg: config.Config, base_ref: str | None) -> dict[str, Any] | None:
    """The flattened scalar metrics committed at the base ref; None when there are none.

    The one place that decides the baseline: when compare.py's resolution lands (the base ref,
    else the latest promoted tag), this calls it instead.
    """
    ref = default_base(base_ref)
    sha = _commit(ref, cfg.root)
    if sha is None:
        return None
    name = posixpath.normpath(cfg.train.metrics.replace(os.sep, "/"))
    try:
        text = git.run("show", f"{sha}:./{name}", cwd=cfg.root)
    except GitError:
        return None
    data = metrics.parse(text, f"{ref}:{name}")
    if not isinstance(data, dict):
        raise MetricsError(f"{ref}:{name}: expected a mapping of metric names to values")
    return metrics.scalars(data)


def _commit(ref: str, cwd: Path) -> str | None:
    """The commit `ref` names, trying `origin/<ref>` too (a PR checkout has no local base)."""
    if not ref or ref.startswith("-"):
        return None
    for candidate in (ref, f"origin/{ref}"):
        try:
            return git.run("rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}", cwd=cwd)
        except GitError:
            continue
    return None


def _options(cfg: config.Config) -> tuple[str, str]:
    """(no_baseline, status_prefix) from params.yaml's gate_options, with their defaults."""
    options = getattr(cfg, "gate_options", None)
    no_baseline = getattr(options, "no_baseline", None) or "skip"
    prefix = getattr(options, "status_prefix", None) or gates.DEFAULT_PREFIX
    return str(no_baseline), str(prefix)


def write_outputs(values: dict[str, str]) -> None:
    """Append step outputs to $GITHUB_OUTPUT in the multi-line form `name<<DELIMITER`."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as f:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            f.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
