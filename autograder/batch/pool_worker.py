"""A ``mnist-grade --jobs N`` worker process: its start, its students, and what Ctrl-C does to it.

Ctrl-C sends SIGINT to every process of the run. The workers start with SIGINT held back
(:func:`ctrl_c_held_while_spawning`) and let it through in :func:`start_pool_worker`, once it can end them quietly:
a worker stopped while it imports the grader or TensorFlow would print a traceback of that import. So that the
held SIGINT is let through early, this module and what a worker receives before its start (the
:class:`~autograder.batch.options.GradingOptions`) import nothing heavy; the grader is imported in the functions.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING

from autograder.batch.options import GradingOptions

if TYPE_CHECKING:
    from autograder.batch.reports import StudentRecord
    from autograder.batch.submissions import Submission

_grading_a_student = False  # whether this worker is grading a student now (read by its SIGINT handler)


def stop_at_ctrl_c(signum, frame) -> None:
    """A worker's SIGINT: a worker grading a student stops it with KeyboardInterrupt, which the main process gets as
    that student's outcome and records nothing for; an idle or starting one exits quietly, instead of printing the
    traceback of the queue it was waiting on or the import it was in. The main process, interrupted too, says what
    was kept."""
    if _grading_a_student:
        raise KeyboardInterrupt
    raise SystemExit(130)


def start_pool_worker(options: GradingOptions) -> None:
    """A worker's start: :func:`autograder.batch.grade_class.start_worker`, with :func:`stop_at_ctrl_c` for SIGINT
    unless the run ignores SIGINT (started in a script's background, for example).

    concurrent.futures logs any exception of a worker's start with its traceback, the quiet exit of a Ctrl-C
    included: its logger is turned off for that one.
    """
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, stop_at_ctrl_c)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a Ctrl-C held since the start lands here
        from autograder.batch.grade_class import start_worker

        start_worker(options)
    except SystemExit:
        logging.getLogger("concurrent.futures").disabled = True
        raise


@contextlib.contextmanager
def ctrl_c_held_while_spawning() -> Iterator[None]:
    """Holds back SIGINT in this thread while the block spawns workers, which start with it held back too (a
    process inherits its parent's signal mask). A Ctrl-C in the meantime is not lost: here it arrives as the block
    ends, in a worker as :func:`start_pool_worker` begins."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def grade_in_worker(submission: Submission, options: GradingOptions) -> tuple[StudentRecord, list[tuple[str, str]]]:
    """:func:`autograder.batch.grade_class.grade_submission`, as a worker's task."""
    from autograder.batch.grade_class import grade_submission

    global _grading_a_student
    _grading_a_student = True
    try:
        return grade_submission(submission, options=options)
    finally:
        _grading_a_student = False
