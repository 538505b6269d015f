"""Imports TensorFlow without the lines it writes about the machine while it starts.

One function, :func:`import_tensorflow_quietly`, which every process that may load TensorFlow calls before it
does: the lessons' set-up cells (as ``autograder.notebook.import_tensorflow_quietly``), ``make run``
(:mod:`autograder.batch.run_course`), the processes of ``mnist-grade`` that grade
(:func:`autograder.batch.grade_class.start_worker`), the students' self-check (:mod:`autograder.selfcheck`), and the
kernel factory (:mod:`autograder.kernel.factory_server`, which loads this file by path).

This module imports only the standard library, so it can be imported (or run by path) before anything else.
"""

from __future__ import annotations

import os
import sys

# TensorFlow's C++ log level (0 shows everything, 3 only fatal errors): 3 keeps out the lines TensorFlow writes
# once it runs, such as the CPU-feature notice and "failed call to cuInit", which are about the machine.
QUIET_LOG_LEVEL = "3"


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow without the log lines it writes about the machine while it starts.

    TensorFlow's C++ code writes them straight to the process's standard error, which a terminal shows and
    Jupyter shows in the notebook: "All log messages before absl::InitializeLog() is called are written to
    STDERR", the oneDNN notice and "Could not find cuda drivers on your machine". They are written before
    TensorFlow reads its log settings, so no environment variable stops them (and ``TF_ENABLE_ONEDNN_OPTS=0``,
    which stops the oneDNN one, also changes the arithmetic); they are sent to ``os.devnull`` while TensorFlow
    is imported. ``TF_CPP_MIN_LOG_LEVEL=3`` (unless already set) keeps the later ones out, such as the
    CPU-feature notice and "failed call to cuInit"; it is set in ``os.environ``, so the processes this one
    starts (grading workers, the kernel factory) inherit it. Python errors are raised as usual. Does nothing
    more once TensorFlow is imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_LOG_LEVEL)
    if "tensorflow" in sys.modules:
        return
    try:
        quiet = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no devnull to write to: import it as it is
        import tensorflow

        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(quiet, 2)
        import tensorflow  # noqa: F401 - imported for its side effect: loaded, with its log lines hidden
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(quiet)
