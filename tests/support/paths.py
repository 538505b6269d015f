"""Where the project's files are, as the tests see them."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
PROJECT_ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
SOLUTIONS = PROJECT_ROOT / "solutions" / "mnist"
LESSONS = PROJECT_ROOT / "lessons" / "mnist"
SHARED_MNIST = PROJECT_ROOT.parent / "shared" / "data" / "mnist"
LESSON_NAMES = sorted(path.stem for path in SOLUTIONS.glob("*.ipynb"))

EXAMPLES = PROJECT_ROOT / "examples"
EXAMPLE_SUBMISSIONS = EXAMPLES / "submissions"  # one folder per example student, each holding ASSIGNMENT/
ASSIGNMENT = "mnist"

REAL_DIGITS_MISSING = (
    f"the official MNIST test files are not at {SHARED_MNIST} (they sit beside the project on the course's "
    "machines and are never copied into it); real-digit tests are skipped"
)
