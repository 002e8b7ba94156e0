"""The `sweep` subcommand's arguments (argparse only: --help imports nothing heavy)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from mlops_actions.commands.args import (
    add_comment_author,
    add_directory,
    add_params,
    positive_int,
)

if TYPE_CHECKING:
    from mlops_actions.commands.args import Subparsers


def _issue(text: str) -> int | str:
    return "auto" if text == "auto" else positive_int(text)


def add_parser(
    sub: Subparsers, common: argparse.ArgumentParser, github: argparse.ArgumentParser
) -> None:
    """`sweep plan | trial | gather | run` under the subparsers `sub`."""
    p = sub.add_parser(
        "sweep",
        help="hyper-parameter sweep in waves of trials: plan, trial, gather, run",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True
    v = verbs.add_parser(
        "plan", parents=[common, github], help="the next wave as an Actions matrix"
    )
    v.add_argument("--json", action="store_true", help="print only the matrix JSON")
    v.add_argument("--fetch", action="store_true", help="fetch origin's experiment refs first")
    v = verbs.add_parser("trial", help="train one trial and record it")
    add_params(v, dest="params_file")
    add_directory(v)
    v.add_argument("--trial", type=int, required=True, metavar="N", help="the trial number")
    v.add_argument(
        "--params", dest="values", required=True, metavar="JSON", help="the trial's params"
    )
    v.add_argument(
        "--bundle", metavar="DIR", help="also write the trial's experiment as a git bundle"
    )
    v = verbs.add_parser(
        "gather",
        parents=[common, github],
        help="the leaderboard; whether budget remains",
    )
    v.add_argument("--json", action="store_true", help="machine-readable output")
    v.add_argument("--bundles", metavar="DIR", help="take in the trial bundles under DIR")
    v.add_argument("--push", action="store_true", help="push the trials' refs to origin")
    v.add_argument("--fetch", action="store_true", help="fetch origin's experiment refs first")
    v.add_argument(
        "--issue",
        type=_issue,
        metavar="N|auto",
        help="the leaderboard as a sticky comment on issue or pull request N (auto: the "
        "sweep's own tracking issue, opened on the first wave)",
    )
    v.add_argument(
        "--dispatch",
        metavar="WORKFLOW",
        help="dispatch WORKFLOW (a file name or github.workflow_ref) while budget remains",
    )
    v.add_argument(
        "--pull-request",
        action="store_true",
        help="at the end, open a pull request that sets the best params",
    )
    add_comment_author(v)
    v = verbs.add_parser("run", parents=[common], help="the whole sweep on this machine")
    v.add_argument(
        "--jobs", "-j", type=positive_int, default=1, metavar="N", help="trials at a time"
    )
    v.add_argument("--json", action="store_true", help='{"trials": [...], "best": {...}}')
    p.set_defaults(handler=dispatch)


def dispatch(args: argparse.Namespace) -> int:
    from mlops_actions import output
    from mlops_actions.commands import sweep

    if args.verb == "plan":
        return sweep.plan(args.params, as_json=args.json, fetch=args.fetch, token=args.token)
    if args.verb == "trial":
        return sweep.trial_main(
            args.params_file, number=args.trial, values=args.values, bundle=args.bundle
        )
    if args.verb == "gather":
        pr_token = os.environ.get("MLOPS_PR_TOKEN") or None  # the secret, never on argv
        output.add_secret(pr_token)
        options = sweep.GatherOptions(
            bundles=args.bundles,
            push=args.push,
            fetch=args.fetch,
            issue=args.issue,
            dispatch=args.dispatch,
            pull_request=args.pull_request,
            author=args.comment_author,
            pr_token=pr_token,
        )
        return sweep.gather(args.params, as_json=args.json, token=args.token, options=options)
    return sweep.run(args.params, jobs=args.jobs, as_json=args.json)
