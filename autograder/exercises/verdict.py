"""Turns a list of problems found by a check into a :class:`CheckResult`."""

from __future__ import annotations

from autograder.results import CheckResult, Outcome
from autograder.spec import SPEC, Spec


def verdict(check_id: str, problems: list[str], *, success: str, hints: list[str], spec: Spec = SPEC) -> CheckResult:
    """Builds the result of a check from every problem it found.

    Args:
        check_id: The check's id, which also keys its points in the spec.
        problems: One sentence per mismatch, each saying what was found and what was expected.
        success: The message when there are no problems.
        hints: What to try next, shown on request when there are problems.
        spec: The spec that gives the points.

    Returns:
        Passed with full points when ``problems`` is empty, otherwise failed with none.
    """
    possible = spec.points[check_id]
    if not problems:
        return CheckResult(check_id, Outcome.PASSED, possible, possible, success)
    return CheckResult(check_id, Outcome.FAILED, 0, possible, "\n".join(problems), " ".join(dict.fromkeys(hints)))


def wrong_type(check_id: str, found: str, expected: str, *, hint: str, spec: Spec = SPEC) -> CheckResult:
    """The failed result for an answer that returned the wrong kind of object, so nothing else can be checked.

    Args:
        check_id: The check's id.
        found: What the answer returned, e.g. ``"build_model() returned a list"``.
        expected: What it should have returned, e.g. ``"a Keras model"``.
        hint: What to try next.
        spec: The spec that gives the points.
    """
    return verdict(check_id, [f"{found}; expected {expected}."], success="", hints=[hint], spec=spec)


def not_attempted(check_id: str, exercise: str, *, spec: Spec = SPEC) -> CheckResult:
    """The result for an exercise whose placeholder ``raise NotImplementedError()`` is still there."""
    return CheckResult(
        check_id,
        Outcome.NOT_ATTEMPTED,
        0,
        spec.points[check_id],
        f"{exercise} is not attempted yet: it still raises NotImplementedError.",
        f"Replace `raise NotImplementedError()` in {exercise} with your code, run that cell, then this one.",
    )


def errored(check_id: str, message: str, hint: str = "", *, spec: Spec = SPEC) -> CheckResult:
    """The result when the answer crashed or what the check needs is missing."""
    return CheckResult(check_id, Outcome.ERROR, 0, spec.points[check_id], message, hint)
