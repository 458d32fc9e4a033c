"""Render the core's Markdown as Slack mrkdwn (bold, italics, code, links, lists, quotes)."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

# Raw HTML stays text: the model's output is never trusted markup.
_MD = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])

_BULLETS = ("•", "◦", "▪")

# A single line with none of these renders as itself, escaped: no Markdown construct can
# start without one of them (block markers are checked at the line's start separately).
# Backticks are allowed in simple pairs (see _simple_code), which Slack writes the same way.
_SYNTAX = frozenset("\\*_~[]<>!&|#\t\r\n\x00\x0b\x0c")
_OPENERS = frozenset("-+=0123456789")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# A line that CommonMark can only read as paragraph text (no block marker or indent at its
# start, no inline markup or escapable character anywhere, no trailing space): several such
# lines need no parse either (tests/adapters/slack/test_mrkdwn_plain.py checks it).
_PLAIN_LINE = re.compile(
    r"[^\s\d=+\-#>*_`~\[\]<>&\\|\x00-\x1f\x7f]"
    r"(?:[^*_`~\[\]<>&\\|#\x00-\x1f\x7f]*[^\s*_`~\[\]<>&\\|#\x00-\x1f\x7f])?"
)


def to_mrkdwn(markdown: str) -> str:
    """Convert CommonMark (+ strikethrough, tables) into Slack mrkdwn.

    Code blocks stay fenced with triple backticks (Slack has no language tag); an unclosed
    fence in a streaming draft is rendered closed, so a draft never leaks formatting into
    later text. Tables become preformatted blocks of their original lines.
    """
    if not markdown.strip():
        return escape(markdown)
    plain = _plain(markdown)
    if plain is None and "\n" in markdown:
        plain = _paragraphs(markdown)
    if plain is not None:
        return plain  # most progress cards and short notes: no parse needed
    return _rendered(markdown)


def _rendered(markdown: str) -> str:
    """``markdown`` parsed and rendered block by block."""
    lines = markdown.splitlines()
    root = SyntaxTreeNode(_MD.parse(markdown))
    return "\n\n".join(b for b in (_block(n, lines, 0) for n in root.children) if b is not None)


def _plain(markdown: str) -> str | None:
    """``markdown`` escaped when it is one line of plain text, else None (it needs a parse)."""
    text = markdown.strip(" ")
    if (
        len(markdown) - len(markdown.lstrip(" ")) >= 4  # indented code
        or text[0] in _OPENERS
        or text[0].isspace()
        or text[-1].isspace()
        or not _SYNTAX.isdisjoint(text)
        or ("`" in text and not _simple_code(text))
    ):
        return None
    return escape(text)


def _paragraphs(markdown: str) -> str | None:
    """What the parser makes of lines of plain text (in paragraphs), else None."""
    paragraphs: list[list[str]] = [[]]
    for line in markdown.split("\n"):
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
        elif _PLAIN_LINE.fullmatch(line):
            paragraphs[-1].append(line)
        else:
            return None
    return "\n\n".join("\n".join(p) for p in paragraphs if p) if paragraphs[0] else None


def _simple_code(text: str) -> bool:
    """True when every backtick pairs up around code that neither starts nor ends in space."""
    parts = text.split("`")
    if len(parts) % 2 == 0:
        return False  # an odd number of backticks
    return all(code and not code[0].isspace() and not code[-1].isspace() for code in parts[1::2])


def _block(node: SyntaxTreeNode, source: list[str], depth: int) -> str | None:
    kind = node.type
    if kind == "paragraph":
        return _inline(node.children[0]) if node.children else ""
    if kind == "heading":
        return f"*{_inline(node.children[0])}*" if node.children else ""
    if kind in ("fence", "code_block"):
        return _code_block(node.content)
    if kind == "blockquote":
        inner = "\n".join(b for b in (_block(c, source, depth) for c in node.children) if b)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, source, depth)
    if kind == "hr":
        return "───────"
    if kind == "table" and node.map:
        start, end = node.map
        return _code_block("\n".join(source[start:end]))
    if kind == "html_block":
        return escape(node.content.rstrip("\n"))
    text = "".join(_inline(c) for c in node.children if c.type == "inline")
    return text or None


def _code_block(content: str) -> str:
    # A literal ``` inside the code would end Slack's block early; a zero-width space breaks it.
    body = escape(content.rstrip("\n")).replace("```", "`\u200b``")
    return f"```\n{body}\n```"


def _list(node: SyntaxTreeNode, source: list[str], depth: int) -> str:
    ordered = node.type == "ordered_list"
    number = int(node.attrs.get("start", 1) or 1) if ordered else 0
    out: list[str] = []
    for item in node.children:
        marker = f"{number}. " if ordered else f"{_BULLETS[depth % len(_BULLETS)]} "
        number += 1
        parts = [b for b in (_block(c, source, depth + 1) for c in item.children) if b]
        body = "\n".join(parts).split("\n") if parts else [""]
        pad = " " * len(marker)
        out.append(marker + body[0])
        out.extend(pad + line if line else line for line in body[1:])
    return "\n".join(out)


def _inline(node: SyntaxTreeNode) -> str:
    return "".join(_span(c) for c in node.children)


def _span(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind == "text":
        return escape(node.content)
    if kind in ("softbreak", "hardbreak"):
        return "\n"
    if kind == "code_inline":
        return f"`{escape(node.content)}`"
    if kind == "strong":
        return f"*{_inline(node)}*"
    if kind == "em":
        return f"_{_inline(node)}_"
    if kind == "s":
        return f"~{_inline(node)}~"
    if kind == "link":
        href = str(node.attrs.get("href", ""))
        label = _inline(node)
        if not href:
            return label
        target = href.replace(">", "%3E").replace("|", "%7C")
        return f"<{target}>" if label in ("", escape(href)) else f"<{target}|{label}>"
    if kind == "image":
        src = str(node.attrs.get("src", "")).replace(">", "%3E").replace("|", "%7C")
        alt = escape(node.content) or "image"
        return f"<{src}|{alt}>" if src else alt
    if kind == "html_inline":
        return escape(node.content)
    return "".join(_span(c) for c in node.children) or escape(node.content)
