"""argv in, exit code out. Commands are imported only when they run, so --help stays fast."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from mlops_actions import __version__, output
from mlops_actions.commands import sweep_args
from mlops_actions.errors import EXIT_BUG, MlopsError
from mlops_actions.tag import BOT


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops-actions",
        description="CI/CD for machine learning: pull DVC data, train, compare, gate, promote.",
    )
    parser.add_argument("--version", action="version", version=f"mlops-actions {__version__}")
    # -C before the subcommand, as `git -C DIR` takes it; a second -C after it is relative to it.
    parser.add_argument("-C", dest="top_directory", metavar="DIR", help="run as if started in DIR")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--params",
        default=os.environ.get("MLOPS_PARAMS", "params.yaml"),
        help="the params file (default: params.yaml, or $MLOPS_PARAMS)",
    )
    common.add_argument("-C", dest="directory", metavar="DIR", help="run as if started in DIR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    remote = argparse.ArgumentParser(add_help=False)
    remote.add_argument(
        "-r", "--remote", help="DVC remote to pull from (default: the repo's default)"
    )
    remote.add_argument("-j", "--jobs", type=_positive_int, help="parallel transfers for dvc pull")

    sub.add_parser(
        "pull", parents=[common, remote], help="dvc pull the tracked data and verify its hashes"
    )
    p = sub.add_parser(
        "train", parents=[common], help="train, or restore the same run from the run cache"
    )
    p.add_argument(
        "--no-cache", action="store_true", help="train even when the run cache has this run"
    )
    p.add_argument("--record", action="store_true", help="record the run as a DVC experiment")

    base = argparse.ArgumentParser(add_help=False)
    base.add_argument(
        "--base", metavar="REF", help="git ref to compare against (default: the PR's base branch)"
    )

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

    # The sticky comment's marker id and author, for `report` and `run` (the action passes
    # its inputs as MLOPS_* variables: they are the defaults).
    comment = argparse.ArgumentParser(add_help=False)
    comment.add_argument(
        "--comment-id",
        default=os.environ.get("MLOPS_COMMENT_ID") or "default",
        help="marker id that tells this report's comment apart (default: $MLOPS_COMMENT_ID)",
    )
    comment.add_argument(
        "--comment-author",
        default=os.environ.get("MLOPS_COMMENT_AUTHOR") or BOT.name,
        help="the login the token comments as (an App's or a PAT's); only its comments are updated",
    )

    github = argparse.ArgumentParser(add_help=False)
    github.add_argument("--token", help="GitHub token (default: $GITHUB_TOKEN)")

    p = sub.add_parser(
        "report",
        parents=[common, base, github, comment],
        help="render the report; post it to the PR",
    )
    p.add_argument("--comment", action="store_true", help="create or update the sticky PR comment")
    p.add_argument(
        "--summary", action="store_true", help="append the report to $GITHUB_STEP_SUMMARY"
    )
    p.add_argument("--pr", type=_positive_int, metavar="N", help="comment on pull request N")

    p.add_argument("-o", "--output", metavar="PATH", help="also write the Markdown report to PATH")

    p = sub.add_parser(
        "gate", parents=[common, base, github], help="evaluate the gates; post commit statuses"
    )
    p.add_argument(
        "--status",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="post commit statuses (default: on in Actions when a token is present)",
    )

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
    p = sub.add_parser(
        "publish",
        parents=[github, comment],
        help="post the comment, statuses and job summary of a results directory",
    )
    p.add_argument("dir", metavar="DIR", help="the directory holding results.json")
    p.add_argument("-C", dest="directory", metavar="DIR", help="run as if started in DIR")
    p.add_argument(
        "--status-prefix",
        default=os.environ.get("MLOPS_STATUS_PREFIX") or "mlops/gate",
        help="the commit status context prefix (default: mlops/gate, or $MLOPS_STATUS_PREFIX)",
    )
    p.add_argument(
        "--params",
        default=os.environ.get("MLOPS_PARAMS", "params.yaml"),
        help="the params file whose rules gate, relative to the repository's root, read "
        "through GitHub at the base commit (default: params.yaml, or $MLOPS_PARAMS)",
    )
    p = sub.add_parser(
        "promote", parents=[common, github], help="tag a passing, better model NAME@vX.Y.Z"
    )
    p.add_argument(
        "--bump", choices=("patch", "minor", "major"), default=None, help="version part to bump"
    )
    p.add_argument("--stage", metavar="NAME", help="also assign this stage (GTO NAME#STAGE#N tag)")
    p.add_argument("--push", action="store_true", help="push the tags to origin")
    p.add_argument(
        "--release", action="store_true", help="create a GitHub release with the model file"
    )

    p = sub.add_parser(
        "models", parents=[common, github], help="list the model registry; `models get REF`"
    )
    p.add_argument(
        "args", nargs="*", metavar="NAME | get REF", help="a model name, or `get NAME@vX.Y.Z`"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--history",
        action="store_true",
        help="the registry's events (as `gto history`), with who made each tag and which run",
    )
    p.add_argument("-o", "--output", metavar="PATH", help="with `get`: where to write the model")

    # The lifecycle verbs read only the repository's tags: no params file.
    verb = argparse.ArgumentParser(add_help=False)
    verb.add_argument("-C", dest="directory", metavar="DIR", help="run as if started in DIR")
    verb.add_argument("--token", help="GitHub token (default: $GITHUB_TOKEN)")
    verb.add_argument(
        "--push", action="store_true", help="push the tag to origin (implied inside Actions)"
    )
    verb.add_argument("--json", action="store_true", help="machine-readable output")
    for command, target, helptext in (
        ("assign", "NAME@vX.Y.Z", "assign a stage to a version (GTO NAME#STAGE#N tag)"),
        ("unassign", "NAME", "take a stage from the version holding it (NAME#STAGE!#N)"),
        ("deregister", "NAME@vX.Y.Z", "deregister a version (GTO NAME@vX.Y.Z! tag)"),
        ("deprecate", "NAME", "deprecate a model (GTO NAME@deprecated tag)"),
    ):
        p = sub.add_parser(command, parents=[verb], help=helptext)
        p.add_argument("target", metavar=target)
        if command in ("assign", "unassign"):
            p.add_argument("stage", metavar="STAGE")

    p = sub.add_parser(
        "monitor",
        parents=[common, github],
        help="drift and decay of monitor.data against a version's training data",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--stage",
        metavar="STAGE",
        help="the version in this stage (default: monitor.stage, latest)",
    )

    sweep_args.add_parser(sub, common, github)
    _runs_parser(sub)

    p = sub.add_parser(
        "run",
        parents=[common, remote, github, comment],
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
    # The action passes its inputs as MLOPS_* variables: they are these flags' defaults.
    env = os.environ
    p.add_argument(
        "--promote",
        action=argparse.BooleanOptionalAction,
        default=_env_flag("MLOPS_PROMOTE", True),
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
        default=_env_flag("MLOPS_RELEASE", False),
        help="create a GitHub release per promoted version (default: off, or $MLOPS_RELEASE)",
    )
    return parser


def _runs_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "runs",
        help="list the recorded experiments; `runs show NAME`, `runs diff A B`, `runs prune`",
    )
    p.add_argument("args", nargs="*", metavar="show NAME | diff A B | prune", help="a verb")
    p.add_argument("-C", dest="directory", metavar="DIR", help="run as if started in DIR")
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
    p.add_argument("--limit", type=_positive_int, metavar="N", help="at most N runs")
    p.add_argument("--baseline", metavar="SHA", help="experiments of this baseline commit")
    p.add_argument("--branch", metavar="NAME", help="experiments of this branch")
    p.add_argument("--pr", type=_positive_int, metavar="N", help="experiments of pull request N")
    p.add_argument("--keep", type=int, metavar="N", help="prune: keep the newest (or --sort) N")
    p.add_argument("--older-than", metavar="DAYS", help="prune: only runs older than this")
    p.add_argument("--dry-run", action="store_true", help="prune: say what would be deleted")


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


def _dispatch(args: argparse.Namespace) -> int:
    """argv, parsed, becomes one typed call; a command module is imported only when it runs."""
    command = args.command
    if command == "pull":
        from mlops_actions.commands import pull

        return pull.main(args.params, remote=args.remote, jobs=args.jobs)
    if command == "train":
        from mlops_actions.commands import train

        return train.main(args.params, use_cache=not args.no_cache, record=args.record)
    if command == "compare":
        from mlops_actions.commands import compare

        return compare.main(args.params, base=args.base, fmt=args.format, all=args.all)
    if command == "report":
        from mlops_actions.commands import report

        comment_id = args.comment_id
        delivery = report.Delivery(
            comment_id, args.comment, args.summary, args.pr, args.output, args.comment_author
        )
        return report.main(args.params, base=args.base, token=args.token, delivery=delivery)
    if command == "gate":
        from mlops_actions.commands import gate

        return gate.main(args.params, base=args.base, token=args.token, status=args.status)
    if command == "results":
        from mlops_actions.commands import results

        return results.main(
            args.params,
            directory=args.dir,
            base=args.base,
            comment_id=args.comment_id,
            error=args.error,
        )
    if command == "publish":
        from mlops_actions.commands import publish

        return publish.main(
            args.dir,
            token=args.token,
            comment_id=args.comment_id,
            author=args.comment_author,
            prefix=args.status_prefix,
            params=args.params,
        )
    if command == "promote":
        from mlops_actions.commands import promote

        return promote.main(
            args.params,
            token=args.token,
            bump=args.bump,
            stage=args.stage,
            push=args.push,
            release=args.release,
        )
    if command == "models":
        from mlops_actions.commands import models

        return models.main(
            args.params,
            args.args,
            as_json=args.json,
            out=args.output,
            token=args.token,
            history=args.history,
        )
    if command in ("assign", "unassign", "deregister", "deprecate"):
        from mlops_actions.commands import lifecycle

        return lifecycle.main(
            command,
            args.target,
            getattr(args, "stage", None),
            push=args.push,
            as_json=args.json,
            token=args.token,
        )
    if command == "runs":
        return _runs(args)
    if command == "monitor":
        from mlops_actions.commands import monitor

        return monitor.main(args.params, stage=args.stage, as_json=args.json, token=args.token)
    if command == "sweep":
        return sweep_args.dispatch(args)
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


def _runs(args: argparse.Namespace) -> int:
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
    )
    return runs.main(
        verb, rest, query, keep=args.keep, older_than=args.older_than, dry_run=args.dry_run
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in output.TOKEN_VARIABLES:
        output.add_secret(os.environ.get(name))
    output.add_secret(getattr(args, "token", None))
    try:
        for directory in (args.top_directory, getattr(args, "directory", None)):
            if directory:
                try:
                    os.chdir(directory)
                except OSError as exc:
                    raise MlopsError(f"-C {directory}: {exc.strerror}") from None
        code = _dispatch(args)
        sys.stdout.flush()  # a reader that went away shows here, not as Python exits
        return code
    except MlopsError as exc:
        output.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted")
        return 130
    except Exception as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_closed():
            # The reader stopped reading (`| head`): stop quietly, as a process SIGPIPE ends
            # does, with nothing left for Python to flush into the closed pipe (Python's docs).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + 13  # SIGPIPE
        if os.environ.get("MLOPS_DEBUG"):
            output.error(f"unexpected failure in '{args.command}'; the traceback follows")
            sys.stderr.write(output.printable(traceback.format_exc()))
        else:
            what = output.redact(f"{type(exc).__name__}: {exc}")
            output.error(
                f"unexpected failure in '{args.command}' ({what}); this is a bug: please "
                "report it with the output of the same command run with MLOPS_DEBUG=1"
            )
        return EXIT_BUG


def _stdout_closed() -> bool:
    """Whether stdout is a pipe nobody reads any more (not some other pipe, e.g. a child's)."""
    import select

    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll(), no file descriptor
        return False


if __name__ == "__main__":
    raise SystemExit(main())
