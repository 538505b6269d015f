"""The in-notebook front end: one call per exercise, a coloured line, and a hint on request.

In a lesson::

    from autograder.notebook import check, hint, import_tensorflow_quietly, require
    import_tensorflow_quietly()          # the set-up cell: no TensorFlow start-up log lines in the lesson
    check("build_model", build_model)    # prints a line; raises CheckFailed unless it passed
    hint("build_model")                  # the idea to try, and the last check's advice
    with require("build_model"):         # a given cell: "Finish the exercise above first" until it is done
        build_model().summary()

Raising is what lets nbgrader score the cell; IPython shows one line in place of a traceback through
the grader's own code, since the check's message is already printed above it.

This module imports neither TensorFlow nor Keras, so a set-up cell can import it first.
"""

from __future__ import annotations

import sys
import warnings
from typing import Literal

from autograder.exercises import EXERCISES, first_hint, run_check
from autograder.quiet import import_tensorflow_quietly  # noqa: F401 - the lessons' set-up cells import it from here
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


def show_course_notices_plainly() -> None:
    """Shows the course's own notices (the synthetic-digits one) as one plain line that starts with "Note:".

    Python would show them as a warning: in a red box, with the kernel's temporary file name and the line of code
    that loaded the data. Other warnings are shown as before.
    """
    from digits.errors import SyntheticDigitsWarning

    shown_before = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SyntheticDigitsWarning):
            print(f"Note: {message}")
        else:
            shown_before(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def format_result(result: CheckResult, *, with_hint: bool = False, colour: bool = True) -> str:
    """The line(s) a student sees for a result."""
    code, label = STYLE[result.outcome]
    head = f"{result.check_id}: {label} ({result.points:g}/{result.max_points:g} points)"
    if colour:
        head = f"{code}{head}{RESET}"
    lines = [head, *("  " + line for line in result.message.splitlines())]
    if with_hint and result.hint:
        lines.append(f"  Hint: {result.hint}")
    elif not result.passed:
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


def hint(check_id: str, spec: Spec = SPEC) -> None:
    """Prints what to try for an exercise, whether or not you have checked it yet.

    First the idea (:func:`autograder.exercises.first_hint`, with the spec's numbers); then, when the exercise's last
    check in this notebook did not pass, that check's own hint about what it found.

    Args:
        check_id: The exercise's name, as in its check cell, e.g. ``"flatten"``.
        spec: The course spec.
    """
    if check_id not in EXERCISES:
        print(f"There is no exercise {check_id!r}; the exercises are {', '.join(EXERCISES)}.")
        return
    print(f"Hint for {EXERCISES[check_id].title}: {first_hint(check_id, spec)}")
    result = _last_results.get(check_id)
    if result is not None and result.passed:
        print("Your last check of it passed.")
    elif result is not None and result.hint:
        print(f"From your last check: {result.hint}")


# What an exercise's answer cell defines, and how to speak of it, when that isn't a function named after the check.
ANSWER_NAMES: dict[str, tuple[str, ...]] = {"load_data": ("x_train", "y_train", "x_test", "y_test")}
ANSWER_WORDS: dict[str, str] = {"load_data": "the arrays it loads"}


_found_unfinished: set[str] = set()  # exercises a require() stopped on, until a require() block with them succeeds


class ExerciseUnfinished(Exception):
    """A given cell needs an exercise that isn't finished yet; the message says which."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: what to do, not where in the given code it stopped."""
        return [f"{YELLOW}{self}{RESET}"]


def exercise_label(check_id: str, spec: Spec = SPEC) -> str:
    """How the lesson's text names an exercise: "exercise 2", or "the exercise" in a lesson with one."""
    checks = list(spec.lessons[spec.lesson_of[check_id]])
    return "the exercise" if len(checks) == 1 else f"exercise {checks.index(check_id) + 1}"


def unfinished_message(check_id: str, problem: str, spec: Spec = SPEC) -> str:
    """``Finish exercise 2 above first: this cell uses your class_counts(y), which ...``, for a given cell."""
    what = ANSWER_WORDS.get(check_id, f"your {EXERCISES[check_id].title}")
    return (
        f"Finish {exercise_label(check_id, spec)} above first: this cell uses {what}, {problem}. "
        "Run the exercise's cell, then this cell again."
    )


class require:  # a lower-case class: used like a function: `with require("flatten"):`
    """Runs a given cell's code only once the exercises it uses are done, and says so when they aren't.

    In a lesson's given cell::

        with require("load_data"):
            print(x_train.shape)

    Instead of a traceback from deep inside the given code (``'NoneType' object has no attribute 'shape'``,
    ``NotImplementedError``), the cell then stops with "Finish exercise 1 above first: ...". An exercise is
    unfinished when its answer isn't defined yet, is still ``None`` (``x_train = ... = None``), or raises
    ``NotImplementedError`` (the placeholder) while the cell runs. A ``NameError`` in a cell that requires an
    exercise an earlier given cell stopped on is that exercise too (the earlier cell never defined its
    variables). Any other error is the cell's own, and shows as usual.

    Args:
        *check_ids: The exercises whose answers the cell uses, e.g. ``"flatten", "take_subset"``.
    """

    def __init__(self, *check_ids: str, spec: Spec = SPEC):
        unknown = [check_id for check_id in check_ids if check_id not in EXERCISES]
        if unknown:
            raise ValueError(f"No such exercise: {', '.join(unknown)}; the exercises are {', '.join(EXERCISES)}.")
        self.check_ids, self.spec = check_ids, spec
        self.namespace = sys._getframe(1).f_globals  # the notebook's variables, where the answers live

    def unfinished(self, check_id: str, problem: str) -> ExerciseUnfinished:
        _found_unfinished.add(check_id)
        return ExerciseUnfinished(unfinished_message(check_id, problem, self.spec))

    def __enter__(self) -> None:
        for check_id in self.check_ids:
            for name in ANSWER_NAMES.get(check_id, (check_id,)):
                if name not in self.namespace:
                    raise self.unfinished(check_id, f"and {name} isn't defined yet")
                if self.namespace[name] is None:
                    raise self.unfinished(check_id, f"and {name} is still None")

    def __exit__(self, kind, error, traceback) -> Literal[False]:
        if kind is None:
            _found_unfinished.difference_update(self.check_ids)
            return False
        if issubclass(kind, NameError):
            stopped = [check_id for check_id in self.check_ids if check_id in _found_unfinished]
            if stopped:
                raise self.unfinished(stopped[0], f"so an earlier cell stopped before defining {error.name}") from None
        if not issubclass(kind, NotImplementedError):
            return False
        raised_in = set()
        while traceback is not None:
            raised_in.add(traceback.tb_frame.f_code.co_name)
            traceback = traceback.tb_next
        check_id = next((c for c in self.check_ids if c in raised_in), self.check_ids[0])
        raise self.unfinished(check_id, "which still raises NotImplementedError") from None


show_course_notices_plainly()  # the lessons' set-up cells import this module before they load the data
