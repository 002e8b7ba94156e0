"""What GitHub makes of our Markdown: cmark-gfm (GitHub's own C library, through cmarkgfm) with
the extensions GitHub turns on, and the checks that nothing in it is live."""

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


# A mention or an issue reference GitHub would link in text: `@name`, `@org/team`, `#12`, GH-12.
_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]|(?<![\w&])#\d|\bGH-\d", re.I)
_TAGS = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")


def live(html: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """What in rendered HTML a reader could click, see as markup or be notified by: every tag
    not in `allowed` (tables, paragraphs, code and our own), mentions and references outside
    code."""
    found = [
        f"<{close}{tag}"
        for close, tag in _TAGS.findall(html)
        if tag.lower() not in allowed and tag.lower() not in _STRUCTURE
    ]
    return found + _MENTION.findall(outside_code(html))


_STRUCTURE = frozenset(
    [
        "p",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "code",
        "pre",
        "h2",
        "h3",
        "h4",
        "ul",
        "li",
        "blockquote",
        "br",
        "sub",
        "details",
        "summary",
    ]
)
