"""The pipeline's subcommands: pull, train, compare, report, gate, results, publish and run
(argparse only; each command's module is imported when it runs)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from mlops_actions.commands.args import (
    Parents,
    add_directory,
    add_params,
    env_flag,
    positive_int,
)

if TYPE_CHECKING:
    from mlops_actions.commands.args import Subparsers


def add_parsers(sub: Subparsers, parents: Parents) -> None:
    """The steps, in the order a run takes them (`run` itself is added by add_run)."""
    common, remote, base, github, comment = parents
    p = sub.add_parser(
        "pull", parents=[common, remote], help="dvc pull the tracked data and verify its hashes"
    )
    p.set_defaults(handler=_pull)

    p = sub.add_parser(
        "train", parents=[common], help="train, or restore the same run from the run cache"
    )
    p.add_argument(
        "--no-cache", action="store_true", help="train even when the run cache has this run"
    )
    p.add_argument("--record", action="store_true", help="record the run as a DVC experiment")
    p.set_defaults(handler=_train)

    p = sub.add_parser(
        "compare", parents=[common, base], help="metrics and params diff against the base"
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument(
        "--json", action="store_const", const="json", dest="format", help="DVC-compatible JSON"
    )
    fmt.add_argument(
        "--md", action="store_const", const="md", dest="format", help="Markdown tables"
    )
    p.add_argument("--all", action="store_true", help="include unchanged metrics and params")
    p.set_defaults(handler=_compare)

    p = sub.add_parser(
        "report",
        parents=[common, base, github, comment],
        help="render the report; post it to the PR",
    )
    p.add_argument("--comment", action="store_true", help="create or update the sticky PR comment")
    p.add_argument(
        "--summary", action="store_true", help="append the report to $GITHUB_STEP_SUMMARY"
    )
    p.add_argument("--pr", type=positive_int, metavar="N", help="comment on pull request N")
    p.add_argument("-o", "--output", metavar="PATH", help="also write the Markdown report to PATH")
    p.set_defaults(handler=_report)

    p = sub.add_parser(
        "gate", parents=[common, base, github], help="evaluate the gates; post commit statuses"
    )
    p.add_argument(
        "--status",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="post commit statuses (default: on in Actions when a token is present)",
    )
    p.set_defaults(handler=_gate)

    p = sub.add_parser(
        "results",
        parents=[common, base, comment],
        help="compare and gate; write the results for `publish` (posts nothing)",
    )
    p.add_argument("dir", metavar="DIR", help="the directory to write results.json into")
    p.add_argument(
        "--error",
        metavar="MESSAGE",
        help="record that the run failed with MESSAGE, without evaluating anything",
    )
    p.set_defaults(handler=_results)

    p = sub.add_parser(
        "publish",
        parents=[github, comment],
        help="post the comment, statuses and job summary of a results directory",
    )
    p.add_argument("dir", metavar="DIR", help="the directory holding results.json")
    add_directory(p)
    p.add_argument(
        "--status-prefix",
        default=os.environ.get("MLOPS_STATUS_PREFIX") or "mlops/gate",
        help="the commit status context prefix (default: mlops/gate, or $MLOPS_STATUS_PREFIX)",
    )
    add_params(
        p,
        help="the params file whose rules gate, relative to the repository's root, read "
        "through GitHub at the base commit (default: params.yaml, or $MLOPS_PARAMS)",
    )
    p.set_defaults(handler=_publish)


def add_run(sub: Subparsers, parents: Parents) -> None:
    p = sub.add_parser(
        "run",
        parents=[parents.common, parents.remote, parents.github, parents.comment],
        help="the whole pipeline for the current event",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="train even when the run cache has this run"
    )
    p.add_argument(
        "--check-checkout",
        action="store_true",
        help="only refuse (exit 2) a checkout `run` would refuse to train (pull_request_target "
        "with the pull request's code), before any of its code runs",
    )
    p.add_argument(
        "--record", action="store_true", help="record the run as a DVC experiment (local runs)"
    )
    env = os.environ
    p.add_argument(
        "--promote",
        action=argparse.BooleanOptionalAction,
        default=env_flag("MLOPS_PROMOTE", True),
        help="promote on a push to the default branch (default: on, or $MLOPS_PROMOTE)",
    )
    p.add_argument(
        "--bump",
        choices=("patch", "minor", "major"),
        default=env.get("MLOPS_BUMP") or None,
        help="version part to bump when promoting (default: promote.bump, or $MLOPS_BUMP)",
    )
    p.add_argument(
        "--stage",
        metavar="NAME",
        default=env.get("MLOPS_STAGE") or None,
        help="also assign this stage to a promoted version (default: $MLOPS_STAGE)",
    )
    p.add_argument(
        "--release",
        action=argparse.BooleanOptionalAction,
        default=env_flag("MLOPS_RELEASE", False),
        help="create a GitHub release per promoted version (default: off, or $MLOPS_RELEASE)",
    )
    p.set_defaults(handler=_run)


def _pull(args: argparse.Namespace) -> int:
    from mlops_actions.commands import pull

    return pull.main(args.params, remote=args.remote, jobs=args.jobs)


def _train(args: argparse.Namespace) -> int:
    from mlops_actions.commands import train

    return train.main(args.params, use_cache=not args.no_cache, record=args.record)


def _compare(args: argparse.Namespace) -> int:
    from mlops_actions.commands import compare

    return compare.main(args.params, base=args.base, fmt=args.format, all=args.all)


def _report(args: argparse.Namespace) -> int:
    from mlops_actions.commands import report

    delivery = report.Delivery(
        args.comment_id, args.comment, args.summary, args.pr, args.output, args.comment_author
    )
    return report.main(args.params, base=args.base, token=args.token, delivery=delivery)


def _gate(args: argparse.Namespace) -> int:
    from mlops_actions.commands import gate

    return gate.main(args.params, base=args.base, token=args.token, status=args.status)


def _results(args: argparse.Namespace) -> int:
    from mlops_actions.commands import results

    return results.main(
        args.params,
        directory=args.dir,
        base=args.base,
        comment_id=args.comment_id,
        error=args.error,
    )


def _publish(args: argparse.Namespace) -> int:
    from mlops_actions.commands import publish

    return publish.main(
        args.dir,
        token=args.token,
        comment_id=args.comment_id,
        author=args.comment_author,
        prefix=args.status_prefix,
        params=args.params,
    )


def _run(args: argparse.Namespace) -> int:
    from mlops_actions.commands import run

    options = run.RunOptions(
        remote=args.remote,
        jobs=args.jobs,
        use_cache=not args.no_cache,
        comment_id=args.comment_id,
        comment_author=args.comment_author,
        promote=args.promote,
        bump=args.bump,
        stage=args.stage,
        release=args.release,
        retrain_token=os.environ.get("MLOPS_RETRAIN_TOKEN") or None,
        record=args.record,
    )
    return run.main(
        args.params, token=args.token, options=options, check_checkout=args.check_checkout
    )
