"""``python -m autograder``: grade a class (see :mod:`autograder.batch.cli`)."""

import sys

from autograder.batch.cli import main

sys.exit(main())
