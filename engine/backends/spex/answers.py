"""The model's answers per model window and target, and their text for the explanation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

#: Characters of an answer quoted in the summary.
QUOTE_CHARS = 240


@dataclass(frozen=True)
class WindowAnswer:
    """One request's answer with where it was asked."""

    row: int
    col: int
    col_off: int
    row_off: int
    size: int
    map_xy: tuple[float, float]  # upper-left corner in the raster's CRS
    target: str
    title: str
    regions: int  # candidate regions listed in the prompt
    tokens: int
    stopped: str
    text: str


def _one_line(text: str) -> str:
    return " ".join(text.split())


def explanation_text(
    answers: list[WindowAnswer], counts: dict[str, int], random_weights: bool
) -> str:
    """Markdown under "Model answer": a short summary, then every answer in an appendix."""
    lines: list[str] = []
    if random_weights:
        lines += [
            "**The model folder holds random weights** (made by `spex models init`): the "
            "answers and masks below are meaningless and only show that the pipeline runs.",
            "",
        ]
    lines.append(
        f"SPEX answered {len(answers)} requests on {counts.get('windows_run', 0)} of "
        f"{counts.get('windows_total', 0)} model windows of {counts.get('window_size', 0)} px; "
        f"{counts.get('windows_skipped_nodata', 0)} windows were all nodata and "
        f"{counts.get('windows_skipped_no_candidate', 0)} had no candidate regions in the "
        "spectral priors (skipped)."
    )
    stops = Counter(a.stopped for a in answers)
    if answers:
        lines.append(
            f"Answers ended on their own in {stops.get('eos', 0)} cases and at the "
            f"--max-new-tokens cap in {stops.get('max_new_tokens', 0)}."
        )
    lines.append("")
    by_target: dict[str, list[WindowAnswer]] = {}
    for answer in answers:
        by_target.setdefault(answer.title, []).append(answer)
    for title, items in by_target.items():
        longest = max(items, key=lambda a: a.regions)
        quote = _one_line(longest.text)[:QUOTE_CHARS] or "(empty answer)"
        lines.append(
            f"- {title}: {len(items)} windows with candidates; the answer for the window with "
            f'the most candidate regions (r{longest.row} c{longest.col}): "{quote}"'
        )
    if answers:
        lines += ["", "### Appendix: answers per model window", ""]
        for a in sorted(answers, key=lambda a: (a.row, a.col, a.target)):
            lines.append(
                f"- window r{a.row} c{a.col} (pixels x {a.col_off}..{a.col_off + a.size}, "
                f"y {a.row_off}..{a.row_off + a.size}; upper-left {a.map_xy[0]:.2f}, "
                f"{a.map_xy[1]:.2f}), {a.title}, {a.regions} candidate regions, {a.tokens} "
                f"tokens: {_one_line(a.text) or '(empty answer)'}"
            )
    return "\n".join(lines)
