"""nbgrader configuration: solutions/ is the source, lessons/ is the release.

    nbgrader generate_assignment mnist --no-db --force     (or: make lessons)

reads solutions/mnist/*.ipynb and writes lessons/mnist/*.ipynb with the solutions replaced by
`raise NotImplementedError()`, outputs cleared and checksums recorded for the grader-owned cells.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.course_id = "mnist-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
c.CourseDirectory.db_assignments = [{"name": "mnist"}]
