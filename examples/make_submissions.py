"""Regenerates the example submissions: eight made-up students, each with at most one deliberate mistake.

Every student starts from the released lessons (``lessons/mnist``), so the notebooks carry exactly the
metadata and nbgrader checksums a real student's would. Each solution cell gets the reference answer:
the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in the cell with the same nbgrader
``grade_id`` in ``solutions/mnist``, spliced where the lesson says ``# YOUR CODE HERE`` /
``raise NotImplementedError()``, at that line's indentation. Then one mistake per student is applied as
a text replacement in one answer (asserted to have matched). Outputs are cleared to keep the fixtures
small. The students, named by the result they should get:

* ``passes_all``: every answer right.
* ``fails_layer_name``: 03_build names the second layer ``"hidden2"`` instead of ``"layer2"``.
* ``fails_units_25``: 03_build gives the second layer 25 units instead of 30.
* ``fails_learning_rate``: 04_train compiles with ``learning_rate=0.01`` instead of 0.001.
* ``fails_no_scaling``: 02_reshape's ``flatten`` converts to float32 but never divides by 255.
* ``fails_from_logits``: 04_train compiles with ``from_logits=True`` although the output layer
  already applies softmax.
* ``fails_scrambled_pixels``: 02_reshape's ``flatten`` transposes each image before reshaping, a
  column-major (transposed) order instead of the row-major order the spec asks for.
* ``unfinished_train``: 04_train left as released (both exercises still raise NotImplementedError);
  every other lesson right.

Run from anywhere::

    .venv/bin/python examples/make_submissions.py

It deletes and rewrites ``examples/submissions``; running it twice gives byte-identical files.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = PROJECT_ROOT / "solutions" / "mnist"
LESSONS = PROJECT_ROOT / "lessons" / "mnist"
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
ASSIGNMENT = "mnist"

PLACEHOLDER = re.compile(
    r"^(?P<indent>[ \t]*)# YOUR CODE HERE\n(?P=indent)raise NotImplementedError\(\)$", re.MULTILINE
)
SOLUTION_BLOCK = re.compile(
    r"^[ \t]*### BEGIN SOLUTION\n(?P<body>.*?)^[ \t]*### END SOLUTION$", re.MULTILINE | re.DOTALL
)


@dataclass(frozen=True)
class Mistake:
    """One wrong answer: a text replacement inside one solution cell.

    Attributes:
        lesson: The lesson's file stem, e.g. ``"03_build"``.
        grade_id: The nbgrader grade_id of the solution cell to change.
        old: Text of the reference answer to replace (must occur).
        new: What the student wrote instead.
    """

    lesson: str
    grade_id: str
    old: str
    new: str


@dataclass(frozen=True)
class Student:
    """An example student.

    Attributes:
        name: The student id, named after the expected result.
        mistake: The one wrong answer, or None.
        unanswered: Lessons left exactly as released.
    """

    name: str
    mistake: Mistake | None = None
    unanswered: tuple[str, ...] = ()


STUDENTS = (
    Student("passes_all"),
    Student("fails_layer_name", Mistake("03_build", "build_model", 'name="layer2"', 'name="hidden2"')),
    Student("fails_units_25", Mistake("03_build", "build_model", "Dense(30, ", "Dense(25, ")),
    Student("fails_learning_rate", Mistake("04_train", "compile_model", "learning_rate=0.001", "learning_rate=0.01")),
    Student("fails_no_scaling", Mistake("02_reshape", "flatten", '.astype("float32") / 255.0', '.astype("float32")')),
    Student("fails_from_logits", Mistake("04_train", "compile_model", "from_logits=False", "from_logits=True")),
    Student(
        "fails_scrambled_pixels",
        Mistake(
            "02_reshape",
            "flatten",
            'images.reshape(len(images), 28 * 28).astype("float32") / 255.0',
            'images.transpose(0, 2, 1).reshape(len(images), 28 * 28).astype("float32") / 255.0',
        ),
    ),
    Student("unfinished_train", unanswered=("04_train",)),
)


def grade_id(cell) -> str | None:
    """The nbgrader grade_id of a cell, or None."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_solution_cell(cell) -> bool:
    """A cell where the student writes an answer."""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def reference_answers(lesson: str) -> dict[str, str]:
    """The reference answer of each solution cell of a lesson, dedented.

    Args:
        lesson: The lesson's file stem.

    Returns:
        grade_id -> the code between the BEGIN/END SOLUTION markers, without its common indentation.
    """
    notebook = nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4)
    answers = {}
    for cell in notebook.cells:
        if is_solution_cell(cell):
            found = SOLUTION_BLOCK.search(cell.source)
            assert found, f"{lesson}: solution cell {grade_id(cell)!r} has no BEGIN/END SOLUTION block"
            answers[grade_id(cell)] = textwrap.dedent(found.group("body")).rstrip("\n")
    return answers


def splice(released: str, answer: str) -> str:
    """Puts an answer where a released cell says ``# YOUR CODE HERE`` / ``raise NotImplementedError()``.

    Args:
        released: The released cell's source.
        answer: The answer, without indentation.

    Returns:
        The cell's source with the answer indented like the placeholder it replaces.
    """
    found = PLACEHOLDER.search(released)
    assert found, f"no '# YOUR CODE HERE' placeholder in:\n{released}"
    indented = textwrap.indent(answer, found.group("indent"))
    return released[: found.start()] + indented + released[found.end() :]


def apply_mistake(source: str, mistake: Mistake) -> str:
    """Replaces the mistake's text in an answer, insisting that it occurs exactly once."""
    count = source.count(mistake.old)
    assert count == 1, f"{mistake.lesson}/{mistake.grade_id}: {mistake.old!r} occurs {count} times, expected once"
    return source.replace(mistake.old, mistake.new)


def clear_outputs(notebook: nbformat.NotebookNode) -> None:
    """Removes outputs and execution counts, as in a notebook saved without outputs."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def submission(student: Student, lesson: str) -> nbformat.NotebookNode:
    """One student's notebook for one lesson.

    Args:
        student: Who.
        lesson: The lesson's file stem.

    Returns:
        The released lesson with the student's answers filled in and outputs cleared.
    """
    notebook = nbformat.read(LESSONS / f"{lesson}.ipynb", as_version=4)
    mistake = student.mistake if student.mistake and student.mistake.lesson == lesson else None
    if lesson not in student.unanswered:
        answers = reference_answers(lesson)
        for cell in notebook.cells:
            if is_solution_cell(cell):
                cell.source = splice(cell.source, answers[grade_id(cell)])
                if mistake and mistake.grade_id == grade_id(cell):
                    cell.source = apply_mistake(cell.source, mistake)
                    mistake = None
    assert mistake is None, f"{student.name}: {lesson} has no answered solution cell {mistake.grade_id!r}"
    clear_outputs(notebook)
    nbformat.validate(notebook)
    return notebook


def write_submissions(out: Path = SUBMISSIONS) -> list[Path]:
    """Deletes ``out`` and writes ``out/<student>/mnist/<lesson>.ipynb`` for every student and lesson.

    Args:
        out: The folder to (re)create.

    Returns:
        The notebooks written, in order.
    """
    lessons = sorted(path.stem for path in LESSONS.glob("*.ipynb"))
    for student in STUDENTS:
        if student.mistake:
            assert student.mistake.lesson in lessons, f"{student.name}: no lesson {student.mistake.lesson}"
    shutil.rmtree(out, ignore_errors=True)
    written = []
    for student in STUDENTS:
        folder = out / student.name / ASSIGNMENT
        folder.mkdir(parents=True)
        for lesson in lessons:
            written.append(folder / f"{lesson}.ipynb")
            nbformat.write(submission(student, lesson), written[-1])
    return written


def main() -> None:
    """Regenerates examples/submissions."""
    written = write_submissions()
    print(f"wrote {len(written)} notebooks ({len(STUDENTS)} students) to {SUBMISSIONS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
