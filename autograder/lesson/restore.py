"""Rebuilds a submitted notebook on the released lesson, so only the answers are the student's.

The graded notebook is the released one with each answer cell's source taken from the submission
(matched by nbgrader ``grade_id``). Everything else, the check cells and the read-only cells included,
comes from the release, so a deleted, edited, re-typed or duplicated grader cell changes nothing.
Each such change, and each cell the student added, is reported as a flag (nbgrader's checksums tell
an edited grader cell). Added cells are not run: answers belong in the answer cells.
"""

from __future__ import annotations

import copy

import nbformat
from nbgrader.utils import compute_checksum

from autograder.lesson.instrument import grade_id


def _is_answer(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def _checksum_matches(cell, expected: str | None) -> bool:
    try:
        return compute_checksum(cell) == expected
    except Exception:  # noqa: BLE001 - tampered metadata can't match
        return False


def restore_from_release(
    submitted: nbformat.NotebookNode, release: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, list[str]]:
    """Builds the notebook to grade.

    Args:
        submitted: The student's notebook.
        release: The released lesson it came from.

    Returns:
        (the notebook to grade, the flags: one sentence per change the student made to a grader-owned cell,
        or per added, duplicated or missing cell).
    """
    flags: list[str] = []
    students: dict[str, nbformat.NotebookNode] = {}
    released_ids = {grade_id(cell) for cell in release.cells if grade_id(cell)}
    # Narrative and other cells without nbgrader metadata are recognised by nbformat cell id, or by source.
    released_cells = ({cell.get("id") for cell in release.cells} | {cell.get("source") for cell in release.cells}) - {
        None
    }
    added = 0
    for cell in submitted.cells:
        identity = grade_id(cell)
        if identity in students:
            flags.append(f"The cell '{identity}' appears more than once; the first one was graded.")
        elif identity is not None and identity in released_ids:
            students[identity] = cell
        elif cell.get("source", "").strip() and not {cell.get("id"), cell.get("source")} & released_cells:
            added += 1
    if added:
        flags.append(
            f"You added {added} cell(s); they were not run when grading. Put your answers in the answer cells."
        )
    graded = copy.deepcopy(release)
    for cell in graded.cells:
        identity = grade_id(cell)
        if identity is None:
            continue
        student = students.get(identity)
        if _is_answer(cell):
            if student is None:
                flags.append(f"The answer cell '{identity}' is missing; it was graded as not attempted.")
            else:
                if student.get("cell_type") != "code":
                    flags.append(
                        f"The answer cell '{identity}' was changed to {student.get('cell_type')}; it was run as code."
                    )
                cell.source = student.get("source", "")
        elif student is None:
            flags.append(f"The read-only cell '{identity}' was missing; the released one was used.")
        elif not _checksum_matches(student, cell.metadata.nbgrader.get("checksum")):
            flags.append(f"The read-only cell '{identity}' was changed; the released one was used.")
    return graded, flags
