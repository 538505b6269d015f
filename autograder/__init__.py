"""The MNIST course's checks and grader, by role.

- the contract: :mod:`~autograder.spec` (the one spec of expected values), :mod:`~autograder.results`,
  :mod:`~autograder.limits`, :mod:`~autograder.protocol` (what the kernel and the grader agree on);
- for students, imported by the lessons: :mod:`~autograder.notebook` (``check()`` and ``hint()``),
  :mod:`~autograder.reference` (the course's network and given code), :mod:`~autograder.selfcheck` (``make check``);
- :mod:`autograder.exercises`: each exercise's observe, check and hint;
- :mod:`autograder.lesson`: grading one notebook; :mod:`autograder.kernel`: the student's kernel;
- :mod:`autograder.batch`: grading a class (``mnist-grade``, ``python -m autograder``).
"""
