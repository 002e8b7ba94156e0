"""`mlops-actions runs`: the experiments on the git remote and in this clone; `runs show NAME`,
`runs diff A B`, `runs prune`."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from mlops_actions import output
from mlops_actions.errors import MlopsError
from mlops_actions.tracking import listing, localgit, view


@dataclass(frozen=True)
class Query:
    remote: str | None = None  # None: the clone's default remote
    local_only: bool = False
    fmt: str | None = None
    sort: str | None = None
    filter: str | None = None
    limit: int | None = None
    baseline: str | None = None
    branch: str | None = None
    pr: int | None = None
    sweep: str | None = None  # the trials of this sweep only


def _gather(query: Query) -> list[listing.Run]:
    start = Path.cwd()
    top = listing.top_of(start)
    remote = None if query.local_only else (query.remote or listing.default_remote(top))
    if remote is None and not query.local_only and query.fmt is None:
        output.info("no git remote: listing this clone's experiments only")
    return listing.gather(start, remote=remote)


def main(
    verb: str,
    args: list[str],
    query: Query,
    *,
    keep: int | None = None,
    older_than: str | None = None,
    dry_run: bool = False,
) -> int:
    if verb == "list":
        return _list(query)
    if verb == "show" and len(args) == 1:
        run = listing.find(_gather(query), args[0])
        if query.fmt == "json":
            print(output.printable_json(json.dumps(run.to_json(), indent=2)))
        else:
            print(_show(run))
        return 0
    if verb == "diff" and len(args) == 2:
        return _diff(query, args[0], args[1])
    if verb == "prune" and not args:
        return _prune(query, keep, older_than, dry_run)
    raise MlopsError(
        "usage: runs [list] | runs show NAME | runs diff A B | runs prune --keep N "
        "[--older-than DAYS] [--dry-run]"
    )


def _list(query: Query) -> int:
    runs = _gather(query)
    broken = [r for r in runs if r.errors]
    if broken:
        output.warning(
            f"{len(broken)} experiment(s) show without some values, e.g. {broken[0].name}: "
            f"{broken[0].errors[0]}"
        )
    runs = view.select(
        runs, baseline=query.baseline, branch=query.branch, pr=query.pr, sweep=query.sweep
    )
    if query.filter:
        rules = view.parse_filter(query.filter)
        runs = [r for r in runs if view.matches(r, rules)]
    if query.sort:
        runs = view.sort(runs, query.sort)
    if query.limit is not None:
        runs = runs[: query.limit]
    text = view.render(runs, query.fmt)  # names and values come from anyone's refs
    print(output.printable_json(text) if query.fmt == "json" else output.printable(text))
    return 0


def _show(run: listing.Run) -> str:
    rec = run.record
    lines = [
        f"experiment {run.name}",
        f"commit     {run.commit}",
        f"baseline   {run.baseline}" + (f" ({run.branch})" if run.branch else ""),
        f"created    {run.created}",
        f"status     {run.status}",
    ]
    if rec is not None:
        lines += [f"event      {rec.event}" + (f" (PR #{rec.pr})" if rec.pr else "")]
        lines += [f"run        {rec.run_url}"] if rec.run_url else []
        if rec.sweep:
            lines += [f"sweep      {rec.sweep.id} trial {rec.sweep.trial}"]
        lines += ["fork       yes (a fork's pull request)"] if rec.fork else []
        lines += [f"model      sha256 {rec.model_sha256}"] if rec.model_sha256 else []
        lines += [f"data       {path} md5 {md5}" for path, md5 in rec.data.items()]
        if rec.outputs:
            where = "on the DVC remote" if rec.outputs == "pushed" else "not on the DVC remote"
            lines += [f"outputs    {where}"]
        lines += [f"error      {rec.error}"] if rec.error else []
    for section in ("metrics", "params"):
        for key, val in run.flat(section).items():
            lines.append(f"{section[:-1] if section == 'params' else 'metric'}  {key} = {val}")
    lines += [f"warning    {e}" for e in run.errors]
    return output.printable("\n".join(lines))


def _diff(query: Query, a: str, b: str) -> int:
    from mlops_actions.compare import comparison
    from mlops_actions.compare.baseline import Baseline
    from mlops_actions.compare.comparison import Comparison
    from mlops_actions.dvcio.diff import diff_files

    runs = _gather(query)
    old, new = listing.find(runs, a), listing.find(runs, b)

    def plain(nested: dict[str, dict[str, object]]) -> dict[str, object]:
        return {path: entry.get("data") for path, entry in nested.items()}

    found = Comparison(
        Baseline("ref", old.name, old.commit, f"experiment {old.name}"),
        diff_files(plain(old.metrics), plain(new.metrics)),
        diff_files(plain(old.params), plain(new.params)),
    )
    if query.fmt == "json":
        print(output.printable_json(comparison.render_json(found, indent=2)))
    elif query.fmt == "md":
        print(output.printable(comparison.render_markdown(found)))
    else:
        print(output.printable(comparison.render_text(found)))
    return 0


_DURATION = re.compile(r"(\d+)([dhw]?)")


def _age(text: str) -> float:
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise MlopsError(
            f"--older-than {text[:40]}: give days (30 or 30d), hours (12h) or weeks (4w)"
        )
    n = int(found.group(1))
    return n * {"": 86400, "d": 86400, "h": 3600, "w": 7 * 86400}[found.group(2)]


def _prune(query: Query, keep: int | None, older_than: str | None, dry_run: bool) -> int:
    if keep is None and older_than is None:
        raise MlopsError("runs prune: give --keep N and/or --older-than DAYS")
    start = Path.cwd()
    top = listing.top_of(start)
    remote = query.remote or listing.default_remote(top)
    if remote is None:
        raise MlopsError(
            "runs prune: no git remote to prune; add one with `git remote add origin URL`"
        )
    runs = listing.gather(start, remote=remote, local=False)
    runs = view.select(
        runs, baseline=query.baseline, branch=query.branch, pr=query.pr, sweep=query.sweep
    )
    ordered = view.sort(runs, query.sort) if query.sort else runs  # newest first by default
    doomed = ordered[keep:] if keep is not None else list(ordered)
    if older_than is not None:
        cutoff = time.time() - _age(older_than)
        doomed = [r for r in doomed if _created(r.created) < cutoff]
    refs = [f"refs/exps/{r.baseline[:2]}/{r.baseline[2:]}/{r.name}" for r in doomed]
    for run in doomed:
        print(
            f"{'would delete' if dry_run else 'delete'} {run.name} ({run.commit[:7]}, {run.created})"
        )
    if not dry_run and refs:
        localgit.delete_remote(top, remote, refs)
    output.info(
        f"{len(refs)} of {len(runs)} experiments {'to delete' if dry_run else 'deleted'} on {remote}"
    )
    return 0


def _created(text: str) -> float:
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if stamp.tzinfo is None:
        stamp = stamp.astimezone()  # the commit time as DVC prints it: local time
    return stamp.astimezone(timezone.utc).timestamp()
