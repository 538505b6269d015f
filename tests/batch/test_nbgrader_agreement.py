"""The real `nbgrader autograde` and the course's grader give the example submissions the same scores.

The example students (examples/submissions) are all honest: they only fill in answer cells. For them,
nbgrader's score of each notebook must equal the sum of grade_notebook's points for that lesson.
nbgrader scores a check cell full points unless its output holds an error *or anything written to
stderr*; a disagreement's message lists those outputs.

nbgrader runs each *distinct* notebook once, not all 40. Each example student is passes_all with at most one
mistake, and that mistake sits in one notebook; their other notebooks are byte for byte passes_all's
(examples/make_submissions.py writes them from the same lessons and answers). So 12 of the 40 notebooks are
distinct: passes_all's five and each other student's notebook that holds their mistake, which covers every
failing check in support/examples.py's EXPECTED. A notebook's score cannot depend on who handed it in: nbgrader
executes each notebook in its own kernel, and a lesson takes nothing from the student's other notebooks (its
set-up cell gets what earlier lessons made from autograder.reference). nbgrader is therefore given each distinct
notebook once, under the first student who has it (passes_all first), and every (student, lesson) of all eight
students is still compared, using nbgrader's score of that notebook's exact bytes. `nbgrader autograde` scores a
notebook missing from a submission 0 ("No submitted file"), so scores are read only for the notebooks it was
given, and each of those must have been executed into autograded/.

About 3 minutes on two cores (all 40 notebooks took about 7).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbgrader_course import make_nbgrader_course
from support.environments import instructor_environment
from support.examples import STUDENTS, grade_student
from support.paths import ASSIGNMENT, EXAMPLE_SUBMISSIONS, LESSON_NAMES, LESSONS, SOLUTIONS

from autograder.spec import SPEC

pytestmark = pytest.mark.slow

VENV_BIN = Path(sys.executable).parent
NBGRADER = str(VENV_BIN / "nbgrader")


Scores = dict[tuple[str, str], float]  # (student, lesson) -> points


def graded_under() -> dict[tuple[str, str], str]:
    """(student, lesson) -> the student under whom nbgrader grades that notebook: the first student (passes_all
    first, then by name) whose notebook of that lesson has the same bytes."""
    first: dict[tuple[str, str], str] = {}
    chosen = {}
    for student in sorted(STUDENTS, key=lambda name: (name != "passes_all", name)):
        for lesson in LESSON_NAMES:
            digest = hashlib.sha256((EXAMPLE_SUBMISSIONS / student / ASSIGNMENT / f"{lesson}.ipynb").read_bytes())
            chosen[student, lesson] = first.setdefault((lesson, digest.hexdigest()), student)
    return chosen


@dataclass(frozen=True)
class Autograded:
    """What `nbgrader autograde` left.

    Attributes:
        root: The nbgrader course folder (its autograded/ holds the executed notebooks).
        scores: nbgrader's score of each example (student, lesson): its gradebook's score of that notebook's bytes.
        graded_under: (student, lesson) -> the student under whom nbgrader graded that notebook's bytes.
        seconds: Wall time of `nbgrader autograde`.
    """

    root: Path
    scores: Scores
    graded_under: dict[tuple[str, str], str]
    seconds: float


def with_venv_on_path() -> str:
    """PATH with the venv's bin folder first: nbgrader's Gradebook runs the `alembic` command by name."""
    return os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])


def nbgrader(root: Path, *arguments: str, timeout: float) -> subprocess.CompletedProcess:
    """Runs an nbgrader command in the course folder as an instructor would; fails the test if it fails."""
    # Without pytest's marker: nbgrader, which scores a check cell 0 when it wrote to stderr, sees what it does
    # outside pytest.
    env = instructor_environment(MNIST_PATH="synthetic", PATH=with_venv_on_path())
    done = subprocess.run([NBGRADER, *arguments], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"nbgrader {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def read_scores(db_url: str, graded: set[tuple[str, str]]) -> Scores:
    """nbgrader's score of each (student, lesson) it was given, from its gradebook."""
    from nbgrader.api import Gradebook

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", with_venv_on_path())
        with Gradebook(db_url) as gradebook:
            return {
                (student, lesson): gradebook.find_submission_notebook(lesson, ASSIGNMENT, student).score
                for student, lesson in graded
            }


@pytest.fixture(scope="module")
def autograded(tmp_path_factory) -> Autograded:
    """Runs `nbgrader generate_assignment` (with a gradebook) and `nbgrader autograde` once, on each distinct
    example notebook (see the module's docstring), and gives every example student's every notebook its score."""
    under = graded_under()
    given = {(student, lesson) for (student, lesson), by in under.items() if by == student}
    staged = tmp_path_factory.mktemp("distinct-notebooks")
    for student, lesson in sorted(given):
        (staged / student).mkdir(exist_ok=True)
        shutil.copy(EXAMPLE_SUBMISSIONS / student / ASSIGNMENT / f"{lesson}.ipynb", staged / student)
    root = tmp_path_factory.mktemp("nbgrader-course")
    db_url = make_nbgrader_course(
        root,
        solutions=SOLUTIONS,
        lessons=LESSONS,
        submissions={student.name: student for student in sorted(staged.iterdir())},
    )
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force", timeout=600)
    started = time.perf_counter()
    nbgrader(root, "autograde", ASSIGNMENT, "--create", "--force", timeout=3600)
    seconds = time.perf_counter() - started
    print(f"\nnbgrader autograde: {len(given)} distinct notebooks of {len(under)} in {seconds:.0f} s")
    not_executed = [
        f"{student}/{lesson}"
        for student, lesson in sorted(given)
        if not (root / "autograded" / student / ASSIGNMENT / f"{lesson}.ipynb").exists()
    ]
    assert not_executed == [], f"nbgrader autograde did not execute {not_executed}"
    theirs = read_scores(db_url, given)
    scores = {(student, lesson): theirs[by, lesson] for (student, lesson), by in under.items()}
    return Autograded(root, scores, under, seconds)


def our_scores() -> Scores:
    """(student, lesson) -> the sum of grade_notebook's points for that lesson."""
    return {
        (student, grade.lesson): sum(r.points for r in grade.results)
        for student in STUDENTS
        for grade in grade_student(student)
    }


def why_nbgrader_took_points(autograded: Autograded, student: str, lesson: str) -> list[str]:
    """The outputs that make nbgrader score a check cell 0: errors and stderr, first line of each."""
    graded_as = autograded.graded_under[student, lesson]
    notebook = nbformat.read(autograded.root / "autograded" / graded_as / ASSIGNMENT / f"{lesson}.ipynb", as_version=4)
    found = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                found.append(
                    f"{meta['grade_id']}: error {output.ename}: "
                    f"{output.evalue.splitlines()[0] if output.evalue else ''}"
                )
            elif output.output_type == "stream" and output.name == "stderr":
                found.append(
                    f"{meta['grade_id']}: stderr {output.text.strip().splitlines()[0] if output.text.strip() else ''}"
                )
    return found


def print_table(theirs: Scores, ours: Scores) -> None:
    """Prints nbgrader's score / ours for each student and lesson, marking disagreements."""
    print(f"\n{'student':24}" + "".join(f"{lesson:>13}" for lesson in LESSON_NAMES))
    for student in STUDENTS:
        cells = [
            f"{theirs[student, lesson]:g}/{ours[student, lesson]:g}"
            + ("" if theirs[student, lesson] == ours[student, lesson] else " !")
            for lesson in LESSON_NAMES
        ]
        print(f"{student:24}" + "".join(f"{cell:>13}" for cell in cells))
    print("(nbgrader / grade_notebook; ! marks a disagreement)")


def test_nbgrader_and_grade_notebook_agree_on_every_notebook(autograded):
    """Does nbgrader autograde score every example notebook exactly as grade_notebook does?"""
    ours = our_scores()
    print_table(autograded.scores, ours)
    disagreements = {
        f"{student}/{lesson}: nbgrader {theirs:g}, grade_notebook {ours[student, lesson]:g}": why_nbgrader_took_points(
            autograded, student, lesson
        )
        for (student, lesson), theirs in autograded.scores.items()
        if theirs != ours[student, lesson]
    }
    assert not disagreements, "nbgrader and grade_notebook disagree:\n" + "\n".join(
        f"{where}\n    nbgrader took points for: {reasons or 'no error or stderr output found'}"
        for where, reasons in disagreements.items()
    )


def test_nbgrader_takes_points_off_every_mistake(autograded):
    """Does nbgrader give passes_all every point and each other student fewer (so agreement means something)?"""
    totals = {student: sum(autograded.scores[student, lesson] for lesson in LESSON_NAMES) for student in STUDENTS}
    assert totals["passes_all"] == sum(sum(points.values()) for points in SPEC.lessons.values()), totals
    assert all(totals[student] < totals["passes_all"] for student in STUDENTS if student != "passes_all"), totals
