"""Grading a class: finding submissions, grading them, and writing the gradebook and reports.

- :mod:`~autograder.batch.cli` (``mnist-grade``): the command, thin over :mod:`~autograder.batch.grade_class`;
- :mod:`~autograder.batch.options`: how to grade; :mod:`~autograder.batch.pool_worker`: a ``--jobs N`` worker;
- :mod:`~autograder.batch.submissions`: which students submitted which lessons;
- :mod:`~autograder.batch.reports`: the gradebook, each student's feedback page and the class summary, written
  atomically (:mod:`~autograder.batch.atomic`);
- :mod:`~autograder.batch.cluster` (Dask) and :mod:`~autograder.batch.gradescope`: the same grading elsewhere;
- :mod:`~autograder.batch.run_course` (``make run``): build the lessons, run every solution, print a table.
"""
