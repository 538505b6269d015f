"""Finds the submissions to grade: nbgrader's layout, a flat folder, or one notebook.

Which file is graded for a lesson, when a student's folder holds several:

1. only a file named exactly ``<lesson>.ipynb`` is graded (the grader can't know what else the student meant);
2. among those, the one nearest the top of the folder wins, then the first by path: ``03_build.ipynb`` beats
   ``old/03_build.ipynb``; subfolders are searched :data:`MAX_DEPTH` levels deep, hidden ones
   (``.ipynb_checkpoints``) never;
3. every other notebook is reported in :attr:`Submission.problems`, which the student's results and feedback
   show: copies (``03_build (1).ipynb``, ``03_build-Copy1.ipynb``), other copies of the lesson, and files that
   are not lessons.

Links are not followed: a student folder, assignment folder or notebook that is a symbolic link is reported and
not graded, so a submission can't make the grader read files outside the submitted folder. (``source`` itself, as
given on the command line, may be a link.)
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from autograder.spec import SPEC, Spec

MAX_DEPTH = 3
MAX_KEY_LENGTH = 60
LINK_PROBLEM = (
    "{name} is a link to another place, not a {kind}; the grader does not follow links, so it was not "
    "graded. Submit the {kind} itself (ask your instructor if you didn't make the link)."
)


@dataclass
class Submission:
    """One student's notebooks.

    Attributes:
        student: The student's name as the folder gives it (bytes that aren't UTF-8 shown as U+FFFD).
        key: A safe file name for the student's outputs (no spaces, slashes or '..').
        notebooks: Lesson -> notebook path.
        problems: Files that couldn't be matched to a lesson, duplicates, links, ...
    """

    student: str
    key: str
    notebooks: dict[str, Path]
    problems: list[str] = field(default_factory=list)

    def fingerprint(self, spec: Spec, release: Path) -> str:
        """SHA-256 of everything the grade depends on: the notebooks, the problems, the spec and the released
        lessons."""
        digest = hashlib.sha256(spec.fingerprint.encode())
        for lesson in sorted(self.notebooks):
            digest.update(lesson.encode())
            try:
                digest.update(self.notebooks[lesson].read_bytes())
            except OSError as error:  # grading reports it; the fingerprint must not stop the class
                digest.update(repr(error).encode())
        for problem in self.problems:
            digest.update(problem.encode("utf-8", "surrogateescape"))
        for path in sorted(release.glob("*.ipynb")):
            digest.update(path.read_bytes())
        return digest.hexdigest()


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def safe_key(name: str, *, hashed: bool = False) -> str:
    """A file name for ``name``: unchanged when already safe, else cleaned and suffixed with a short hash.

    Accents are dropped (``Zoë Ñúñez`` -> ``Zoe_Nunez-<hash>``), runs of other characters become ``_``, runs of
    dots one dot, leading and trailing ``.``, ``_`` and ``-`` go (so no hidden files, no ``..``, nothing that looks
    like a command-line option), and the result is cut to :data:`MAX_KEY_LENGTH` characters.

    Args:
        name: The student's folder name.
        hashed: Add the hash even to a safe name (for names that differ only by case).
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name))
    cleaned = cleaned.strip("._-")[:MAX_KEY_LENGTH].rstrip("._-") or "student"
    if cleaned == name and not hashed:
        return name
    return f"{cleaned}-{_hash(name)}"


def display_name(name: str) -> str:
    """The folder name as text: bytes that aren't UTF-8 (kept by Python as surrogates) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _notebook_files(folder: Path) -> tuple[list[Path], list[str]]:
    """The regular .ipynb files under ``folder`` (paths relative to it), and a problem per linked notebook."""
    found, problems = [], []
    for root, folders, files in os.walk(folder):  # os.walk doesn't descend into linked folders
        here = Path(root).relative_to(folder)
        folders[:] = [] if len(here.parts) >= MAX_DEPTH else sorted(f for f in folders if not f.startswith("."))
        for name in sorted(f for f in files if f.endswith(".ipynb") and not f.startswith(".")):
            if (Path(root) / name).is_symlink():
                problems.append(LINK_PROBLEM.format(name=(here / name).as_posix(), kind="notebook"))
            elif _is_regular_file(Path(root) / name):
                found.append(here / name)
    return found, problems


def _lesson_of(name: str, spec: Spec) -> tuple[str | None, bool]:
    """(the lesson a file name is for, whether it is exactly ``<lesson>.ipynb``); (None, False) for other names.

    ``03_build (1).ipynb``, ``03_build-Copy1.ipynb`` and ``03_Build.ipynb`` are for 03_build, not exactly.
    """
    stem = name[: -len(".ipynb")]
    if stem in spec.lessons:
        return stem, True
    for lesson in spec.lessons:
        rest = stem[len(lesson) :]
        if stem[: len(lesson)].casefold() == lesson.casefold() and not rest[:1].isalnum():
            return lesson, False
    return None, False


def _choose(files: list[Path], spec: Spec, *, nested_ok: bool = False) -> tuple[dict[str, Path], list[str]]:
    """Picks the file graded for each lesson (see the module's rules), and a problem per file not graded (and,
    unless ``nested_ok``, per lesson graded from a subfolder)."""
    ranked = sorted(files, key=lambda path: (len(path.parts), path.as_posix()))
    chosen: dict[str, Path] = {}
    for path in ranked:
        lesson, exact = _lesson_of(path.name, spec)
        if exact and lesson is not None and lesson not in chosen:  # exact: lesson is never None
            chosen[lesson] = path
    problems = [
        f"{lesson} was graded from {path.as_posix()}, which is in a subfolder; next time put your notebooks "
        "directly in the folder you submit."
        for lesson, path in sorted(chosen.items())
        if len(path.parts) > 1 and not nested_ok
    ]
    for path in sorted(files):
        lesson, exact = _lesson_of(path.name, spec)
        shown = path.as_posix()
        if lesson is None:
            problems.append(f"{shown} is not one of the lessons ({', '.join(spec.lessons)}); it was not graded.")
        elif chosen.get(lesson) == path:
            continue
        elif lesson in chosen:
            problems.append(
                f"{shown} looks like a second copy of {lesson}; {chosen[lesson].as_posix()} was graded, "
                f"not this copy. Keep one notebook per lesson, named {lesson}.ipynb."
            )
        else:
            problems.append(
                f"{shown} looks like your {lesson} notebook, but only a file named exactly {lesson}.ipynb "
                f"is graded, so {lesson} was not graded. Rename it to {lesson}.ipynb."
            )
    return chosen, problems


def _collect(student: str, folder: Path, spec: Spec, *, nested_ok: bool = False) -> Submission:
    """The submission of one student whose notebooks are in ``folder``."""
    files, problems = _notebook_files(folder)
    chosen, choosing = _choose(files, spec, nested_ok=nested_ok)
    notebooks = {lesson: folder / path for lesson, path in chosen.items()}
    return Submission(display_name(student), safe_key(student), notebooks, problems + choosing)


def collect_student(student: str, folder: Path, spec: Spec = SPEC) -> Submission:
    """The submission of one student whose notebooks may be anywhere under ``folder`` (a Gradescope upload, where
    a zip or a folder is as good a way to hand in as loose notebooks)."""
    return _collect(student, folder, spec, nested_ok=True)


def _linked(student: str, assignment: str) -> Submission:
    """The submission of a student whose folder (or assignment folder) is a link: nothing is graded."""
    problem = LINK_PROBLEM.format(name=f"Your submission folder ({display_name(student)}/{assignment})", kind="folder")
    return Submission(display_name(student), safe_key(student), {}, [problem])


def _distinct_keys(submissions: list[Submission], names: list[str]) -> None:
    """Hashes the keys of students whose names differ only by case, so their files differ on any file system."""
    folded: dict[str, int] = {}
    for submission in submissions:
        folded[submission.key.casefold()] = folded.get(submission.key.casefold(), 0) + 1
    for submission, name in zip(submissions, names, strict=True):
        if folded[submission.key.casefold()] > 1:
            submission.key = safe_key(name, hashed=True)


def find_submissions(source: str | Path, *, assignment: str = "mnist", spec: Spec = SPEC) -> list[Submission]:
    """Lists the submissions under ``source``.

    Args:
        source: nbgrader's ``submitted/`` folder (``<student>/<assignment>/*.ipynb``), a flat folder of one
            student's notebooks, or one notebook.
        assignment: The nbgrader assignment name.
        spec: The course spec (its lessons name the notebooks).

    Returns:
        One submission per student, sorted by folder name.

    Raises:
        FileNotFoundError: When ``source`` doesn't exist or holds no notebooks.
    """
    source = Path(source)
    if source.is_file():
        lesson, exact = _lesson_of(source.name, spec)
        problems = (
            []
            if exact
            else [
                f"{source.name} is not named after one of the lessons ({', '.join(spec.lessons)}); it was not graded."
            ]
        )
        name = source.parent.name or "student"
        notebooks = {lesson: source} if exact and lesson is not None else {}  # exact: lesson is never None
        return [Submission(display_name(name), safe_key(name), notebooks, problems)]
    if not source.is_dir():
        raise FileNotFoundError(
            f"{source} doesn't exist: give nbgrader's submitted/ folder, a folder of notebooks, or a notebook."
        )
    students = sorted(child for child in source.iterdir() if (child / assignment).is_dir())
    if students:
        submissions = [
            _linked(child.name, assignment)
            if child.is_symlink() or (child / assignment).is_symlink()
            else _collect(child.name, child / assignment, spec)
            for child in students
        ]
        _distinct_keys(submissions, [child.name for child in students])
        return submissions
    if not any(source.glob("*.ipynb")):
        raise FileNotFoundError(f"{source} holds no notebooks, and no <student>/{assignment}/ folders.")
    return [_collect(source.resolve().name or "student", source, spec)]
