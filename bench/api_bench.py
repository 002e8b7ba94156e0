"""GitHub API requests for one pull-request run: `mlops-actions run` in-process, in the
environment of an Actions `pull_request` run, against the test suite's fake GitHub (which
validates every request against GitHub's OpenAPI description and records it).

The project is the test suite's demo with gates; main holds the trained metrics, the PR branch
changes a hyper-parameter. Counts the requests by (method, path), and names any that repeat:
commit statuses all go to one path, so those are told apart by their context.

    .venv/bin/python -m bench.api_bench [--gates 2]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bench.common import ENV, Result, Row, command, git, measure

GATES = ["f1 >= 0.8", "accuracy >= base - 0.05", "roc_auc >= 0.9", "recall >= 0.7"]
MERGE_SHA = "e5bd3914e2e596debea16f433f57875b5b90bcd6"


def build(base: Path, gates: int) -> Path:
    """The demo project with `gates` gates; main trained and committed, then a PR commit."""
    from tests.helpers import DEMO_PARAMS, build_demo_repo

    repo = build_demo_repo(base)
    params = json.loads(json.dumps(DEMO_PARAMS))
    params["gates"] = GATES[:gates]
    (repo / "params.yaml").write_text(yaml.safe_dump({"mlops": params}, sort_keys=False))
    measure([*command("mlops-actions"), "train"], repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "trained on main")
    git(repo, "checkout", "-q", "-b", "deeper-trees")
    params["model"]["params"]["max_depth"] = 6
    (repo / "params.yaml").write_text(yaml.safe_dump({"mlops": params}, sort_keys=False))
    git(repo, "commit", "-q", "-am", "deeper trees")
    return repo


def _event(server: Any, number: int, head_sha: str) -> dict[str, Any]:
    repo = {
        "full_name": server.repository,
        "name": server.name,
        "default_branch": server.default_branch,
        "owner": {"login": server.owner},
    }
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": "deeper-trees", "sha": head_sha, "repo": repo},
            "base": {"ref": server.default_branch, "sha": "0" * 40, "repo": repo},
        },
        "repository": repo,
    }


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)


def _key(request: Any) -> tuple[str, str, str]:
    """(method, path, context): statuses share a path, so their context tells them apart."""
    context = ""
    if "/statuses/" in request.path and request.body:
        context = str(json.loads(request.body).get("context"))
    return request.method, request.path, context


def _state(request: Any) -> str:
    if "/statuses/" in request.path and request.body:
        return str(json.loads(request.body).get("state"))
    return ""


def run(gates: int = 2, log: Any = print) -> Result:
    from mlops_actions import cli
    from mlops_actions.config.gates import overall_context
    from tests.fakegithub import SPEC_PATH, FakeGitHub, load_spec

    if not SPEC_PATH.is_file():
        log(f"  skipped: {SPEC_PATH} is missing (run `npm install`)")
        row = Row("GitHub API requests, one PR run", "—", "—", "—", "≤ 3 + 1 per gate", None)
        row.note = "not measured: GitHub's OpenAPI description is missing; run `npm install`"
        return Result(rows=[row])

    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
        base = Path(tmp)
        repo = build(base, gates)
        head_sha = git(repo, "rev-parse", "HEAD").strip()
        runner = base / "runner"
        runner.mkdir()
        with FakeGitHub(load_spec()) as server:
            number = server.add_pull("deeper-trees", head_sha=head_sha)["number"]
            (runner / "event.json").write_text(json.dumps(_event(server, number, head_sha)))
            env = {
                **ENV,
                "GITHUB_ACTIONS": "true",
                "GITHUB_EVENT_NAME": "pull_request",
                "GITHUB_EVENT_PATH": str(runner / "event.json"),
                "GITHUB_API_URL": server.url,
                "GITHUB_SERVER_URL": server.host_url,
                "GITHUB_TOKEN": server.token,
                "GITHUB_REPOSITORY": server.repository,
                "GITHUB_SHA": MERGE_SHA,
                "GITHUB_REF": f"refs/pull/{number}/merge",
                "GITHUB_BASE_REF": server.default_branch,
                "GITHUB_RUN_ID": "4242",
                "GITHUB_RUN_ATTEMPT": "1",
                "GITHUB_OUTPUT": str(runner / "output"),
                "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
                "NO_PROXY": "127.0.0.1",
            }
            out, err = io.StringIO(), io.StringIO()
            codes: list[int] = []
            requests: list[Any] = []
            for _ in range(2):  # the first run, then a re-run of the same commit
                with (
                    _environment(env),
                    contextlib.redirect_stdout(out),
                    contextlib.redirect_stderr(err),
                ):
                    codes.append(cli.main(["run", "-C", str(repo)]))
                if not requests:
                    requests = list(server.requests)
            rerun = server.requests[len(requests) :]
            violations = list(server.violations)
            comments = server.issue_comments.get(number, [])
    code = codes[0]
    if any(c not in (0, 1) for c in codes):
        raise SystemExit(f"mlops-actions run failed ({codes}):\n{out.getvalue()}{err.getvalue()}")
    by_path = Counter((r.method, r.path) for r in requests)
    by_key = Counter(_key(r) for r in requests)
    repeated = [key for key, n in by_key.items() if n > 1]
    repeats = [
        f"{m} {_short(p)} {c}".strip()
        + f" ×{by_key[m, p, c]} ({' → '.join(_state(r) for r in requests if _key(r) == (m, p, c))})"
        for m, p, c in repeated
    ]
    aim = 3 + gates
    listing = "; ".join(f"{m} {_short(p)} ×{n}" for (m, p), n in by_path.items())
    log(f"  API requests for one PR run with {gates} gates: {len(requests)} (aim ≤ {aim})")
    for r in requests:
        log(f"    {r.method:5} {r.path} {_key(r)[2]} {_state(r)}")
    log(f"  re-run of the same commit: {len(rerun)} requests")
    for r in rerun:
        log(f"    {r.method:5} {r.path} {_key(r)[2]} {_state(r)}")
    if violations:
        log(f"  off-spec requests: {violations}")
    note = (
        f"{gates} gates, exit {code}; {listing}; "
        + (f"repeated: {', '.join(repeats)}" if repeats else "none repeated")
        + f"; {len(comments)} comment on the PR; a re-run of the same commit sent {len(rerun)} "
        + f"({', '.join(sorted({m for m, _, _ in map(_key, rerun)}))})"
        + (f"; {len(violations)} OFF-SPEC" if violations else "")
    )
    row = Row(
        "GitHub API requests, one PR run",
        str(len(requests)),
        "—",
        "—",
        f"≤ 3 + 1 per gate (= {aim}); none repeated",
        len(requests) <= aim and not repeats and not violations,
        note,
    )
    overall = [_state(r) for r in requests if _key(r)[2] == overall_context()]
    if (
        len(requests) == aim + 1
        and not violations
        and [context for _, _, context in repeated] == [overall_context()]
        and len(overall) == 2
        and overall[0] == "pending"
    ):
        row.why = (
            f"The one request over is the overall `{overall_context()}` status, posted as "
            "pending when the run starts and again with the gates' verdict, so that a check "
            "branch protection requires is never missing while the job runs; kept on purpose."
        )
    return Result(rows=[row], series={"api": {"requests": len(requests), "gates": gates}})


def _short(path: str) -> str:
    parts = path.split("/")
    return "/".join(p if len(p) < 40 else p[:7] + "…" for p in parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gates", type=int, default=2, choices=range(1, len(GATES) + 1))
    args = parser.parse_args(argv)
    return 0 if all(r.met for r in run(args.gates).rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
