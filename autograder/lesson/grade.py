"""Grades one lesson notebook: the pipeline of :mod:`autograder.lesson`, from the file to its results."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.exercises.verdict import errored
from autograder.kernel.course_copy import data_source, write_kernel_library
from autograder.kernel.factory import PROVISIONER_NAME, factory_for
from autograder.kernel.reference_cache import kernel_copy
from autograder.kernel.sandbox import kernel_rules
from autograder.kernel.serialize import load_observation
from autograder.lesson.collect import ObservationWindow, collect
from autograder.lesson.execute import execute
from autograder.lesson.instrument import instrument
from autograder.lesson.read import UnreadableSubmission, read_lesson
from autograder.lesson.restore import restore_from_release
from autograder.limits import Limits, format_bytes
from autograder.protocol import (
    ARTIFACTS,
    CACHE_VARIABLE,
    OBSERVATION_FILE,
    RECORDER_NAME,
    SANDBOX_VARIABLE,
)
from autograder.results import CheckResult
from autograder.spec import SPEC, Spec
from autograder.trained_cache import cache_folder


@dataclass
class NotebookGrade:
    """The grade of one lesson notebook.

    Attributes:
        lesson: The lesson, e.g. ``"03_build"``.
        results: One result per check of the lesson, in the spec's order.
        flags: Changes the student made to grader-owned cells, and other things the grader noticed.
        artifacts: Data for the feedback report: check id -> its observation, and :data:`ARTIFACTS` -> the
            lesson's own model, history and figure.
    """

    lesson: str
    results: list[CheckResult]
    flags: list[str] = field(default_factory=list)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)


def _artifacts_cell(folder: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        f"{RECORDER_NAME}.artifacts(globals().get('model'), globals().get('history'), globals().get('fig'), "
        + repr(folder)
        + ")"
    )


def _kernel_start(temporary: Path, lesson: str, spec: Spec, env: dict[str, str]) -> dict:
    """How to start the kernel: its environment, command, provisioner and connection file.

    Everything the kernel may write lives under ``temporary``: ``work/`` (its working folder), ``home/``,
    ``tmp/``, ``observations/``, its connection file and sockets, ``library/`` (its copy of the course packages) and,
    for the lessons that may load it, ``trained/`` (its copy of the trained reference network:
    :mod:`autograder.kernel.reference_cache`).
    """
    for name in ("work", "home", "tmp"):
        (temporary / name).mkdir()
    library = write_kernel_library(temporary / "library", lesson, spec)
    home = temporary / "home"
    # Never the grader's own folder, even if its environment names one: a copy, or a folder under the kernel's HOME.
    trained = kernel_copy(lesson, env, temporary / "trained", spec) or cache_folder({"HOME": str(home)})
    rules = kernel_rules(str(temporary), str(library), env.get("MNIST_PATH"))
    env = {
        **env,
        CACHE_VARIABLE: str(trained),
        "HOME": str(home),
        "TMPDIR": str(temporary / "tmp"),
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "PYTHONPATH": str(library),
        SANDBOX_VARIABLE: json.dumps(rules),
    }
    return {
        "env": env,
        "kernel_argv": [sys.executable, "-m", "autograder.kernel.sandbox", "-f", "{connection_file}"],
        "provisioner": PROVISIONER_NAME,
        "connection_file": str(temporary / "connection.json"),
    }


def kernel_base_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment :func:`grade_notebook` starts a kernel's factory with: ``env`` (None: this process's), with
    ``MNIST_PATH`` naming the data source when there is one (the kernel's temporary HOME has no Keras cache of its
    own)."""
    env = dict(os.environ) if env is None else dict(env)
    source = env.get("MNIST_PATH") or data_source()
    if source:
        env["MNIST_PATH"] = source
    return env


def grade_notebook(
    path: str | Path,
    *,
    release: str | Path | None = None,
    spec: Spec = SPEC,
    env: dict[str, str] | None = None,
    limits: Limits = Limits(),
) -> NotebookGrade:
    """Grades one lesson notebook.

    Args:
        path: The notebook; its file name (e.g. ``03_build.ipynb``) says which lesson it is.
        release: The released lesson to restore grader-owned cells from (None: grade the notebook as it is,
            as for the solutions).
        spec: The course spec.
        env: Environment for the kernel (None: the grader's own). Either way the kernel gets a temporary
            HOME and TMPDIR, so nothing it writes under ~ (Keras's config, IPython's history) outlives it.
        limits: Time, memory, process and output limits for the kernel.

    The kernel is forked from this process's kernel factory, which has TensorFlow imported already and runs
    isolated where the machine allows (:mod:`autograder.kernel.factory`, :mod:`autograder.kernel.isolation`); it enters
    the sandbox (:mod:`autograder.kernel.sandbox`) with the course library copied without this lesson's answers
    (:mod:`autograder.kernel.course_copy`).

    Returns:
        The lesson's grade.
    """
    path = Path(path)
    lesson = path.stem
    checks = list(spec.lessons[lesson])
    try:
        notebook, flags = read_lesson(path, lesson, None if release is None else Path(release).parent)
    except UnreadableSubmission as error:  # this lesson scores 0; the student's other lessons are graded
        return NotebookGrade(lesson, [errored(c, error.found, error.todo, spec=spec) for c in checks])
    if release is not None:
        notebook, restored = restore_from_release(notebook, nbformat.read(release, as_version=4))
        flags += restored
    env = kernel_base_environment(env)
    factory = factory_for(env)
    with (
        tempfile.TemporaryDirectory(prefix="autograder-", dir=factory.workspace) as temporary_name,
        tempfile.TemporaryDirectory(prefix="autograder-taken-") as taken_name,
    ):
        temporary, taken = Path(temporary_name), Path(taken_name)
        work, observations = temporary / "work", temporary / "observations"
        cells = instrument(notebook, str(observations))
        notebook.cells.append(_artifacts_cell(str(observations / ARTIFACTS)))
        window = ObservationWindow(observations, taken, {**cells, ARTIFACTS: len(notebook.cells) - 1})
        kernel = _kernel_start(temporary, lesson, spec, env)
        execution = execute(
            notebook,
            cwd=str(work),
            limits=limits,
            before_cell=window.before,
            after_cell=window.after,
            disk_folder=temporary,
            **kernel,
        )
        results: list[CheckResult] = []
        artifacts: dict[str, dict[str, Any]] = {}
        for check_id in checks:
            result, observation = collect(
                check_id, taken / check_id, cells.get(check_id), execution, spec, ran=check_id in window.ran
            )
            results.append(result)
            if observation is not None:
                artifacts[check_id] = observation
        if (taken / ARTIFACTS / OBSERVATION_FILE).exists():
            try:
                artifacts[ARTIFACTS] = load_observation(taken / ARTIFACTS)
            except Exception:  # noqa: BLE001 - the report simply goes without these pictures
                pass
    if execution.stopped:
        flags.append(f"Grading stopped early: {execution.stopped}.")
    if execution.dropped_output_bytes:
        flags.append(
            f"Your notebook's output went over the {format_bytes(limits.output_bytes)} kept per notebook; "
            f"the rest ({format_bytes(execution.dropped_output_bytes)}) was not kept. Print less."
        )
    return NotebookGrade(lesson, results, flags, artifacts)
