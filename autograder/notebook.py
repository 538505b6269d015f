"""The in-notebook front end: one call per exercise, a coloured line, and a hint on request.

In a lesson::

    from autograder.notebook import check, hint
    check("build_model", build_model)    # prints a line; raises CheckFailed unless it passed
    hint("build_model")                  # what to try next

Raising is what lets nbgrader score the cell; IPython shows the check's message in place of a
traceback through the grader's own code.
"""

from __future__ import annotations

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
    """A check did not pass; the message says what was found and what was expected."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the grader's frames would only distract."""
        return [f"{RED}CheckFailed{RESET}: {self}"]


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
        raise CheckFailed(f"{check_id}: {result.outcome.value}. {result.message}") from None


def hint(check_id: str) -> None:
    """Prints the hint for the last run of a check."""
    result = _last_results.get(check_id)
    if result is None:
        print(f"Run check({check_id!r}, ...) first.")
    else:
        print(result.hint or "That check passed: no hint needed.")
