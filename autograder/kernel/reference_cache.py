"""The trained reference network for the kernels that may have it, trained by the grader before they start.

Lesson 05's set-up loads the network lessons 03 and 04 built, trained (:func:`autograder.reference.trained_model`).
A graded kernel cannot keep what it trains (its HOME is temporary), so without help every student's lesson 05 would
train it again. Instead the grader runs ``python -m autograder.trained_cache`` in a process of its own, with the
kernel's environment (data source, thread count), once per grading process and data source, keeping the entry in
the grader's cache folder; each kernel that may load it gets a copy in its own temporary folder. No kernel ever
sees the grader's folder, so none can read other entries or leave a model there for another to load; kernels of
lessons up to the one that grades ``train`` get neither the copy nor ``trained_model``
(:data:`autograder.kernel.course_copy.GIVES_THE_RESULT_OF`): a trained model would be that lesson's answer.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from autograder.kernel.course_copy import answers_hidden_from
from autograder.protocol import CACHE_VARIABLE
from autograder.quiet import QUIET_LOG_LEVEL
from autograder.spec import SPEC, Spec
from autograder.trained_cache import cache_folder

BUILD_TIMEOUT = 600  # seconds: importing TensorFlow and one training, on a slow machine
# What the trained network depends on, of the kernel's environment: the data, the spec, TensorFlow's threads.
RELEVANT_VARIABLES = (
    "MNIST_PATH",
    "MNIST_COURSE_SPEC",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
)


def may_load_trained_model(lesson: str, spec: Spec = SPEC) -> bool:
    """Whether ``lesson``'s kernel may have the trained reference network: only after the lesson that grades
    ``train``."""
    return "trained_model" not in answers_hidden_from(lesson, spec)


def prepared_entry(env: dict[str, str]) -> tuple[Path, ...] | None:
    """The files of the grader's cache entry for the kernel environment ``env``: the model and its History.

    Trains it (in a separate process, about 10 s) the first time on this machine; afterwards only checks, once per
    grading process (again if its files have gone). Returns None, with a warning, if that fails: the kernel then
    trains the network itself, as it would with no cache, and the grades are the same.
    """
    relevant = tuple((name, env[name]) for name in RELEVANT_VARIABLES if name in env)
    entry = _prepare(cache_folder(), relevant)
    if entry is not None and not all(path.is_file() for path in entry):
        _prepare.cache_clear()
        entry = _prepare(cache_folder(), relevant)
    return entry


def kernel_copy(lesson: str, env: dict[str, str], folder: Path, spec: Spec = SPEC) -> Path | None:
    """The cache folder for ``lesson``'s kernel: ``folder`` (made here, under the kernel's temporary folder) holding
    a copy of the grader's entry, or None when the lesson may not load it or there is none (the kernel then
    trains the network itself if it needs it)."""
    if not may_load_trained_model(lesson, spec):
        return None
    entry = prepared_entry(env)
    if entry is None:
        return None
    try:
        folder.mkdir()
        for path in entry:
            shutil.copyfile(path, folder / path.name)
    except OSError as error:
        warnings.warn(f"Could not give the kernel the trained reference network: {error}", stacklevel=2)
        return None
    return folder


@functools.cache
def _prepare(folder: Path, relevant: tuple[tuple[str, str], ...]) -> tuple[Path, ...] | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (
            open(folder / ".lock", "w") as lock,
            tempfile.TemporaryDirectory(prefix="mnist-course-training-") as home,
        ):
            fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time: parallel workers wait, then load
            env = {**dict(relevant), "PATH": os.environ.get("PATH", ""), "HOME": home, CACHE_VARIABLE: str(folder)}
            built = subprocess.run(
                [sys.executable, "-m", "autograder.trained_cache"],
                env={**env, "TF_CPP_MIN_LOG_LEVEL": QUIET_LOG_LEVEL},
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
            )
    except (OSError, subprocess.TimeoutExpired) as error:
        warnings.warn(f"Could not prepare the trained reference network in {folder}: {error}", stacklevel=3)
        return None
    entry = tuple(Path(line) for line in built.stdout.splitlines()[-2:])
    if built.returncode != 0 or len(entry) != 2 or not all(path.is_file() for path in entry):
        last = (built.stderr.strip().splitlines() or ["no output"])[-1]
        warnings.warn(f"Could not prepare the trained reference network in {folder}: {last}", stacklevel=3)
        return None
    return entry
