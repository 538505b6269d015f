"""The course's exercises: for each, how to observe a student's answer, prepare it, check it, and the first hint.

See :mod:`autograder.exercises.registry`.
"""

from autograder.exercises.registry import EXERCISES, Exercise, first_hint, grader_inputs, judge, observe, run_check

__all__ = ["EXERCISES", "Exercise", "first_hint", "grader_inputs", "judge", "observe", "run_check"]
