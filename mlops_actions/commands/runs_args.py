"""The `runs` subcommand's arguments (argparse only: --help imports nothing heavy)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mlops_actions.commands.args import add_directory, positive_int

if TYPE_CHECKING:
    from mlops_actions.commands.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "runs",
        help="list the recorded experiments; `runs show NAME`, `runs diff A B`, `runs prune`",
    )
    p.add_argument("args", nargs="*", metavar="show NAME | diff A B | prune", help="a verb")
    add_directory(p)
    fmt = p.add_mutually_exclusive_group()
    for flag, what in (
        ("json", "JSON (params and metrics as dvc exp show nests them)"),
        ("csv", "CSV"),
        ("md", "a Markdown table"),
    ):
        fmt.add_argument(f"--{flag}", action="store_const", const=flag, dest="format", help=what)
    p.add_argument("--remote", metavar="NAME", help="the git remote to read (default: origin)")
    p.add_argument("--local", action="store_true", help="this clone's experiments only")
    p.add_argument("--sort", metavar="METRIC", help="highest first (--sort=-METRIC: lowest first)")
    p.add_argument("--filter", metavar="EXPR", help="e.g. 'f1 >= 0.9 and train.n_est > 100'")
    p.add_argument("--limit", type=positive_int, metavar="N", help="at most N runs")
    p.add_argument("--baseline", metavar="SHA", help="experiments of this baseline commit")
    p.add_argument("--branch", metavar="NAME", help="experiments of this branch")
    p.add_argument("--pr", type=positive_int, metavar="N", help="experiments of pull request N")
    p.add_argument("--sweep", metavar="ID", help="the trials of this sweep")
    p.add_argument("--keep", type=int, metavar="N", help="prune: keep the newest (or --sort) N")
    p.add_argument("--older-than", metavar="DAYS", help="prune: only runs older than this")
    p.add_argument("--dry-run", action="store_true", help="prune: say what would be deleted")
    p.set_defaults(handler=dispatch)


def dispatch(args: argparse.Namespace) -> int:
    from mlops_actions.commands import runs

    verb, rest = (args.args[0], args.args[1:]) if args.args else ("list", [])
    query = runs.Query(
        remote=args.remote,
        local_only=args.local,
        fmt=args.format,
        sort=args.sort,
        filter=args.filter,
        limit=args.limit,
        baseline=args.baseline,
        branch=args.branch,
        pr=args.pr,
        sweep=args.sweep,
    )
    return runs.main(
        verb, rest, query, keep=args.keep, older_than=args.older_than, dry_run=args.dry_run
    )
