"""What the lessons' text says: the markdown of the solution notebooks, and the percentages it quotes."""

from __future__ import annotations

import re

from support.paths import SOLUTIONS


def lesson_text(lesson: str) -> str:
    """The markdown of a solution notebook (the lesson's text, which nbgrader copies unchanged), joined."""
    import nbformat

    cells = nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4).cells
    return "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")


def quoted_percent(lesson: str, pattern: str) -> float:
    """The one percentage a lesson's text quotes where ``pattern`` (a regex with one ``(\\d+)%`` group) matches."""
    found = re.findall(pattern, lesson_text(lesson))
    assert len(found) == 1, f"expected one match for {pattern!r} in {lesson}'s text, found {found}"
    return float(found[0])
