"""The text of a report: a small Markdown subset, or plain text, as HTML.

Everything that is not the Markdown subset is escaped: raw HTML shows as
text, and links keep only the http, https and mailto schemes.
"""

from __future__ import annotations

import html
import re

__all__ = ["inline", "markdown_to_html", "plain_to_html"]

_INLINE_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_SAFE_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d+[.)]\s+(.*)$")


def _link(match: re.Match) -> str:
    text, url = match.group(1), match.group(2)
    # html.escape already ran; only refuse script-like schemes
    scheme = _SAFE_URL.match(html.unescape(url))
    if scheme and scheme.group(0).lower() not in ("http:", "https:", "mailto:"):
        return text
    return f'<a href="{url}">{text}</a>'


def inline(text: str) -> str:
    """Escape ``text`` and apply the inline Markdown subset."""
    codes: list[str] = []

    def keep(match: re.Match) -> str:
        codes.append(f"<code>{match.group(1)}</code>")
        return f"\x00{len(codes) - 1}\x00"

    out = _INLINE_CODE.sub(keep, html.escape(text, quote=True))
    out = _LINK.sub(_link, out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], out)


def markdown_to_html(text: str) -> str:
    """Turn a small Markdown subset into HTML; everything else is escaped.

    Supported: paragraphs (separated by blank lines), headings (``#`` becomes
    ``<h2>``, since the page title is the ``<h1>``), bullet and numbered
    lists, fenced code blocks, ```code```, ``**bold**``, ``*italic*`` and
    ``[links](target)``.  Raw HTML is not passed through: ``<b>`` shows as
    text.  Plain text comes out as paragraphs.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        The blocks' HTML elements, one a line.

    Examples
    --------
    >>> from skmm.report import markdown_to_html
    >>> print(markdown_to_html("# Results\\n\\nRecall is **0.9** for `k=5`."))
    <h2>Results</h2>
    <p>Recall is <strong>0.9</strong> for <code>k=5</code>.</p>
    >>> print(markdown_to_html("- <b>one</b>\\n- two"))
    <ul>
    <li>&lt;b&gt;one&lt;/b&gt;</li>
    <li>two</li>
    </ul>
    """
    lines = str(text).replace("\r\n", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag: str | None = None

    def flush_paragraph() -> None:
        if paragraph:
            out.append("<p>" + inline(" ".join(paragraph)) + "</p>")
            paragraph.clear()

    def flush_list() -> None:
        nonlocal list_tag
        if list_tag:
            out.append(f"<{list_tag}>")
            out.extend(f"<li>{inline(item)}</li>" for item in items)
            out.append(f"</{list_tag}>")
            items.clear()
            list_tag = None

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush_paragraph()
            flush_list()
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            out.append("<pre><code>" + html.escape("\n".join(code)) + "</code></pre>")
            i += 1
            continue
        heading = _HEADING.match(stripped)
        bullet = _BULLET.match(line)
        numbered = _NUMBERED.match(line)
        if not stripped:
            flush_paragraph()
            flush_list()
        elif heading:
            flush_paragraph()
            flush_list()
            level = min(6, len(heading.group(1)) + 1)
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            flush_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                flush_list()
                list_tag = tag
            items.append((bullet or numbered).group(1))
        elif list_tag and line[:1].isspace():  # continuation of a list item
            items[-1] += " " + stripped
        else:
            flush_list()
            paragraph.append(stripped)
        i += 1
    flush_paragraph()
    flush_list()
    return "\n".join(out)


def plain_to_html(text: str) -> str:
    """Plain text as paragraphs (at blank lines) and line breaks, escaped."""
    blocks = re.split(r"\n\s*\n", str(text).replace("\r\n", "\n").strip())
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(x) for x in b.split("\n")) + "</p>"
        for b in blocks
        if b.strip()
    )
