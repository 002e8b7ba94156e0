"""Listing the registry: `mlops-actions models --json` against `gto show --json`.

Builds a temp repo per size with N GTO-format annotated tags (written in one `git fast-import`),
runs both commands on it as subprocesses, and prints the medians after a warm-up run.

    .venv/bin/python -m bench.models_bench [--sizes 100,1000,10000] [--runs 5] [--gto-limit 60]

GTO gets fewer runs on the big repos (it takes seconds to minutes there); `--gto-limit` skips
it at a size once one run took longer than that many seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlops_actions import tag
from mlops_actions.tag import TagInfo

MODELS = 10
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}\n"


def make_tags(repo: Path, n: int, models: int = MODELS, start: int = 1_700_000_000) -> None:
    """A repo with `n` annotated tags over `models` models: mostly registrations, every 10th
    tag of a model a stage assignment (alternating prod and staging) of its newest version."""
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=ENV)
    who = "Bench <bench@example.invalid>"
    stream: list[str] = []
    versions = [0] * models
    counters = [0] * models
    for i in range(n):
        when = f"{start + i} +0000"
        m = i % models
        name = f"model-{m}"
        if (i // models) % 10 == 9 and versions[m]:
            counters[m] += 1
            stage = "prod" if counters[m] % 2 else "staging"
            version = f"v0.{versions[m] // 100}.{versions[m] % 100}"
            subject = tag.assignment_subject(name, stage, version)
            tag_name = tag.assignment(name, stage, counters[m])
            target = f":{versions[m] * models + m + 1}"
        else:
            versions[m] += 1
            mark = versions[m] * models + m + 1
            stream.append(f"commit refs/heads/main\nmark :{mark}\ncommitter {who} {when}\n")
            stream.append(_data(f"train {name} #{versions[m]}"))
            version = f"v0.{versions[m] // 100}.{versions[m] % 100}"
            subject = tag.registration_subject(name, version)
            tag_name = tag.registration(name, version)
            target = f":{mark}"
        info = TagInfo(
            metrics={"f1": round(0.5 + (i % 500) / 1000, 4), "accuracy": 0.9},
            primary="f1",
            model_sha256=f"{i:064x}",
            model_path="model/model.skops",
            data={"data": f"{i:032x}.dir"},
            params_sha256=f"{n - i:064x}",
            fingerprint=f"{i:064x}",
        )
        stream.append(f"tag {tag_name}\nfrom {target}\ntagger {who} {when}\n")
        stream.append(_data(tag.format_message(subject, info)))
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=repo,
        input="".join(stream),
        text=True,
        check=True,
        env=ENV,
    )
    subprocess.run(["git", "pack-refs", "--all"], cwd=repo, check=True, env=ENV)


def _run(cmd: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
    return elapsed, proc.stdout


def _median(cmd: list[str], cwd: Path, runs: int) -> tuple[float, str]:
    """Median wall time of `runs` runs after one warm-up run; also the last stdout."""
    _, out = _run(cmd, cwd)
    times = []
    for _ in range(runs):
        elapsed, out = _run(cmd, cwd)
        times.append(elapsed)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gto-limit", type=float, default=60.0)
    args = parser.parse_args(argv)
    ours = [sys.executable, "-m", "mlops_actions", "models", "--json"]
    gto = [str(Path(sys.executable).parent / "gto"), "show", "--json"]
    print(f"{'tags':>7} {'mlops-actions':>14} {'gto show':>16} {'ratio':>7}", flush=True)
    with tempfile.TemporaryDirectory(prefix="models-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            repo = Path(tmp) / f"r{size}"
            make_tags(repo, size)
            mine, listing = _median(ours, repo, args.runs)
            our_latest = {k: v["latest"] for k, v in json.loads(listing).items()}
            assert len(our_latest) == MODELS, f"expected {MODELS} models, got {len(our_latest)}"
            first, shown = _run(gto, repo)  # GTO's warm-up, and whether more runs are affordable
            if first > args.gto_limit:
                theirs, label = first, f"{first:.1f} s (1 run)"
            elif first > 5:
                theirs, shown = _run(gto, repo)
                label = f"{theirs:.3f} s (1 run)"
            else:
                theirs, shown = _median(gto, repo, args.runs - 1)
                label = f"{theirs:.3f} s"
            gto_latest = {k: v["version"] for k, v in json.loads(shown).items()}
            assert gto_latest == our_latest, f"gto and mlops-actions disagree at {size} tags"
            print(f"{size:>7} {mine:>12.3f} s {label:>16} {theirs / mine:>6.0f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
