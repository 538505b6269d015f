"""Grading a class from the command line: outputs, resuming, regrading."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from support.paths import EXAMPLE_SUBMISSIONS, PROJECT_ROOT

from autograder.batch.cli import main


@pytest.fixture(scope="module")
def graded_class(small_class_graded):
    """Two example students (SMALL_CLASS: passes_all and fails_units_25) in nbgrader's layout, graded once with
    --jobs 2: the session's run (conftest.py's small_class_graded), which the other batch tests share. Read only:
    a test that changes it works on a copy."""
    return small_class_graded


def mtimes(folder):
    return {path.name: path.stat().st_mtime_ns for path in (folder / "results").glob("*.json")}


@pytest.mark.slow
def test_gradebook_has_a_row_per_student_with_lesson_scores(graded_class):
    """Does gradebook.csv hold each student's points per lesson and total?"""
    with open(graded_class / "out" / "gradebook.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["passes_all"]["total"] == "16" and rows["passes_all"]["03_build"] == "3"
    assert rows["fails_units_25"]["total"] == "13" and rows["fails_units_25"]["03_build"] == "0"


@pytest.mark.slow
def test_results_gradescope_feedback_and_summary_are_written(graded_class):
    """Are results/, gradescope/, feedback/ and summary/ written, and do they agree?"""
    out = graded_class / "out"
    record = json.loads((out / "results" / "fails_units_25.json").read_text())
    failing = [c for lesson in record["lessons"].values() for c in lesson["checks"] if c["outcome"] != "passed"]
    assert [(c["check_id"], c["outcome"]) for c in failing] == [("build_model", "failed")]
    assert "layer2 has 25 units; the spec asks for 30." in failing[0]["message"]
    gradescope = json.loads((out / "gradescope" / "fails_units_25" / "results.json").read_text())
    assert gradescope["score"] == 13 and len(gradescope["tests"]) == 9
    page = (out / "feedback" / "fails_units_25.html").read_text()
    assert "layer2 has 25 units; the spec asks for 30." in page
    assert page.count("data:image/png;base64,") == 3  # learning curves, prediction grid, confusion matrix
    assert "Traceback" not in page and "check_build_model" not in page
    assert (out / "summary" / "score_histogram.png").stat().st_size > 1000
    assert "| 03_build | build_model | 1 | 50% |" in (out / "summary" / "most_failed.md").read_text()


@pytest.mark.slow
def test_rerun_skips_graded_students_and_regrades_a_changed_one(graded_class, tmp_path):
    """Does a re-run skip unchanged students and regrade only a changed submission, leaving the others' results
    untouched? (The next test shows --force grading everyone again.)"""
    copy = tmp_path / "class"
    shutil.copytree(graded_class, copy)
    out, submitted = copy / "out", copy / "submitted"
    before = mtimes(out)
    main([str(submitted), "--output", str(out), "--no-progress"])
    assert mtimes(out) == before

    path = submitted / "passes_all" / "mnist" / "01_load.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source += "\n\n(edited)"
    nbformat.write(notebook, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_PATH", "synthetic")
        main([str(submitted), "--output", str(out), "--no-progress"])
        after = mtimes(out)
        assert after["passes_all.json"] != before["passes_all.json"]
        assert after["fails_units_25.json"] == before["fails_units_25.json"]


def test_force_grades_again_students_whose_results_are_up_to_date(
    tmp_path, synthetic_digits, monkeypatch, grading_process_not_readied
):
    """Does a re-run grade nobody whose results are up to date, and a re-run with --force everybody again?

    The notebooks are counted, not graded (grade_notebook is replaced by one that notes whose notebook it got and
    returns a grade of errors), so this runs no kernel: which students a run grades is decided before grading."""
    from autograder.batch import grade_class as class_grader

    graded: list[str] = []

    def counted(path, **_):
        path = Path(path)
        graded.append(path.parent.parent.name)
        return class_grader.grader_failure(path.stem, RuntimeError("counted, not graded"))

    monkeypatch.setattr(class_grader, "grade_notebook", counted)
    submitted = tmp_path / "submitted"
    for student in ("ana", "bo"):
        (submitted / student / "mnist").mkdir(parents=True)
        shutil.copy(EXAMPLE_SUBMISSIONS / "passes_all" / "mnist" / "01_load.ipynb", submitted / student / "mnist")
    for options, expected in (([], ["ana", "bo"]), ([], []), (["--force"], ["ana", "bo"])):
        graded.clear()
        assert main([str(submitted), "--output", str(tmp_path / "out"), "--no-progress", *options]) == 0
        assert sorted(graded) == expected, f"{options}: graded {graded}"


def test_cli_reports_a_missing_folder_and_exits_2(tmp_path):
    """Does `python -m autograder` with a folder that doesn't exist say so and exit with 2?"""
    done = subprocess.run(
        [sys.executable, "-m", "autograder", str(tmp_path / "nowhere")], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "doesn't exist" in done.stderr


def test_a_release_folder_without_every_lesson_is_refused_before_grading(tmp_path, capsys):
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(PROJECT_ROOT / "lessons" / "mnist" / "01_load.ipynb", release)
    assert (
        main(
            [
                str(EXAMPLE_SUBMISSIONS / "passes_all" / "mnist"),
                "--release",
                str(release),
                "--output",
                str(tmp_path / "out"),
            ]
        )
        == 2
    )
    assert "lacks 02_reshape.ipynb, 03_build.ipynb" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_notebooks_the_grader_fails_on_say_so_and_are_retried_next_run(
    tmp_path, synthetic_digits, capsys, grading_process_not_readied
):
    """A grader failure (here: the instructor's released 02_reshape is corrupt, which every lesson's reading
    consults) fails those lessons with a message that is not the student's fault, tells the instructor, lets the
    run finish, and leaves the student not up to date, so the next run grades them again."""
    from autograder.batch.grade_class import GradingOptions, grade_class

    release = tmp_path / "release"
    shutil.copytree(PROJECT_ROOT / "lessons" / "mnist", release)
    (release / "02_reshape.ipynb").write_text("{")
    student = tmp_path / "submitted" / "ana" / "mnist"
    student.mkdir(parents=True)
    for lesson in ("01_load", "02_reshape"):
        shutil.copy(EXAMPLE_SUBMISSIONS / "passes_all" / "mnist" / f"{lesson}.ipynb", student)
    [record] = grade_class(
        tmp_path / "submitted", output=tmp_path / "out", options=GradingOptions(release=release), progress=False
    )
    told = capsys.readouterr().err
    for lesson in ("01_load", "02_reshape"):
        failed = record["lessons"][lesson]
        assert failed["points"] == 0 and failed["flags"] == ["The grader failed on this notebook."]
        assert all("not a problem with your work" in check["message"] for check in failed["checks"])
        assert f"grading ana's {lesson} failed (NotJSONError" in told
    assert record["fingerprint"] == ""  # never up to date: the next run grades ana again
    assert (tmp_path / "out" / "gradebook.csv").exists()
