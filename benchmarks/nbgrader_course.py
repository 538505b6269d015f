"""A temporary nbgrader course around this repository's lessons, for comparing the grader with nbgrader.

Used by the speed benchmark (``grading_speed.py``) and by the agreement test
(``tests/batch/test_nbgrader_agreement.py``), so both run ``nbgrader autograde`` on the same course layout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ASSIGNMENT = "mnist"
CELL_TIMEOUT = 300  # seconds per cell, as the grader's default (nbgrader's own default, 30 s, is too short)

CONFIG = """\
c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "mnist-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
c.CourseDirectory.db_url = {db_url!r}
c.Execute.timeout = {timeout}
"""


def make_nbgrader_course(root: Path, *, solutions: Path, lessons: Path, submissions: dict[str, Path]) -> str:
    """Lays out an nbgrader course in ``root``: its config, source = solutions, release = lessons, the submissions.

    Args:
        root: An empty folder for the course.
        solutions: The folder of solution notebooks (nbgrader's source of the assignment).
        lessons: The folder of released lessons.
        submissions: Student name -> that student's folder of submitted notebooks.

    Returns:
        The gradebook's database URL.
    """
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    config = CONFIG.format(root=str(root), db_url=db_url, timeout=CELL_TIMEOUT)
    (root / "nbgrader_config.py").write_text(config, encoding="utf-8")
    shutil.copytree(solutions, root / "solutions" / ASSIGNMENT)
    shutil.copytree(lessons, root / "lessons" / ASSIGNMENT)
    for student, notebooks in submissions.items():
        shutil.copytree(notebooks, root / "submitted" / student / ASSIGNMENT)
    return db_url
