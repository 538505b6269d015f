"""Finds the submissions to grade: nbgrader's layout, a flat folder, or one notebook."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.spec import SPEC, Spec


@dataclass
class Submission:
    """One student's notebooks.

    Attributes:
        student: The student's name as the folder gives it.
        key: A safe file name for the student's outputs (no spaces, slashes or '..').
        notebooks: Lesson -> notebook path.
        problems: Files that couldn't be matched to a lesson, duplicates, ...
    """

    student: str
    key: str
    notebooks: dict[str, Path]
    problems: list[str] = field(default_factory=list)

    def fingerprint(self, spec: Spec, release: Path) -> str:
        """SHA-256 of everything the grade depends on: the notebooks, the spec and the released lessons."""
        digest = hashlib.sha256(spec.fingerprint.encode())
        for lesson in sorted(self.notebooks):
            digest.update(lesson.encode())
            digest.update(self.notebooks[lesson].read_bytes())
        for path in sorted(release.glob("*.ipynb")):
            digest.update(path.read_bytes())
        return digest.hexdigest()


def safe_key(name: str) -> str:
    """A file name for ``name``: unchanged when already safe, else cleaned and suffixed with a short hash."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "student"
    if cleaned == name:
        return name
    return f"{cleaned}-{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


def _collect(student: str, paths: list[Path], spec: Spec) -> Submission:
    notebooks: dict[str, Path] = {}
    problems: list[str] = []
    for path in sorted(paths):
        if path.stem not in spec.lessons:
            problems.append(f"{path.name} is not one of the lessons ({', '.join(spec.lessons)}); it was not graded.")
        elif path.stem in notebooks:
            problems.append(f"{path.name} was submitted twice; {notebooks[path.stem]} was graded.")
        else:
            notebooks[path.stem] = path
    return Submission(student, safe_key(student), notebooks, problems)


def find_submissions(source: str | Path, *, assignment: str = "mnist", spec: Spec = SPEC) -> list[Submission]:
    """Lists the submissions under ``source``.

    Args:
        source: nbgrader's ``submitted/`` folder (``<student>/<assignment>/*.ipynb``), a flat folder of one
            student's notebooks, or one notebook.
        assignment: The nbgrader assignment name.
        spec: The course spec (its lessons name the notebooks).

    Returns:
        One submission per student, sorted by name.

    Raises:
        FileNotFoundError: When ``source`` doesn't exist or holds no notebooks.
    """
    source = Path(source)
    if source.is_file():
        return [_collect(source.parent.name or "student", [source], spec)]
    if not source.is_dir():
        raise FileNotFoundError(f"{source} doesn't exist: give nbgrader's submitted/ folder, a folder of notebooks, or a notebook.")
    students = sorted(child for child in source.iterdir() if (child / assignment).is_dir())
    if students:
        return [_collect(child.name, list((child / assignment).glob("*.ipynb")), spec) for child in students]
    notebooks = list(source.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{source} holds no notebooks, and no <student>/{assignment}/ folders.")
    return [_collect(source.name, notebooks, spec)]
