"""Reads one submitted lesson notebook, or says in the student's terms why it can't be graded.

Every way a file can fail to be a gradable lesson ends here, before any kernel starts: a file that is
empty, not UTF-8, not JSON, JSON that is not a notebook, a notebook nbformat can't read or validate,
a notebook with no cells or no code cells, and another lesson's notebook submitted under this lesson's
name (told by the nbgrader ``grade_id`` of its cells). Old notebooks (nbformat 3 and earlier) are
upgraded to nbformat 4 and graded, with a flag saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat import reader

from autograder.lesson.instrument import grade_id

SAVE_AGAIN = "Submit the .ipynb file that Jupyter saved (File > Save), not a copy or export."


class UnreadableSubmission(Exception):
    """A submitted file that can't be graded as its lesson.

    Attributes:
        found: What the grader found, in the second person (e.g. "03_build.ipynb is empty: ...").
        todo: What the student should do about it.
    """

    def __init__(self, found: str, todo: str = SAVE_AGAIN):
        super().__init__(f"{found} {todo}")
        self.found = found
        self.todo = todo


def _read_text(path: Path) -> str:
    """The file's text, decoded as UTF-8 (as Jupyter saves it; a UTF-8 byte-order mark is allowed)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UnreadableSubmission(
            f"{path.name} could not be opened ({error.strerror or type(error).__name__})."
        ) from None
    if not raw.strip():
        raise UnreadableSubmission(
            f"{path.name} is empty: the file has {len(raw)} bytes and no notebook in it.",
            "The notebook was probably not saved or not uploaded completely. Open it in Jupyter, save it "
            "(File > Save) and submit that file again.",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        what = (
            "UTF-16 text, not UTF-8"
            if raw[:2] in (b"\xff\xfe", b"\xfe\xff")
            else f"not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start} is not UTF-8)"
        )
        raise UnreadableSubmission(
            f"{path.name} could not be read as a notebook: it is {what}.",
            "Jupyter saves notebooks as UTF-8: open the notebook in Jupyter, not a text editor, save it "
            "(File > Save) and submit that file.",
        ) from None


def _parse(text: str, name: str) -> dict:
    """The file's JSON, which must be an object with a notebook's keys."""
    try:
        data = json.loads(text)
    except ValueError as error:
        looks = " It looks like a web page (HTML), not the notebook itself." if text.lstrip().startswith("<") else ""
        detail = (
            f"{error.msg}: line {error.lineno} column {error.colno}"
            if isinstance(error, json.JSONDecodeError)
            else str(error)
        )
        raise UnreadableSubmission(
            f"{name} could not be read as a notebook: it is not valid JSON ({detail}).{looks}"
        ) from None
    if not isinstance(data, dict):
        raise UnreadableSubmission(
            f"{name} could not be read as a notebook: it holds a JSON {type(data).__name__}, "
            "and a notebook is a JSON object with 'cells', 'metadata' and 'nbformat'."
        )
    if not isinstance(data.get("nbformat"), int) or not ({"cells", "worksheets"} & data.keys()):
        keys = ", ".join(repr(key) for key in list(data)[:5]) or "no keys"
        raise UnreadableSubmission(
            f"{name} could not be read as a notebook: it is JSON, but a notebook has 'cells', 'metadata' and "
            f"'nbformat', and this file has {keys}."
        )
    return data


def _upgrade(text: str, name: str, version: int) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook in nbformat 4, validated, and a flag when it had to be converted."""
    try:
        notebook = nbformat.convert(reader.reads(text), 4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 - nbformat raises several kinds; each means "not a valid notebook"
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnreadableSubmission(f"{name} could not be read as a notebook (nbformat {version}): {detail}.") from None
    if version == 4:
        return notebook, []
    return notebook, [
        f"{name} was saved in an old notebook format (nbformat {version}); the grader converted it to "
        "nbformat 4 and graded it. Save your notebooks with a current Jupyter to avoid the conversion."
    ]


def _require_code(notebook: nbformat.NotebookNode, name: str, lesson: str) -> None:
    """Raises when the notebook has no cells, or no code cells: there is nothing to grade."""
    todo = (
        f"Open your {lesson} notebook in Jupyter, check that your answers are in it, save it (File > Save) "
        "and submit that file."
    )
    if not notebook.cells:
        raise UnreadableSubmission(
            f"{name} is an empty notebook: it has no cells, so there are no answers to grade.", todo
        )
    if not any(cell.get("cell_type") == "code" for cell in notebook.cells):
        raise UnreadableSubmission(f"{name} has no code cells, only text, so there are no answers to grade.", todo)


def lesson_ids(releases: Path) -> dict[str, set[str]]:
    """The nbgrader grade_ids that only one released lesson has (``setup``, in every lesson, is left out).

    Args:
        releases: The folder of released lessons (``lessons/mnist``).

    Returns:
        Lesson -> its own grade_ids.
    """
    ids: dict[str, set[str]] = {}
    for path in sorted(releases.glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        ids[path.stem] = {identity for cell in cells if (identity := grade_id(cell)) is not None}
    return {
        lesson: own - set().union(*(other for name, other in ids.items() if name != lesson))
        for lesson, own in ids.items()
    }


def _require_lesson(notebook: nbformat.NotebookNode, name: str, lesson: str, releases: Path) -> None:
    """Raises when the notebook's cells are another released lesson's and none are this lesson's."""
    ids = lesson_ids(releases)
    found = {identity for cell in notebook.cells if (identity := grade_id(cell)) is not None}
    if not found or found & ids.get(lesson, set()):
        return
    overlap = {other: found & own for other, own in ids.items() if other != lesson and found & own}
    if not overlap:
        return
    held = max(sorted(overlap), key=lambda other: len(overlap[other]))
    cells = ", ".join(sorted(overlap[held])[:3])
    raise UnreadableSubmission(
        f"{name} holds lesson {held}, not {lesson}: its cells ({cells}) are {held}'s, and it was submitted under "
        f"the name {name}, so {lesson} was not graded and scores 0.",
        f"Submit your {lesson} notebook as {lesson}.ipynb, and your {held} notebook as {held}.ipynb.",
    )


def read_lesson(path: Path, lesson: str, releases: Path | None) -> tuple[nbformat.NotebookNode, list[str]]:
    """Reads a submitted notebook for ``lesson``.

    Args:
        path: The submitted file.
        lesson: The lesson it was submitted as, e.g. ``"03_build"``.
        releases: The folder of released lessons, to tell a notebook of another lesson (None: don't check).

    Returns:
        (the notebook in nbformat 4, flags: things the student should know, e.g. that it was converted).

    Raises:
        UnreadableSubmission: When the file can't be graded as ``lesson``; its message says what was found
            and what to do, in the second person.
    """
    path = Path(path)
    text = _read_text(path)
    version = _parse(text, path.name)["nbformat"]
    notebook, flags = _upgrade(text, path.name, version)
    _require_code(notebook, path.name, lesson)
    if releases is not None:
        _require_lesson(notebook, path.name, lesson, Path(releases))
    return notebook, flags
