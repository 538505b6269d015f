"""Lesson 03 opened in JupyterLab in headless Chromium, run with Run > Run All Cells, read as the student sees it.

Needs Debian's ``chromium`` (``make test`` installs it through ``make browser-tools`` where it can) and Playwright;
skips, saying why, where either is missing. Set ``BROWSER_SCREENSHOTS`` to a folder to keep a picture of each run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from support.browser import (
    RenderedCell,
    chromium_executable,
    headless_chromium,
    open_notebook,
    read_cells,
    run_all_cells,
    running_lab,
    save_screenshot,
    shut_down_kernels,
)
from support.environments import student_environment
from support.hostile import submission
from support.paths import LESSONS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LESSON = "03_build"
CHECK_CALL = 'check("build_model", build_model)'

# What TensorFlow, Abseil or CUDA would print while the set-up cell imports TensorFlow; none of it is for students.
LOG_NOISE = ("oneDNN", "absl", "cuda", "cuInit", "TF_ENABLE", "WARNING", "tensorflow/")


@pytest.fixture(scope="module")
def lessons_root(tmp_path_factory) -> Path:
    """A folder with the lesson twice: ``filled/`` with the reference answer written in its exercise cell, and
    ``unfilled/`` as released; and ``plain/import_tensorflow.ipynb``, which imports TensorFlow without hiding its
    logs."""
    root = tmp_path_factory.mktemp("browser-lessons")
    (root / "filled").mkdir()
    nbformat.write(submission(LESSON, {}), root / "filled" / f"{LESSON}.ipynb")
    (root / "unfilled").mkdir()
    shutil.copy(LESSONS / f"{LESSON}.ipynb", root / "unfilled" / f"{LESSON}.ipynb")
    (root / "plain").mkdir()
    nbformat.write(
        nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell("import tensorflow")],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        ),
        root / "plain" / "import_tensorflow.ipynb",
    )
    return root


@pytest.fixture(scope="module")
def lab(lessons_root, tmp_path_factory):
    """JupyterLab serving ``lessons_root`` to kernels that load the synthetic digits and show what libraries write
    to stderr, as a student's do; stopped with its kernels after the module's tests."""
    work = tmp_path_factory.mktemp("browser-lab")
    with running_lab(lessons_root, work, {**student_environment(), "MNIST_PATH": "synthetic"}) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright; skips where either is missing."""
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (it is in pyproject.toml)")
    if chromium_executable() is None:
        pytest.skip("no chromium executable on PATH: `make browser-tools` installs Debian's (as root with apt-get)")
    with headless_chromium() as chromium:
        yield chromium


def lesson_after_run_all(browser, lab, relative_path: str) -> list[RenderedCell]:
    """Opens the notebook, runs all its cells from the Run menu, saves its picture to ``$BROWSER_SCREENSHOTS``
    when that is set, and returns its cells as rendered; the page and its kernel are closed after."""
    page = open_notebook(browser, lab, relative_path, lab.log.with_name("browser-console.log"))
    try:
        run_all_cells(page, timeout_s=300)
        if os.environ.get("BROWSER_SCREENSHOTS"):
            picture_name = Path(relative_path).with_suffix(".png").as_posix().replace("/", "-")
            save_screenshot(page, Path(os.environ["BROWSER_SCREENSHOTS"]) / picture_name)
        return read_cells(page)
    finally:
        page.close()
        shut_down_kernels(lab)


def cell_calling(cells: list[RenderedCell], text: str) -> RenderedCell:
    """The one code cell whose source contains ``text``."""
    found = [cell for cell in cells if cell.kind == "code" and text in cell.source]
    assert len(found) == 1, [cell.source for cell in cells]
    return found[0]


def assert_quiet_set_up(cells: list[RenderedCell]) -> None:
    """The first code cell (the set-up) ran and shows its one line, without log noise or stderr output."""
    set_up = next(cell for cell in cells if cell.kind == "code")
    assert "import_tensorflow_quietly()" in set_up.source
    assert set_up.prompt.strip() == "[1]:", set_up.prompt
    assert set_up.output.strip().endswith("Ready."), set_up.output
    assert set_up.stderr_styled == "", set_up.output
    assert [noise for noise in LOG_NOISE if noise.lower() in set_up.output.lower()] == [], set_up.output


def test_filled_lesson_shows_the_check_passed_in_green(browser, lab):
    """With the exercise answered on disk, does Run All Cells end with the check cell reading
    'build_model: ✔ passed (3/3 points)' in green, no traceback, and a quiet set-up cell?"""
    cells = lesson_after_run_all(browser, lab, f"filled/{LESSON}.ipynb")
    assert_quiet_set_up(cells)
    check_cell = cell_calling(cells, CHECK_CALL)
    assert check_cell.output.startswith("build_model: ✔ passed (3/3 points)"), check_cell.output
    assert "✔ passed" in check_cell.green
    assert "Traceback" not in check_cell.output and check_cell.stderr_styled == "", check_cell.output
    assert "\x1b[" not in check_cell.output and "[32m" not in check_cell.output, "colour codes shown as text"
    summary = cell_calling(cells, "model.summary()")
    assert "81,840" in summary.output and summary.stderr_styled == "", summary.output


def test_unfilled_lesson_says_not_attempted_without_a_traceback(browser, lab):
    """With the lesson as released, does Run All Cells stop at the check cell, which reads
    'build_model: … not attempted yet' in yellow and a one-line CheckFailed, not a traceback?"""
    cells = lesson_after_run_all(browser, lab, f"unfilled/{LESSON}.ipynb")
    assert_quiet_set_up(cells)
    check_cell = cell_calling(cells, CHECK_CALL)
    assert check_cell.output.startswith("build_model: … not attempted yet (0/3 points)"), check_cell.output
    assert "not attempted yet" in check_cell.yellow
    error_lines = check_cell.stderr_styled.strip().splitlines()
    assert len(error_lines) == 1 and error_lines[0].startswith("CheckFailed: build_model did not pass yet"), error_lines
    assert "Traceback" not in check_cell.output and "NotImplementedError()" not in check_cell.output, check_cell.output
    assert cell_calling(cells, "model.summary()").prompt.strip() == "[ ]:", "Run All stops at the first error"


def test_tensorflow_imported_plainly_shows_its_log_in_this_browser(browser, lab):
    """Does a cell importing TensorFlow plainly show TensorFlow's start-up log, styled as stderr, in the same lab
    (so the quiet set-up cells above are quiet because of the lessons, not because this page hides stderr)?"""
    cells = lesson_after_run_all(browser, lab, "plain/import_tensorflow.ipynb")
    assert "absl" in cells[0].stderr_styled, cells[0].output
