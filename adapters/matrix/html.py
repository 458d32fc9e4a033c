"""Core Markdown → ``org.matrix.custom.html`` for Matrix ``formatted_body``."""

from __future__ import annotations

from html import escape

from markdown_it import MarkdownIt

# html=False: raw HTML in model output is escaped, never passed through to clients.
# breaks=True: a newline in the text is a line break in chat, as users expect.
_MD = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])


def render_html(text: str) -> str | None:
    """The HTML for ``text``, or None when it is plain text that needs no formatting."""
    rendered = _MD.render(text).strip()
    plain = "<p>" + escape(text.strip(), quote=False).replace("\n", "<br />\n") + "</p>"
    if rendered == plain or not rendered:
        return None
    return rendered
