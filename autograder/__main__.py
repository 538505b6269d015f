"""``python -m autograder`` and ``mnist-grade``: grade a class (see :mod:`autograder.batch.cli`).

Importing the grader takes a second or two (nbformat, jsonschema and the rest); this module imports it only once
it can answer a Ctrl-C during that time with the course's message, not a traceback of the import it stopped.
"""

import sys

STOPPED_BEFORE_GRADING = "\nmnist-grade: stopped before grading began; nothing was written."


def main() -> int:
    try:
        from autograder.batch.cli import main as grade_a_class
    except KeyboardInterrupt:
        print(STOPPED_BEFORE_GRADING, file=sys.stderr)
        return 130  # the shells' status for a command stopped by Ctrl-C
    return grade_a_class()


if __name__ == "__main__":
    sys.exit(main())
