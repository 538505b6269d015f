"""The in-notebook front end: one call per exercise, a coloured line, and a hint on request.

In a lesson::

    from autograder.notebook import check, hint, import_tensorflow_quietly
    import_tensorflow_quietly()          # the set-up cell: no TensorFlow start-up log lines in the lesson
    check("build_model", build_model)    # prints a line; raises CheckFailed unless it passed
    hint("build_model")                  # what to try next

Raising is what lets nbgrader score the cell; IPython shows one line in place of a traceback through
the grader's own code, since the check's message is already printed above it.

This module imports neither TensorFlow nor Keras, so a set-up cell can import it first.
"""

from __future__ import annotations

import os
import sys
import warnings

from autograder.exercises import run_check
from autograder.results import CheckResult, Outcome
from autograder.spec import SPEC, Spec

GREEN, RED, YELLOW, RESET = "\033[32m", "\033[31m", "\033[33m", "\033[0m"
STYLE = {
    Outcome.PASSED: (GREEN, "✔ passed"),
    Outcome.FAILED: (RED, "✘ not yet"),
    Outcome.NOT_ATTEMPTED: (YELLOW, "… not attempted yet"),
    Outcome.ERROR: (RED, "✘ error"),
}

_last_results: dict[str, CheckResult] = {}


class CheckFailed(AssertionError):
    """A check did not pass; the message says what was found and what was expected.

    Its text (``str()``) is the whole message, for nbgrader and pytest; in the notebook, where :func:`check`
    has just printed that message, IPython shows a single line instead (:meth:`_render_traceback_`).
    """

    def __init__(self, result: CheckResult):
        super().__init__(f"{result.check_id}: {result.outcome.value}. {result.message}")
        self.result = result

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the grader's frames would only distract, and the
        message is printed just above."""
        return [f"{RED}CheckFailed{RESET}: {self.result.check_id} did not pass yet (what it found is printed above)."]


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow without the log lines it writes about the machine while it starts.

    TensorFlow's C++ code writes them straight to the process's standard error, which Jupyter shows in the
    notebook: "All log messages before absl::InitializeLog() is called are written to STDERR", the oneDNN
    notice and "Could not find cuda drivers on your machine". They are written before TensorFlow reads its
    log settings, so no environment variable stops them (and ``TF_ENABLE_ONEDNN_OPTS=0``, which stops the
    oneDNN one, also changes the arithmetic); they are sent to ``os.devnull`` while TensorFlow is imported.
    ``TF_CPP_MIN_LOG_LEVEL=3`` (unless already set) keeps the later ones out, such as the CPU-feature notice
    and "failed call to cuInit". Python errors are raised as usual. Does nothing once TensorFlow is imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    try:
        quiet = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no devnull to write to: import it as it is
        import tensorflow  # noqa: F401
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(quiet, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(quiet)


def format_result(result: CheckResult, *, with_hint: bool = False, colour: bool = True) -> str:
    """The line(s) a student sees for a result."""
    code, label = STYLE[result.outcome]
    head = f"{result.check_id}: {label} ({result.points:g}/{result.max_points:g} points)"
    if colour:
        head = f"{code}{head}{RESET}"
    lines = [head, *("  " + line for line in result.message.splitlines())]
    if with_hint and result.hint:
        lines.append(f"  Hint: {result.hint}")
    elif result.hint:
        lines.append(f"  (for a hint, run hint({result.check_id!r}))")
    return "\n".join(lines)


def check(check_id: str, *answers, show_hint: bool = False, spec: Spec = SPEC) -> None:
    """Checks one exercise, prints the result, and raises unless it passed.

    Args:
        check_id: Which exercise, e.g. ``"flatten"``.
        *answers: Your function(s) or values, as the lesson's check cell passes them.
        show_hint: Print the hint straight away.
        spec: The course spec.

    Raises:
        CheckFailed: When the check did not pass (so nbgrader scores the cell 0).
    """
    __tracebackhide__ = True  # pytest leaves this frame out of its tracebacks
    with warnings.catch_warnings(record=True):
        # Warnings raised while your code runs on the check's inputs are not the verdict; they would also
        # reach stderr, and nbgrader scores a check cell that writes to stderr as failed.
        result = run_check(check_id, *answers, spec=spec)
    _last_results[check_id] = result
    print(format_result(result, with_hint=show_hint))
    if not result.passed:
        raise CheckFailed(result) from None


def hint(check_id: str) -> None:
    """Prints the hint for the last run of a check."""
    result = _last_results.get(check_id)
    if result is None:
        print(f"Run check({check_id!r}, ...) first.")
    else:
        print(result.hint or "That check passed: no hint needed.")

