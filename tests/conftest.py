"""Shared paths and fixtures for the maintainers' tests."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = PROJECT_ROOT / "solutions" / "mnist"
LESSONS = PROJECT_ROOT / "lessons" / "mnist"
SHARED_MNIST = PROJECT_ROOT.parent / "shared" / "data" / "mnist"
LESSON_NAMES = sorted(path.stem for path in SOLUTIONS.glob("*.ipynb"))

REAL_DIGITS_MISSING = (
    f"the official MNIST test files are not at {SHARED_MNIST} (they sit beside the project on the course's "
    "machines and are never copied into it); real-digit tests are skipped"
)


@pytest.fixture
def synthetic_digits(monkeypatch):
    """Makes mnist.load_data() (here and in kernels started from here) use the synthetic digits."""
    monkeypatch.setenv("MNIST_PATH", "synthetic")


@pytest.fixture(scope="session")
def real_digits():
    """The 10,000 official MNIST test digits as (images, labels); skips when they aren't there."""
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(REAL_DIGITS_MISSING)
    from digits.mnist import load_idx_pair

    return load_idx_pair(SHARED_MNIST, prefix="t10k")


@pytest.fixture(scope="session")
def real_digits_npz(real_digits, tmp_path_factory) -> Path:
    """A Keras-format mnist.npz made from the official test digits: the first 3000 as the training
    set, the other 7000 held out as the test set. It lives in a temporary folder, never in the repo."""
    import numpy as np

    images, labels = real_digits
    path = tmp_path_factory.mktemp("real-mnist") / "mnist.npz"
    np.savez(path, x_train=images[:3000], y_train=labels[:3000], x_test=images[3000:], y_test=labels[3000:])
    return path


def assert_scored(result, check_id: str, *, passed: bool) -> None:
    """The result is for ``check_id``, passed or failed, with all-or-nothing points from the spec."""
    from autograder.results import Outcome
    from autograder.spec import SPEC

    assert result.check_id == check_id
    assert result.max_points == SPEC.points[check_id]
    if passed:
        assert result.outcome is Outcome.PASSED, result.message
        assert result.points == SPEC.points[check_id]
        assert result.hint == ""
    else:
        assert result.outcome is Outcome.FAILED, result.message
        assert result.points == 0
        assert result.hint


def lesson_text(lesson: str) -> str:
    """The markdown of a solution notebook (the lesson's text, which nbgrader copies unchanged), joined."""
    import nbformat

    cells = nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4).cells
    return "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")


def quoted_percent(lesson: str, pattern: str) -> float:
    """The one percentage a lesson's text quotes where ``pattern`` (a regex with one ``(\\d+)%`` group) matches."""
    import re

    found = re.findall(pattern, lesson_text(lesson))
    assert len(found) == 1, f"expected one match for {pattern!r} in {lesson}'s text, found {found}"
    return float(found[0])
