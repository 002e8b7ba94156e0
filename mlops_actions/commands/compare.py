"""`mlops-actions compare`: metrics and params against the baseline, as DVC would diff them."""

from __future__ import annotations

import sys

from mlops_actions import output
from mlops_actions.compare import comparison
from mlops_actions.github import context


def main(params: str, *, base: str | None, fmt: str | None, all: bool) -> int:
    ctx = context.load()
    result = comparison.compare(params, base=base, pr_base_ref=ctx.pr_base_ref)
    if fmt is None:
        for err in result.errors:
            output.warning(f"{err}; its values count as missing")
        output.info(comparison.render_text(result, all=all))
        return 0
    # stdout carries only the JSON or Markdown; anything else goes to stderr.
    messages = [*result.notes, *(f"{e}; its values count as missing" for e in result.errors)]
    if fmt == "json" and result.baseline.kind == "none":
        messages.insert(0, comparison.headline(result))
    for message in messages:
        sys.stderr.write(f"warning: {output.printable(message)}\n")
    if fmt == "json":
        indent = 2 if sys.stdout.isatty() else None
        print(output.printable_json(comparison.render_json(result, all=all, indent=indent)))
    else:
        print(output.printable(comparison.render_markdown(result, all=all)), end="")
    return 0
