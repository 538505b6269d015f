"""Grades one lesson notebook: restore, instrument, execute in a fresh kernel, then check here.

The order matters:

1. **restore** the grader-owned cells from the released lesson (:mod:`autograder.restore`), so the
   student's edits to check cells change nothing; this must come before instrumenting, which finds
   the check cells by their released source;
2. **instrument**: check cells record observations instead of checking in the kernel, and a last
   cell records the lesson's trained ``model`` and ``history`` for the report;
3. **execute** in a fresh kernel in a temporary working folder (:mod:`autograder.execute`);
4. **check** in this process, on what the kernel saved, after the kernel is gone.

Nothing the kernel prints or returns becomes a score; the most it can say on its own is "not
attempted" or "error", both worth 0 points.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.checks.verdict import errored, not_attempted
from autograder.exercises import EXERCISES, judge
from autograder.execute import Execution, execute
from autograder.instrument import instrument
from autograder.kernel_factory import PROVISIONER_NAME
from autograder.kernel_library import data_source, write_kernel_library
from autograder.limits import Limits, format_bytes
from autograder.load import UnreadableSubmission, read_lesson
from autograder.restore import restore_from_release
from autograder.results import CheckResult
from autograder.sandbox import SANDBOX_VARIABLE, kernel_rules
from autograder.serialize import load_observation
from autograder.spec import SPEC, Spec

ARTIFACTS = "__artifacts__"


@dataclass
class NotebookGrade:
    """The grade of one lesson notebook.

    Attributes:
        lesson: The lesson, e.g. ``"03_build"``.
        results: One result per check of the lesson, in the spec's order.
        flags: Changes the student made to grader-owned cells, and other things the grader noticed.
        artifacts: Data for the feedback report (observations and the lesson's model/history).
    """

    lesson: str
    results: list[CheckResult]
    flags: list[str] = field(default_factory=list)
    artifacts: dict = field(default_factory=dict)


def collect(check_id: str, folder: Path, cell_index: int | None, execution: Execution, spec: Spec) -> tuple[CheckResult, dict | None]:
    """Turns what the kernel left for one check into its result (and the observation, for the report)."""
    status_file, observation_file = folder / "status.json", folder / "observation.json"
    if status_file.exists():
        try:
            status = json.loads(status_file.read_text())
        except ValueError:
            status = {"status": "error", "message": "The grader could not read what the kernel saved."}
        if status.get("status") == "not attempted":
            return not_attempted(check_id, EXERCISES[check_id].title, spec=spec), None
        return errored(check_id, str(status.get("message", ""))[:2000], "Run the exercise's cell yourself to see the full error.", spec=spec), None
    if observation_file.exists():
        try:
            observation = load_observation(folder)
            return judge(check_id, observation, spec=spec), observation
        except Exception as error:  # noqa: BLE001 - a malformed observation is this check's error, not the run's
            return errored(check_id, f"The grader could not check what your answer returned ({type(error).__name__}: {error}).", spec=spec), None
    if cell_index is None:
        return errored(check_id, f"The check cell for {EXERCISES[check_id].title} is missing from the notebook.",
                       "Don't delete or change the read-only check cells.", spec=spec), None
    if cell_index in execution.cell_errors:
        earlier = [index for index in execution.cell_errors if index < cell_index]
        cause = f" An earlier cell failed first: {execution.cell_errors[earlier[-1]]}." if earlier else ""
        return errored(check_id, f"The check cell could not run: {execution.cell_errors[cell_index]}.{cause}",
                       "Run the notebook from the top and fix the first error.", spec=spec), None
    reason = execution.stopped or "it was not reached"
    return errored(check_id, f"The check never ran: {reason}.", "Make sure the notebook runs from top to bottom.", spec=spec), None


def _artifacts_cell(folder: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        "__autograder_record__.artifacts(globals().get('model'), globals().get('history'), globals().get('fig'), "
        + repr(folder) + ")"
    )


def _kernel_start(temporary: Path, lesson: str, spec: Spec, env: dict[str, str], sandbox: bool, fork: bool) -> dict:
    """How to start the kernel: its environment and, when sandboxed, its command, provisioner and connection file.

    Everything the kernel may write lives under ``temporary``: ``work/`` (its working folder), ``home/``,
    ``tmp/``, ``observations/`` and, when sandboxed, ``library/`` (its copy of the course packages).
    """
    for name in ("work", "home", "tmp"):
        (temporary / name).mkdir()
    env = {**env, "HOME": str(temporary / "home"), "TMPDIR": str(temporary / "tmp"),
           "MPLCONFIGDIR": str(temporary / "home" / ".matplotlib")}
    if not env.get("MNIST_PATH") and data_source():
        env["MNIST_PATH"] = data_source()  # the temporary HOME has no Keras cache of its own
    if not sandbox:
        return {"env": env}
    library = write_kernel_library(temporary / "library", lesson, spec)
    rules = kernel_rules(str(temporary), str(library), env.get("MNIST_PATH"))
    env.update({"PYTHONPATH": str(library), SANDBOX_VARIABLE: json.dumps(rules)})
    return {"env": env, "kernel_argv": [sys.executable, "-m", "autograder.sandbox", "-f", "{connection_file}"],
            "provisioner": PROVISIONER_NAME if fork else None, "connection_file": str(temporary / "connection.json")}


def grade_notebook(path: str | Path, *, release: str | Path | None = None, spec: Spec = SPEC,
                   env: dict[str, str] | None = None, limits: Limits = Limits(), sandbox: bool = True,
                   fork: bool = True) -> NotebookGrade:
    """Grades one lesson notebook.

    Args:
        path: The notebook; its file name (e.g. ``03_build.ipynb``) says which lesson it is.
        release: The released lesson to restore grader-owned cells from (None: grade the notebook as it is,
            as for the solutions).
        spec: The course spec.
        env: Environment for the kernel (None: the grader's own). Either way the kernel gets a temporary
            HOME and TMPDIR, so nothing it writes under ~ (Keras's config, IPython's history) outlives it.
        limits: Time, memory, process and output limits for the kernel.
        sandbox: Start the kernel in the filesystem sandbox (:mod:`autograder.sandbox`) with the course
            library copied without this lesson's answers (:mod:`autograder.kernel_library`).
        fork: Fork the sandboxed kernel from this process's kernel factory, which has TensorFlow imported
            already (:mod:`autograder.kernel_factory`), instead of starting a new Python.

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
    with tempfile.TemporaryDirectory(prefix="autograder-") as temporary:
        temporary = Path(temporary)
        work, observations = temporary / "work", temporary / "observations"
        cells = instrument(notebook, str(observations))
        notebook.cells.append(_artifacts_cell(str(observations / ARTIFACTS)))
        kernel = _kernel_start(temporary, lesson, spec, dict(os.environ) if env is None else env, sandbox, fork)
        execution = execute(notebook, cwd=str(work), limits=limits, **kernel)
        results, artifacts = [], {}
        for check_id in checks:
            result, observation = collect(check_id, observations / check_id, cells.get(check_id), execution, spec)
            results.append(result)
            if observation is not None:
                artifacts[check_id] = observation
        if (observations / ARTIFACTS / "observation.json").exists():
            try:
                artifacts[ARTIFACTS] = load_observation(observations / ARTIFACTS)
            except Exception:  # noqa: BLE001 - the report simply goes without these pictures
                pass
    if execution.stopped:
        flags.append(f"Grading stopped early: {execution.stopped}.")
    if execution.dropped_output_bytes:
        flags.append(f"Your notebook's output went over the {format_bytes(limits.output_bytes)} kept per notebook; "
                     f"the rest ({format_bytes(execution.dropped_output_bytes)}) was not kept. Print less.")
    return NotebookGrade(lesson, results, flags, artifacts)
