"""The MNIST course's checks and grader.

- :mod:`autograder.spec`: the one spec of expected values;
- :mod:`autograder.notebook`: ``check()`` and ``hint()`` for the lessons' check cells;
- :mod:`autograder.selfcheck`: the students' pytest self-check;
- :mod:`autograder.batch.cli` (``mnist-grade``, ``python -m autograder``): grade a class.
"""
