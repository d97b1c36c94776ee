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
    extent: tuple[int, int] | None = None  # (width, height) where smaller than size

    @property
    def empty(self) -> bool:
        """The first generated token was an end token: no answer, so no mask."""
        return self.tokens == 0 and self.stopped == "eos"


#: Why an empty answer gives no mask (the reference has no behaviour to copy: it fails).
EMPTY_ANSWER_NOTE = (
    "the first generated token was an end token. The published code fails on such an answer "
    "(it pools the states of the generated tokens, and there are none); here that target gets "
    "no mask in that window, because the mask prompt is made from the answer and an empty "
    "answer asks for nothing. Pooling the prompt's last state instead would give a mask the "
    "published model never produces."
)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def explanation_text(
    answers: list[WindowAnswer],
    counts: dict[str, int],
    random_weights: bool,
    skip_empty_windows: bool = False,
) -> str:
    """Markdown under "Model answer": a short summary, then every answer in an appendix."""
    lines: list[str] = []
    if random_weights:
        lines += [
            "**The model folder holds random weights** (made by `spex models init`): the "
            "answers and masks below are meaningless and only show that the pipeline runs.",
            "",
        ]
    summary = (
        f"SPEX answered {len(answers)} requests on {counts.get('windows_run', 0)} of "
        f"{counts.get('windows_total', 0)} model windows of {counts.get('window_size', 0)} px; "
        f"{counts.get('windows_skipped_nodata', 0)} windows were all nodata"
    )
    if skip_empty_windows:
        summary += (
            f" and {counts.get('windows_skipped_no_candidate', 0)} had no candidate regions in "
            "the spectral priors (skipped: --skip-empty-windows)."
        )
    else:
        summary += (
            f". {counts.get('requests_without_candidates', 0)} requests listed no candidate "
            "region; the model ran on them anyway, as the reference does "
            "(--skip-empty-windows skips them)."
        )
    lines.append(summary)
    stops = Counter(a.stopped for a in answers)
    if answers:
        lines.append(
            f"Answers ended on their own in {stops.get('eos', 0)} cases and at the "
            f"--max-new-tokens cap in {stops.get('max_new_tokens', 0)}."
        )
    empty = sum(1 for a in answers if a.empty)
    if empty:
        lines.append(f"{empty} answers were empty: {EMPTY_ANSWER_NOTE}")
    lines.append("")
    by_target: dict[str, list[WindowAnswer]] = {}
    for answer in answers:
        by_target.setdefault(answer.title, []).append(answer)
    for title, items in by_target.items():
        longest = max(items, key=lambda a: a.regions)
        quote = _one_line(longest.text)[:QUOTE_CHARS] or "(empty answer)"
        lines.append(
            f"- {title}: {len(items)} windows asked; the answer for the window with "
            f'the most candidate regions (r{longest.row} c{longest.col}): "{quote}"'
        )
    if answers:
        lines += ["", "### Appendix: answers per model window", ""]
        for a in sorted(answers, key=lambda a: (a.row, a.col, a.target)):
            width, height = a.extent or (a.size, a.size)
            lines.append(
                f"- window r{a.row} c{a.col} (pixels x {a.col_off}..{a.col_off + width}, "
                f"y {a.row_off}..{a.row_off + height}; upper-left {a.map_xy[0]:.2f}, "
                f"{a.map_xy[1]:.2f}), {a.title}, {a.regions} candidate regions, {a.tokens} "
                f"tokens: {_one_line(a.text) or '(empty answer: no mask)'}"
            )
    return "\n".join(lines)
