"""What GitHub makes of our Markdown: cmark-gfm (GitHub's own C library, through cmarkgfm) with
the extensions GitHub turns on."""

from __future__ import annotations

import re

import cmarkgfm
from cmarkgfm.cmark import Options

EXTENSIONS = ["table", "autolink", "strikethrough", "tagfilter", "tasklist"]
# Raw HTML kept (GitHub keeps it, then sanitizes tags it does not allow), so a test sees it.
_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG


def to_html(markdown: str) -> str:
    return str(
        cmarkgfm.markdown_to_html_with_extensions(markdown, options=_OPTIONS, extensions=EXTENSIONS)
    )


def outside_code(html: str) -> str:
    """The HTML with code spans and blocks removed: GitHub links no mention, reference or URL
    inside them."""
    return re.sub(r"<pre[^>]*>.*?</pre>|<code>.*?</code>", "", html, flags=re.S)
