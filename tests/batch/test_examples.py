"""The example submissions (examples/submissions), graded: each student gets exactly the expected result.

Grading one student (five notebooks, each in a fresh kernel; lesson 04 trains three times) takes about
a minute, so each student is graded once per session, in the kernels the class grader starts (its environment,
one TensorFlow thread), and the result is shared by every test here and in test_nbgrader_agreement.py
(support/examples.py grades them and holds what each is expected to get).
Checking that grading again comes out the same compares two of them with the session's fresh `mnist-grade --jobs 2`
run of SMALL_CLASS (conftest.py's small_class_graded), which the other batch tests share.
"""

from __future__ import annotations

import re
import sys

import pytest
from support.examples import EXPECTED, SMALL_CLASS, STUDENTS, grade_student, run_outputs, write_from_cache
from support.paths import ASSIGNMENT, EXAMPLE_SUBMISSIONS, EXAMPLES, LESSON_NAMES

from autograder.batch.reports import pictures
from autograder.lesson.grade import NotebookGrade
from autograder.protocol import ARTIFACTS
from autograder.results import CheckResult, Outcome
from autograder.spec import SPEC

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def graded():
    """Grades a student on first use and remembers the grades for the rest of the session."""
    return grade_student


def results_of(grades: tuple[NotebookGrade, ...]) -> list[CheckResult]:
    """Every check result of a student, in lesson order."""
    return [result for grade in grades for result in grade.results]


def not_passed(grades: tuple[NotebookGrade, ...]) -> dict[str, Outcome]:
    """check id -> outcome, for each check that did not pass."""
    return {r.check_id: r.outcome for r in results_of(grades) if not r.passed}


def test_every_student_has_five_lessons():
    """Does examples/submissions hold exactly the expected students, each with every lesson?"""
    assert sorted(path.name for path in EXAMPLE_SUBMISSIONS.iterdir() if path.is_dir()) == STUDENTS
    for student in STUDENTS:
        assert sorted(p.stem for p in (EXAMPLE_SUBMISSIONS / student / ASSIGNMENT).glob("*.ipynb")) == LESSON_NAMES


def test_examples_are_what_the_script_generates(tmp_path):
    """Are the committed examples byte for byte what examples/make_submissions.py writes now?"""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import make_submissions
    finally:
        sys.path.remove(str(EXAMPLES))
    written = make_submissions.write_submissions(tmp_path / "submissions")
    assert len(written) == len(STUDENTS) * len(LESSON_NAMES)
    stale = [
        str(p.relative_to(tmp_path))
        for p in written
        if (EXAMPLES / p.relative_to(tmp_path)).read_bytes() != p.read_bytes()
    ]
    assert stale == [], "regenerate with: .venv/bin/python examples/make_submissions.py"


@pytest.mark.parametrize("student", STUDENTS)
def test_exactly_the_expected_checks_do_not_pass(student, graded):
    """Does each student miss exactly the expected checks, with the expected outcomes?"""
    expected = {check_id: outcome for check_id, (outcome, _) in EXPECTED[student].items()}
    assert not_passed(graded(student)) == expected


@pytest.mark.parametrize("student", [s for s in STUDENTS if EXPECTED[s]])
def test_message_says_what_was_found_and_expected(student, graded):
    """Does each check a student misses explain itself with the expected words, for 0 points?"""
    results = {r.check_id: r for r in results_of(graded(student))}
    for check_id, (_, fragments) in EXPECTED[student].items():
        result = results[check_id]
        assert result.points == 0, result
        assert result.message, result
        missing = [fragment for fragment in fragments if fragment not in result.message]
        assert missing == [], f"{check_id}: {result.message!r} lacks {missing}"


@pytest.mark.parametrize("student", STUDENTS)
def test_every_other_check_earns_full_points(student, graded):
    """Does every check a student gets right earn its full points from the spec?"""
    grades = graded(student)
    assert [g.lesson for g in grades] == LESSON_NAMES
    for grade in grades:
        assert [r.check_id for r in grade.results] == list(SPEC.lessons[grade.lesson])
        for result in grade.results:
            assert result.max_points == SPEC.lessons[grade.lesson][result.check_id]
            if result.check_id not in EXPECTED[student]:
                assert (result.outcome, result.points) == (Outcome.PASSED, result.max_points), result


@pytest.mark.parametrize("student", STUDENTS)
def test_honest_submission_raises_no_flags(student, graded):
    """Does a submission that only fills in the answer cells get graded without any flag?"""
    assert {g.lesson: g.flags for g in graded(student) if g.flags} == {}


def test_report_keeps_lesson_05s_plot_predictions_picture(graded):
    """Is the lesson 05 picture the feedback report shows the student's plot_predictions grid of held-out digits?

    The grader keeps the lesson's last ``fig``. Lesson 05 draws plot_predictions' grid, then a grid of the misread
    digits and a confusion matrix; only the first may be called ``fig``. The misread grid has the same 2x4 layout
    and titles, but every one of its digits has P != T; the prediction grid of a network that reads most digits
    right has some with P == T. The confusion matrix is one panel."""
    lesson_05 = graded("passes_all")[LESSON_NAMES.index("05_predict")]
    panels = lesson_05.artifacts[ARTIFACTS]["figure"]["panels"]
    titles = [re.fullmatch(r"P: (\d)  T: (\d)", panel["title"]) for panel in panels]
    assert len(panels) == SPEC.predictions.panels and all(titles), [panel["title"] for panel in panels]
    assert any(title[1] == title[2] for title in titles), "every digit is misread: the misread grid, not the picture"
    captions = [caption for caption, _ in pictures({grade.lesson: grade for grade in graded("passes_all")})]
    assert "Your plot_predictions picture from lesson 05: held-out digits, the trained model" in captions


def test_grading_the_class_twice_gives_identical_results(small_class_graded, tmp_path):
    """Are results/<student>.json and gradebook.csv byte for byte the same when the class is graded again?

    The first run is the session's cached grades (support/examples.py's grade_student, the ones every test here
    checks), written out by the real ``grade_class`` (its ``grade_notebook`` answers from the cache, so no student
    is graded twice in this process). The second is the session's fresh ``mnist-grade --jobs 2`` run
    (conftest.py's small_class_graded) into another folder: new kernels in two spawned workers, and new grader
    processes that retrain the reference model and reload and measure each student's trained model themselves.

    The class compared is SMALL_CLASS, two students, not all eight: what could change between runs is the same
    for every student (training in the kernel and in the grader, reloading and measuring the trained model, the
    record and gradebook writers), and these two cover it: every check of every lesson passing, lesson 04's
    trained model and lesson 05's predictions included, a failed check with its message and hint, and a worker
    per student. The other six each differ from passes_all in one notebook, and their grades are checked above.

    Nothing is excluded from the comparison: a student's record holds no run-dependent field (no time
    stamps, durations, temporary paths or worker ids; the fingerprint is a hash of the notebooks, the
    released lessons and the spec), and the gradebook holds only points. If a timing field is ever added
    to the record, it is the one thing this comparison should leave out. The feedback pages are not
    compared: their pictures are PNGs drawn by matplotlib, which the record does not depend on.
    """
    first = tmp_path / "first"
    write_from_cache(small_class_graded / "submitted", first)

    once, again = run_outputs(first), run_outputs(small_class_graded / "out")
    assert sorted(once) == sorted(again) == sorted([f"results/{s}.json" for s in SMALL_CLASS] + ["gradebook.csv"])
    differing = [name for name in once if once[name] != again[name]]
    assert differing == [], f"graded twice, these differ: {differing}"
