"""The explanation's Markdown as simple HTML for a ``QTextBrowser`` (no Markdown library needed).

Covers what ``explanation.md`` uses: headings, paragraphs, bullet lists, pipe tables, ``**bold**``
and ``` `code` ```. Everything else is shown as escaped text.
"""

from __future__ import annotations

import html
import re

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}")


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    return _CODE.sub(r"<code>\1</code>", escaped)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_to_html(markdown: str) -> str:
    """Convert the explanation's Markdown subset to HTML."""
    out: list[str] = []
    paragraph: list[str] = []
    table: list[list[str]] = []
    in_list = False

    def flush() -> None:
        nonlocal in_list
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if in_list:
            out.append("</ul>")
            in_list = False
        if table:
            head, *rows = table
            out.append('<table border="1" cellspacing="0" cellpadding="3">')
            out.append("<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>")
            for row in rows:
                out.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>")
            out.append("</table>")
            table.clear()

    for raw in markdown.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if stripped.startswith("|"):
            if paragraph or in_list:
                flush()
            if not _TABLE_RULE.match(stripped):
                table.append(_cells(stripped))
            continue
        if table:
            flush()
        if not stripped:
            flush()
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if heading:
            flush()
            level = min(len(heading.group(1)) + 2, 6)  # h3.. keeps a narrow dock readable
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            continue
        if stripped.startswith(("- ", "* ")):
            if paragraph:
                flush()
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(stripped[2:])}</li>")
            continue
        if in_list:
            flush()
        paragraph.append(stripped)
    flush()
    return "\n".join(out)


def results_first(markdown: str, first: tuple[str, ...] = ("Summary", "Largest regions")) -> str:
    """Move the ``## `` sections named in `first` right after the title, keeping the rest.

    The dock shows the totals and the largest regions before the method and evidence.
    """
    title: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in markdown.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), [line]))
        elif sections:
            sections[-1][1].append(line)
        else:
            title.append(line)
    chosen = [s for name in first for s in sections if s[0] == name]
    rest = [s for s in sections if s[0] not in first]
    return "\n".join(title + [line for _, lines in chosen + rest for line in lines])
