"""What one graded exercise is made of, and the small pieces the exercise families share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from autograder.results import CheckResult
from autograder.spec import Spec


class NeedsEarlierLesson(Exception):
    """What a check needs from an earlier exercise isn't there; the message says what."""


def unchanged(*, spec: Spec, **observation) -> dict:
    """The prepare step of checks whose observation is already what the check takes."""
    return observation


def no_inputs(spec: Spec) -> dict:
    """The grader inputs of checks that have none in their observation (or rebuild them in prepare)."""
    return {}


def grid_text(spec: Spec) -> str:
    """An image's grid as the hints say it, e.g. ``"28x28"``."""
    rows, columns = spec.data.image_shape
    return f"{rows}x{columns}"


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    Attributes:
        check_id: Its id in the spec.
        title: How the student knows it, e.g. ``"build_model()"``.
        observe: Runs the student's answer on the grader's inputs; returns what came back.
        prepare: Turns an observation into the check's keyword arguments, in the grader's process.
        check: Judges those arguments against the spec.
        hint: The first hint: the idea to try, never the answer's code, with the spec's numbers.
        inputs: Rebuilds, in the grader's process, the observation's fields that are the grader's own
            inputs (not the answer's outputs); see :func:`autograder.exercises.registry.grader_inputs`.
        inputs_differ: For an exercise whose answer's outputs depend on the inputs the kernel sent back (train's
            model was trained on them): given the observation and the rebuilt inputs, the result to give when
            they differ, else None. Other exercises are simply judged on the rebuilt inputs.
    """

    check_id: str
    title: str
    observe: Callable[..., dict]
    prepare: Callable[..., dict]
    check: Callable[..., CheckResult]
    hint: Callable[[Spec], str]
    inputs: Callable[[Spec], dict] = no_inputs
    inputs_differ: Callable[..., CheckResult | None] | None = None
