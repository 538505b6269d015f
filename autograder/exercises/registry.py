"""The registry of the course's exercises, and the three steps that grade one.

Each exercise family (:mod:`~autograder.exercises.data`, :mod:`~autograder.exercises.model`,
:mod:`~autograder.exercises.compiling`, :mod:`~autograder.exercises.training`,
:mod:`~autograder.exercises.predictions`) keeps its exercises' steps side by side: the inputs, observe,
prepare, check and first hint. Three steps, kept apart so the batch grader can run the first in the
student's kernel and the other two in its own process:

1. **observe** runs the student's code on the grader's inputs (:mod:`autograder.exercises.probes`) and keeps
   what came back: arrays, plain values, Keras models, and figures already read into data.
2. **prepare** (grader side) reads the models with :mod:`autograder.exercises.describe` and computes the
   expected values (the reference model's accuracy, the reference weights' predictions).
3. **check** compares the two.

:func:`run_check` does all three in one process, for the notebook and pytest front ends.
"""

from __future__ import annotations

from autograder.exercises import compiling, data, model, predictions, training
from autograder.exercises.exercise import Exercise, NeedsEarlierLesson
from autograder.exercises.verdict import errored, not_attempted
from autograder.kernel.serialize import round_trip
from autograder.results import CheckResult
from autograder.spec import SPEC, Spec

EXERCISES: dict[str, Exercise] = {
    exercise.check_id: exercise
    for family in (data, model, compiling, training, predictions)
    for exercise in family.EXERCISES
}


def observe(check_id: str, *answers, spec: Spec = SPEC) -> dict | CheckResult:
    """Runs the observe step, turning an unfinished or crashing answer into its result.

    Returns:
        The observation, or the not-attempted / error result when there is nothing to check.
    """
    exercise = EXERCISES[check_id]
    try:
        return exercise.observe(*answers, spec=spec)
    except NotImplementedError:
        return not_attempted(check_id, exercise.title, spec=spec)
    except NeedsEarlierLesson as error:
        return errored(
            check_id, str(error), "Run the lesson's set-up cell again to get the given build_model.", spec=spec
        )
    except Exception as error:  # noqa: BLE001 - any crash in the student's code becomes feedback
        return errored(
            check_id,
            f"Calling {exercise.title} raised {type(error).__name__}: {error}",
            f"Run {exercise.title} yourself in a new cell to see the full error.",
            spec=spec,
        )


def grader_inputs(check_id: str, *, spec: Spec = SPEC) -> dict:
    """The observation fields that are the grader's own inputs, rebuilt in this process from the spec.

    A kernel can send back other inputs than the ones it was given (images that make a wrong answer look
    right); the batch grader judges the answer's outputs against these instead.

    Args:
        check_id: Which exercise, e.g. ``"flatten"``.
        spec: The course spec.

    Returns:
        class_counts: ``labels``; flatten: ``images``; take_subset: ``x``, ``y``, ``n``, ``default_x``,
        ``default_y``; train: ``X``, ``y`` (lesson 04's training rows); other checks: ``{}`` (they have
        no inputs in their observation, or rebuild them in prepare).
    """
    return EXERCISES[check_id].inputs(spec)


def judge(check_id: str, observation: dict, *, spec: Spec = SPEC, rebuild_inputs: bool = False) -> CheckResult:
    """Runs the prepare and check steps on an observation.

    Args:
        check_id: Which exercise.
        observation: What the observe step returned (or what a kernel saved).
        spec: The course spec.
        rebuild_inputs: Judge against :func:`grader_inputs` instead of the inputs in the observation. The
            batch grader sets it: its observations come from the student's kernel, which may have changed
            them. An exercise whose answer depends on the inputs the kernel sent back (train, whose model was trained
            on them) fails with its own message when they differ (:attr:`Exercise.inputs_differ`).
            The in-notebook front end (:func:`run_check`) leaves it off: there the inputs never left the process.
    """
    exercise = EXERCISES[check_id]
    if rebuild_inputs:
        inputs = grader_inputs(check_id, spec=spec)
        if exercise.inputs_differ is not None:
            different = exercise.inputs_differ(observation, inputs, spec=spec)
            if different is not None:
                return different
        observation = {**observation, **inputs}
    return exercise.check(**exercise.prepare(**observation, spec=spec), spec=spec)


def run_check(check_id: str, *answers, spec: Spec = SPEC) -> CheckResult:
    """Observes the student's answers and checks them.

    Args:
        check_id: Which exercise, e.g. ``"build_model"``.
        *answers: What the exercise's observer takes: the student's function(s) or values.
        spec: The course spec.

    Returns:
        The result; an unfinished exercise is *not attempted*, a crash is an *error* with its message.
    """
    observation = observe(check_id, *answers, spec=spec)
    if isinstance(observation, CheckResult):
        return observation
    return judge(check_id, round_trip(observation), spec=spec)


def first_hint(check_id: str, spec: Spec = SPEC) -> str:
    """The idea to try for an exercise, with the spec's numbers.

    Raises:
        KeyError: For an exercise that doesn't exist.
    """
    return EXERCISES[check_id].hint(spec)
