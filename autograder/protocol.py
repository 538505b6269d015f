"""What the student's kernel and the grader must agree on, written once and imported by both sides.

During batch grading the kernel (:mod:`autograder.kernel`) writes one folder per check into its observations
folder, and the grader (:mod:`autograder.lesson`) reads them after the kernel is gone:

- a check that found something to observe leaves :data:`OBSERVATION_FILE` and :data:`ARRAYS_FILE`
  (:mod:`autograder.kernel.serialize`);
- a check with nothing to observe, or one the kernel could not save, leaves :data:`STATUS_FILE` instead,
  holding a :class:`Status` (worth 0 points either way: the kernel can't award itself a score);
- the last cell saves the lesson's own model, history and figure for the report in the folder :data:`ARTIFACTS`.
"""

from __future__ import annotations

from typing import Literal, TypedDict

RECORDER_NAME = "__autograder_record__"  # the recorder's name in the kernel; check cells are rewritten to call it
ARTIFACTS = "__artifacts__"  # the folder (and artifacts key) of the lesson's own model, history and figure
OBSERVATION_FILE = "observation.json"  # an observation's structure, plain JSON
ARRAYS_FILE = "arrays.npz"  # an observation's arrays, read without pickle
STATUS_FILE = "status.json"  # a check that left no observation: why (a Status)
TRAINING_COMPILE_FILE = "training_compile.json"  # compile settings saved beside the kernel's reference.py
CACHE_VARIABLE = "MNIST_COURSE_CACHE"  # environment variable: the folder of trained reference models (trained_cache)
SANDBOX_VARIABLE = "AUTOGRADER_SANDBOX"  # environment variable with the kernel's filesystem rules (SandboxRules)


class Status(TypedDict):
    """Why a check left no observation."""

    status: Literal["error", "not attempted"]
    message: str


class SandboxRules(TypedDict):
    """The folders a sandboxed kernel may read, and those it may also write (JSON in :data:`SANDBOX_VARIABLE`)."""

    read: list[str]
    write: list[str]
