"""Assertions several test modules make about a check's result."""

from __future__ import annotations


def assert_scored(result, check_id: str, *, passed: bool) -> None:
    """The result is for ``check_id``, passed or failed, with all-or-nothing points from the spec."""
    from autograder.results import Outcome
    from autograder.spec import SPEC

    assert result.check_id == check_id
    assert result.max_points == SPEC.points[check_id]
    if passed:
        assert result.outcome is Outcome.PASSED, result.message
        assert result.points == SPEC.points[check_id]
        assert result.hint == ""
    else:
        assert result.outcome is Outcome.FAILED, result.message
        assert result.points == 0
        assert result.hint
