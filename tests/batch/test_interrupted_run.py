"""Killing a grading run halfway loses no finished student, and a re-run grades the rest."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest
from support.paths import EXAMPLE_SUBMISSIONS

pytestmark = pytest.mark.slow

STUDENTS = ("fails_layer_name", "fails_units_25", "passes_all")
LESSONS_KEPT = ("01_load", "03_build")  # two quick lessons per student keep the test short


def small_class(root):
    for student in STUDENTS:
        folder = root / "submitted" / student / "mnist"
        folder.mkdir(parents=True)
        for lesson in LESSONS_KEPT:
            shutil.copy(EXAMPLE_SUBMISSIONS / student / "mnist" / f"{lesson}.ipynb", folder)
    return root / "submitted"


def sigint_as_in_a_terminal() -> None:
    """Lets SIGINT interrupt the grader, as Ctrl-C in a terminal does: a test run started in the background of a
    script (``pytest ... &``, as CI may) ignores SIGINT, and its children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def grade(submitted, output, jobs=1, **popen):
    command = [sys.executable, "-m", "autograder", str(submitted), "--output", str(output), "--no-progress"]
    command += ["--jobs", str(jobs)]
    return subprocess.Popen(
        command,
        env={**os.environ, "MNIST_PATH": "synthetic"},
        preexec_fn=sigint_as_in_a_terminal,
        **{"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, **popen},
    )


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_killed_run_keeps_finished_students_byte_for_byte(tmp_path, how):
    """After SIGINT or SIGKILL mid-class, do finished students keep their exact results, and does a re-run finish
    the rest?"""
    submitted, output = small_class(tmp_path), tmp_path / "out"
    run = grade(submitted, output, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list((output / "results").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(run.pid, how)
    run.wait(timeout=120)
    finished = {path.name: path.read_bytes() for path in (output / "results").glob("*.json")}
    assert 1 <= len(finished) < len(STUDENTS), "the kill should land between students"
    assert not list(output.rglob("*.tmp")) or how is signal.SIGKILL  # SIGINT cleans its temporary files

    assert grade(submitted, output).wait(timeout=600) == 0
    for name, content in finished.items():
        assert (output / "results" / name).read_bytes() == content
    assert not list(output.rglob("*.tmp"))
    with open(output / "gradebook.csv", newline="") as handle:
        assert sorted(row["student"] for row in csv.DictReader(handle)) == list(STUDENTS)


@pytest.mark.parametrize(
    ("how", "to_group", "status", "jobs"),
    [(signal.SIGINT, True, 130, 1), (signal.SIGTERM, False, -signal.SIGTERM, 1), (signal.SIGINT, True, 130, 2)],
    ids=["SIGINT to the group (Ctrl-C)", "SIGTERM to the grader (kill)", "SIGINT to the group at --jobs 2"],
)
def test_stopping_the_run_while_a_cell_runs_records_nothing_for_that_student(tmp_path, how, to_group, status, jobs):
    """Does Ctrl-C (SIGINT to the run's process group) or ``kill`` (SIGTERM to the grader) while a student's cell runs
    stop the run, instead of recording "the kernel died" for that student and grading on? nbclient handled both
    signals by shutting the kernel down, and nothing else; Ctrl-C's SIGINT also kills the kernel through its factory,
    in the same group. At --jobs 2 one worker is then idle (a_quick is done) and the other busy: neither may print
    a traceback (the idle one printed that of the queue it was waiting on)."""
    submitted, output = tmp_path / "submitted", tmp_path / "out"
    quick, sleeps = submitted / "a_quick" / "mnist", submitted / "b_sleeps" / "mnist"
    for folder in (quick, sleeps):
        folder.mkdir(parents=True)
    shutil.copy(EXAMPLE_SUBMISSIONS / "passes_all" / "mnist" / "01_load.ipynb", quick)
    notebook = nbformat.read(quick / "01_load.ipynb", as_version=4)
    [answer] = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "load"]
    answer.source = "import time\ntime.sleep(600)\n" + answer.source
    nbformat.write(notebook, sleeps / "01_load.ipynb")
    run = grade(submitted, output, jobs, start_new_session=True, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not (output / "results" / "a_quick.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(5)  # b_sleeps's kernel is started and sleeping in its answer cell
        assert run.poll() is None, "the run ended before b_sleeps's cell could be interrupted"
        if to_group:
            os.killpg(run.pid, how)
        else:
            run.send_signal(how)
        _, told = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)  # a run the signal didn't stop leaves nothing behind
    assert run.returncode == status, f"exit status {run.returncode}; it said:\n{told}"
    if how is signal.SIGINT:
        assert "mnist-grade: stopped. The students graded before the stop are kept in" in told
        assert "Traceback" not in told, f"Ctrl-C printed more than the course's message:\n{told}"
    assert (output / "results" / "a_quick.json").exists()
    assert not (output / "results" / "b_sleeps.json").exists()


@pytest.mark.parametrize(
    ("jobs", "delays"),
    [(2, (0.3, 1.5, 3.0, 5.0)), (1, (3.0, 5.0))],
    ids=["--jobs 2", "--jobs 1, after the grader's import"],
)
def test_ctrl_c_as_the_run_starts_prints_only_the_course_message(tmp_path, jobs, delays):
    """Does Ctrl-C in a run's first seconds stop it with status 130 and the course's one line, never a traceback?
    The signal lands while the grader is imported, while workers are spawned and import it, and while TensorFlow
    and the kernel factory start; each printed the traceback of the import it stopped. (--jobs 1 imports the grader
    as --jobs 2 does; only its later start differs.)"""
    submitted = small_class(tmp_path)
    for delay in delays:
        output = tmp_path / f"out-{delay}"
        run = grade(submitted, output, jobs, start_new_session=True, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(delay)
            os.killpg(run.pid, signal.SIGINT)
            _, told = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
        assert run.returncode == 130, f"Ctrl-C after {delay} s: exit status {run.returncode}; it said:\n{told}"
        assert "Traceback" not in told, f"Ctrl-C after {delay} s printed more than the course's message:\n{told}"
        assert told.strip().startswith("mnist-grade: stopped"), told
