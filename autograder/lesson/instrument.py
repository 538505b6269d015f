"""Prepares a notebook for grading: check cells call the recorder instead of checking in the kernel."""

from __future__ import annotations

import ast

import nbformat

from autograder.protocol import RECORDER_NAME


def grade_id(cell) -> str | None:
    """The nbgrader grade_id of a cell, or None."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_test_cell(cell) -> bool:
    """An nbgrader autograder-test cell (graded, read-only code)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def check_call(source: str) -> tuple[str, str] | None:
    """Finds ``check("id", args...)`` in a check cell's source.

    Returns:
        (check_id, the source of the arguments after the id), or None when there is no such call.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "check"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            rest = ", ".join(ast.get_source_segment(source, arg) or "" for arg in node.args[1:])  # parsed: never None
            return node.args[0].value, rest
    return None


def instrument(notebook: nbformat.NotebookNode, observations_folder: str) -> dict[str, int]:
    """Rewrites check cells to record observations, and adds the recorder's set-up cell first.

    Args:
        notebook: The notebook, changed in place.
        observations_folder: Where the kernel writes one folder per check.

    Returns:
        The index, in the changed notebook, of each check id's cell.
    """
    setup = nbformat.v4.new_code_cell(
        "from autograder.kernel.recorder import Recorder\n"
        f"{RECORDER_NAME} = Recorder({observations_folder!r})\n"
        "del Recorder"
    )
    notebook.cells.insert(0, setup)
    cells_of_checks: dict[str, int] = {}
    for index, cell in enumerate(notebook.cells):
        found = check_call(cell.source) if is_test_cell(cell) else None
        if found is None:
            continue
        check_id, arguments = found
        cell.source = f"{RECORDER_NAME}({check_id!r}{', ' + arguments if arguments else ''})"
        cells_of_checks[check_id] = index
    return cells_of_checks
