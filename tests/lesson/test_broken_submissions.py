"""Broken submissions: each file grades to the right score with a clear message, and the class run goes on.

The hand-made files are in ``tests/fixtures/broken/``, each named by its expected result; the ones whose content
depends on the lessons (another lesson's notebook, an nbformat 3 notebook) are made here from ``lessons/mnist``
and the example class. Only the class run at the end starts kernels.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from support.paths import ASSIGNMENT, EXAMPLE_SUBMISSIONS, FIXTURES, LESSONS
from support.snapshots import snapshot

from autograder.batch.grade_class import grade_class
from autograder.batch.reports import student_record, write_student_outputs
from autograder.batch.submissions import safe_key
from autograder.lesson.grade import grade_notebook
from autograder.lesson.instrument import grade_id
from autograder.lesson.read import UnreadableSubmission, read_lesson
from autograder.results import CheckResult, Outcome
from autograder.spec import SPEC

BROKEN = FIXTURES / "broken"
PASSING = EXAMPLE_SUBMISSIONS / "passes_all" / ASSIGNMENT

# fixture file -> (words the message must hold, words the hint must hold)
EXPECTED = {
    "not_json__scores_0.ipynb": (
        ["could not be read as a notebook", "not valid JSON", "Expecting value: line 1 column 1"],
        ["Jupyter saved", "File > Save"],
    ),
    "json_object__scores_0.ipynb": (
        ["could not be read as a notebook", "it is JSON", "'cells'", "'hello'"],
        ["File > Save"],
    ),
    "json_list__scores_0.ipynb": (["could not be read as a notebook", "JSON list", "JSON object"], ["File > Save"]),
    "html_page__scores_0.ipynb": (["not valid JSON", "web page (HTML)"], ["File > Save"]),
    "zero_bytes__scores_0.ipynb": (["is empty", "0 bytes"], ["not saved or not uploaded completely", "File > Save"]),
    "latin1__scores_0.ipynb": (
        ["could not be read as a notebook", "not UTF-8 text", "byte 0xeb"],
        ["UTF-8", "not a text editor", "File > Save"],
    ),
    "empty_notebook__scores_0.ipynb": (
        ["empty notebook", "no cells", "no answers to grade"],
        ["Open your 03_build notebook", "File > Save"],
    ),
    "no_code_cells__scores_0.ipynb": (["no code cells", "no answers to grade"], ["Open your 03_build notebook"]),
}


def submit(source: Path | bytes | nbformat.NotebookNode, folder: Path, name: str) -> Path:
    """Puts a file, bytes or notebook in ``folder`` under ``name``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(source, Path):
        shutil.copyfile(source, path)
    elif isinstance(source, bytes):
        path.write_bytes(source)
    else:
        nbformat.write(source, path)
    return path


def version_3(path: Path) -> str:
    """The notebook at ``path`` written as nbformat 3 (an old Jupyter's format)."""
    text = nbformat.writes(nbformat.convert(nbformat.read(path, as_version=4), 3))
    assert json.loads(text)["nbformat"] == 3 and "worksheets" in json.loads(text)
    return text


def inside(folder: Path) -> bool:
    """Whether every file under ``folder`` really is inside it (no link or '..' leads out)."""
    real = folder.resolve()
    return all(path.resolve().is_relative_to(real) for path in folder.rglob("*"))


# --- one file, no kernel -----------------------------------------------------------------------------------------


def test_every_broken_fixture_has_its_expected_result():
    """Is each file in tests/fixtures/broken/ named by its result and listed here with its message?"""
    assert sorted(path.name for path in BROKEN.iterdir()) == sorted(EXPECTED)
    assert all(name.endswith("__scores_0.ipynb") for name in EXPECTED)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_a_broken_file_scores_0_with_what_was_found_and_what_to_do(fixture, tmp_path):
    """Does each broken file, submitted as 03_build.ipynb, give build_model 0 of 3 and say why, in the second person?"""
    words, todo = EXPECTED[fixture]
    path = submit(BROKEN / fixture, tmp_path, "03_build.ipynb")
    grade = grade_notebook(path, release=LESSONS / "03_build.ipynb")
    (result,) = grade.results
    assert (result.check_id, result.outcome, result.points, result.max_points) == ("build_model", Outcome.ERROR, 0, 3)
    assert result.message.startswith("03_build.ipynb ")
    assert all(word in result.message for word in words), result.message
    assert all(word in result.hint for word in todo), result.hint
    assert grade.flags == [] and grade.artifacts == {}
    with pytest.raises(UnreadableSubmission) as raised:
        read_lesson(path, "03_build", LESSONS)
    assert str(raised.value) == f"{result.message} {result.hint}"


def test_every_check_of_the_lesson_gets_the_message(tmp_path):
    """Does a broken 02_reshape.ipynb give both of its checks (flatten, take_subset) 0 with the same message?"""
    path = submit(BROKEN / "not_json__scores_0.ipynb", tmp_path, "02_reshape.ipynb")
    grade = grade_notebook(path, release=LESSONS / "02_reshape.ipynb")
    assert [(r.check_id, r.outcome, r.points, r.max_points) for r in grade.results] == [
        ("flatten", Outcome.ERROR, 0, 2),
        ("take_subset", Outcome.ERROR, 0, 1),
    ]
    assert grade.results[0].message == grade.results[1].message


def test_another_lessons_notebook_scores_0_and_says_which_lesson_it_holds(tmp_path):
    """Does lesson 02's notebook saved as 03_build.ipynb score 0 for 03_build, naming both lessons and the file?"""
    path = submit(PASSING / "02_reshape.ipynb", tmp_path, "03_build.ipynb")
    grade = grade_notebook(path, release=LESSONS / "03_build.ipynb")
    assert grade.results == [
        CheckResult(
            "build_model",
            Outcome.ERROR,
            0,
            3,
            "03_build.ipynb holds lesson 02_reshape, not 03_build: "
            "its cells (check_flatten, check_take_subset, flatten) "
            "are 02_reshape's, and it was submitted under the name 03_build.ipynb, "
            "so 03_build was not graded and scores 0.",
            "Submit your 03_build notebook as 03_build.ipynb, and your 02_reshape notebook as 02_reshape.ipynb.",
        )
    ]


def test_a_lesson_with_an_extra_cell_from_another_lesson_is_still_its_own_lesson(tmp_path):
    """Is a 03_build notebook that also holds a cell pasted from lesson 02 read as 03_build?"""
    notebook = nbformat.read(LESSONS / "03_build.ipynb", as_version=4)
    notebook.cells += [
        cell for cell in nbformat.read(LESSONS / "02_reshape.ipynb", as_version=4).cells if grade_id(cell) == "flatten"
    ]
    read, flags = read_lesson(submit(notebook, tmp_path, "03_build.ipynb"), "03_build", LESSONS)
    assert len(read.cells) == len(notebook.cells) and flags == []


def test_without_releases_a_lesson_is_not_compared_with_the_others(tmp_path):
    """With no releases folder (grading the solutions as they are), is the notebook read whatever its cells?"""
    path = submit(LESSONS / "02_reshape.ipynb", tmp_path, "03_build.ipynb")
    notebook, flags = read_lesson(path, "03_build", None)
    assert notebook == nbformat.read(LESSONS / "02_reshape.ipynb", as_version=4) and flags == []


def test_an_nbformat_3_notebook_is_converted_keeping_the_answers_and_flagged(tmp_path):
    """Is a real nbformat 3 notebook upgraded to a valid nbformat 4 one, with the same answers and grade_ids?"""
    original = nbformat.read(PASSING / "01_load.ipynb", as_version=4)
    path = submit(version_3(PASSING / "01_load.ipynb").encode(), tmp_path, "01_load.ipynb")
    notebook, flags = read_lesson(path, "01_load", LESSONS)
    assert notebook.nbformat == 4
    nbformat.validate(notebook)
    assert [(grade_id(c), c.source) for c in notebook.cells] == [(grade_id(c), c.source) for c in original.cells]
    assert flags == [
        "01_load.ipynb was saved in an old notebook format (nbformat 3); the grader converted it to "
        "nbformat 4 and graded it. Save your notebooks with a current Jupyter to avoid the conversion."
    ]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    """Is a notebook saved as UTF-8 with a byte-order mark read like any other?"""
    path = submit(b"\xef\xbb\xbf" + (LESSONS / "03_build.ipynb").read_bytes(), tmp_path, "03_build.ipynb")
    assert read_lesson(path, "03_build", LESSONS) == (nbformat.read(LESSONS / "03_build.ipynb", as_version=4), [])


@pytest.mark.parametrize(
    "content, words",
    [
        ((LESSONS / "03_build.ipynb").read_text().encode("utf-16"), "it is UTF-16 text, not UTF-8"),
        (
            b'{"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}',
            "(nbformat 5): Unsupported nbformat version 5",
        ),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}', "(nbformat 4): "),
    ],
)
def test_other_unreadable_notebooks_say_what_was_found(content, words, tmp_path):
    """Do a UTF-16 file, an unknown nbformat and a notebook that fails validation each say what is wrong?"""
    with pytest.raises(UnreadableSubmission, match="could not be read as a notebook") as raised:
        read_lesson(submit(content, tmp_path, "03_build.ipynb"), "03_build", LESSONS)
    assert words in raised.value.found


# --- names and where outputs go, no kernel --------------------------------------------------------------------------

NAMES = [
    "..",
    "../evil",
    "a/../../b",
    "/etc/passwd",
    "-rf",
    "--force",
    ".hidden",
    ".",
    "x" * 300,
    "Zoë Ñúñez",
    "Alice",
    "alice",
    "caf\udce9",
    "CON",
    "a b",
    "名前",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_output_of_any_student_name_stays_in_the_output_folder(name, tmp_path):
    """Do results, feedback and Gradescope files of a student with a hostile name land inside the output folder?"""
    key = safe_key(name)
    assert key.isascii() and key[0].isalnum() and "/" not in key and ".." not in key and len(key) <= 80
    output = tmp_path / "out"
    record = student_record(
        name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), key, "fingerprint", {}, [], SPEC
    )
    write_student_outputs(record, [], output)
    written = sorted(path.relative_to(output).as_posix() for path in output.rglob("*") if path.is_file())
    assert written == [f"feedback/{key}.html", f"gradescope/{key}/results.json", f"results/{key}.json"]
    assert inside(output) and sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_distinct_names_get_distinct_keys_even_ignoring_case():
    """Do all the hostile names give different keys, and Alice/alice differ on a case-insensitive file system?"""
    keys = [safe_key(name) for name in NAMES] + [safe_key(name, hashed=True) for name in ("Alice", "alice")]
    assert len(set(keys)) == len(keys)
    assert safe_key("Alice", hashed=True).casefold() != safe_key("alice", hashed=True).casefold()


@pytest.fixture
def odd_class(tmp_path):
    """A submitted/ folder whose students have odd names and only broken files, and one linked folder."""
    submitted, outside = tmp_path / "submitted", tmp_path / "outside"
    names = ["a b", "Zoë Ñúñez", "-rf", ".hidden", "x" * 200, "Alice", "alice", "a..b"]
    for name in names:
        submit(BROKEN / "zero_bytes__scores_0.ipynb", submitted / name / "mnist", "01_load.ipynb")
    os.mkdir(bytes(submitted) + b"/caf\xe9")  # a folder name that is not UTF-8
    submit(BROKEN / "not_json__scores_0.ipynb", submitted / "caf\udce9" / "mnist", "01_load.ipynb")
    shutil.copytree(PASSING, outside / "linked" / "mnist")
    (submitted / "linked").symlink_to(outside / "linked", target_is_directory=True)
    return tmp_path, len(names) + 2


def test_a_class_of_odd_names_and_broken_files_is_graded_without_a_kernel(odd_class, grading_process_not_readied):
    """Does every student get a row and files inside the output folder, with nothing else on disk changing?"""
    root, students = odd_class
    before = snapshot(root, LESSONS, skip=root / "out")
    records = grade_class(root / "submitted", output=root / "out", progress=False)
    assert snapshot(root, LESSONS, skip=root / "out") == before
    assert len(records) == students and len({r["key"].casefold() for r in records}) == students
    assert all(r["total"] == 0 for r in records)
    assert inside(root / "out")
    assert sorted(p.stem for p in (root / "out" / "results").iterdir()) == sorted(r["key"] for r in records)
    by_name = {r["student"]: r for r in records}
    assert "is empty" in by_name["Zoë Ñúñez"]["lessons"]["01_load"]["checks"][0]["message"]
    assert "not valid JSON" in by_name["caf\ufffd"]["lessons"]["01_load"]["checks"][0]["message"]
    assert by_name["linked"]["problems"][0].startswith("Your submission folder (linked/mnist) is a link")
    with open(root / "out" / "gradebook.csv", newline="", encoding="utf-8") as handle:
        assert sorted(row["student"] for row in csv.DictReader(handle)) == sorted(by_name)


# --- a class run, with kernels --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Four students, lessons 01_load only where a kernel is needed, graded once:

    - alice: a correct 01_load, a copy of it as ``01_load (1).ipynb``, a 02_reshape that is not JSON,
      lesson 02's notebook as 03_build.ipynb, and a zero-byte 04_train;
    - Zoë Ñúñez: a correct 01_load in nbformat 3;
    - carol: a latin-1 01_load, and a correct one in a subfolder (the top-level one is graded);
    - dave: a link to a folder outside submitted/, holding a correct 01_load (refused).
    """
    root = tmp_path_factory.mktemp("broken-class")
    submitted = root / "submitted"
    alice = submitted / "alice" / "mnist"
    submit(PASSING / "01_load.ipynb", alice, "01_load.ipynb")
    submit(PASSING / "01_load.ipynb", alice, "01_load (1).ipynb")
    submit(BROKEN / "not_json__scores_0.ipynb", alice, "02_reshape.ipynb")
    submit(PASSING / "02_reshape.ipynb", alice, "03_build.ipynb")
    submit(BROKEN / "zero_bytes__scores_0.ipynb", alice, "04_train.ipynb")
    submit(version_3(PASSING / "01_load.ipynb").encode(), submitted / "Zoë Ñúñez" / "mnist", "01_load.ipynb")
    carol = submitted / "carol" / "mnist"
    submit(BROKEN / "latin1__scores_0.ipynb", carol, "01_load.ipynb")
    submit(PASSING / "01_load.ipynb", carol / "backup", "01_load.ipynb")
    submit(PASSING / "01_load.ipynb", root / "outside" / "dave" / "mnist", "01_load.ipynb")
    (submitted / "dave").symlink_to(root / "outside" / "dave", target_is_directory=True)

    before = snapshot(root, LESSONS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_PATH", "synthetic")
        records = grade_class(submitted, output=root / "out", progress=False)
    return root, {record["student"]: record for record in records}, before


def checks(record: dict, lesson: str) -> list[tuple]:
    return [(c["check_id"], c["outcome"], c["points"]) for c in record["lessons"][lesson]["checks"]]


@pytest.mark.slow
def test_broken_files_score_0_and_the_students_other_lessons_are_graded(graded_class):
    """Does alice get 01_load's 2 points, 0 for each broken file with its reason, and a note about the copy?"""
    _, records, _ = graded_class
    alice = records["alice"]
    assert checks(alice, "01_load") == [("load_data", "passed", 1), ("class_counts", "passed", 1)]
    assert checks(alice, "02_reshape") == [("flatten", "error", 0), ("take_subset", "error", 0)]
    assert (
        "02_reshape.ipynb could not be read as a notebook: it is not valid JSON"
        in alice["lessons"]["02_reshape"]["checks"][0]["message"]
    )
    assert checks(alice, "03_build") == [("build_model", "error", 0)]
    assert (
        "03_build.ipynb holds lesson 02_reshape, not 03_build" in alice["lessons"]["03_build"]["checks"][0]["message"]
    )
    assert checks(alice, "04_train") == [("compile_model", "error", 0), ("train", "error", 0)]
    assert "04_train.ipynb is empty: the file has 0 bytes" in alice["lessons"]["04_train"]["checks"][0]["message"]
    assert not alice["lessons"]["05_predict"]["submitted"]
    assert alice["total"] == 2
    assert alice["problems"] == [
        "01_load (1).ipynb looks like a second copy of 01_load; 01_load.ipynb was graded, "
        "not this copy. Keep one notebook per lesson, named 01_load.ipynb."
    ]


@pytest.mark.slow
def test_an_nbformat_3_notebook_with_correct_answers_scores_full_marks_with_a_flag(graded_class):
    """Is Zoë's nbformat 3 01_load graded normally (2 of 2) and flagged as converted?"""
    _, records, _ = graded_class
    zoe = records["Zoë Ñúñez"]
    assert checks(zoe, "01_load") == [("load_data", "passed", 1), ("class_counts", "passed", 1)]
    assert zoe["key"].startswith("Zoe_Nunez-") and zoe["total"] == 2
    assert any("nbformat 3" in flag and "converted" in flag for flag in zoe["lessons"]["01_load"]["flags"])


@pytest.mark.slow
def test_the_top_level_file_wins_and_a_linked_folder_is_refused(graded_class):
    """Is carol's top-level latin-1 file graded (0) rather than her backup copy, and dave's linked folder not read?"""
    _, records, _ = graded_class
    carol, dave = records["carol"], records["dave"]
    assert checks(carol, "01_load") == [("load_data", "error", 0), ("class_counts", "error", 0)]
    assert "not UTF-8" in carol["lessons"]["01_load"]["checks"][0]["message"]
    assert carol["problems"] == [
        "backup/01_load.ipynb looks like a second copy of 01_load; 01_load.ipynb was graded, "
        "not this copy. Keep one notebook per lesson, named 01_load.ipynb."
    ]
    assert dave["total"] == 0 and not any(lesson["submitted"] for lesson in dave["lessons"].values())
    assert dave["problems"] == [
        "Your submission folder (dave/mnist) is a link to another place, not a folder; the "
        "grader does not follow links, so it was not graded. Submit the folder itself (ask "
        "your instructor if you didn't make the link)."
    ]


@pytest.mark.slow
def test_the_class_outputs_are_written_and_nothing_else_changes(graded_class):
    """Are the gradebook, results and feedback written inside the output folder, the problems shown to the student,
    and every file outside the output folder (submissions, the linked folder, the released lessons) unchanged?"""
    root, records, before = graded_class
    out = root / "out"
    assert snapshot(root, LESSONS, skip=out) == before
    assert inside(out)
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        totals = {row["student"]: row["total"] for row in csv.DictReader(handle)}
    assert totals == {"alice": "2", "carol": "0", "dave": "0", "Zoë Ñúñez": "2"}
    page = (out / "feedback" / "alice.html").read_text(encoding="utf-8")
    assert "01_load (1).ipynb looks like a second copy of 01_load" in page and "holds lesson 02_reshape" in page
    assert "Feedback for Zoë Ñúñez" in (out / "feedback" / f"{records['Zoë Ñúñez']['key']}.html").read_text(
        encoding="utf-8"
    )
