"""Grades one lesson notebook: restore, instrument, execute in a fresh kernel, then check here.

The order matters:

1. **restore** the grader-owned cells from the released lesson (:mod:`autograder.lesson.restore`), so the
   student's edits to check cells change nothing; this must come before instrumenting, which finds
   the check cells by their released source;
2. **instrument**: check cells record observations instead of checking in the kernel, and a last
   cell records the lesson's trained ``model`` and ``history`` for the report;
3. **execute** in a fresh, sandboxed kernel in a temporary working folder, within the limits
   (:mod:`autograder.lesson.execute`); each check's observation is taken only from while its own cell ran
   (:class:`ObservationWindow`);
4. **check** in this process, on what the kernel saved, after the kernel is gone, with the grader's
   own probe inputs rebuilt here rather than the ones the kernel sent back.

Nothing the kernel prints or returns becomes a score; the most it can say on its own is "not
attempted" or "error", both worth 0 points.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.exercises.verdict import errored, not_attempted
from autograder.exercises import EXERCISES, judge
from autograder.lesson.execute import TIMEOUT_ERROR, Execution, execute
from autograder.lesson.instrument import instrument
from autograder.kernel.factory import PROVISIONER_NAME, factory_for
from autograder.kernel.course_copy import data_source, write_kernel_library
from autograder.limits import Limits, format_bytes
from autograder.lesson.read import UnreadableSubmission, read_lesson
from autograder.lesson.restore import restore_from_release
from autograder.results import CheckResult
from autograder.kernel.sandbox import SANDBOX_VARIABLE, kernel_rules
from autograder.kernel.serialize import load_observation
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


def collect(check_id: str, folder: Path, cell_index: int | None, execution: Execution, spec: Spec,
            ran: bool = False) -> tuple[CheckResult, dict | None]:
    """Turns what the kernel left for one check into its result (and the observation, for the report).

    ``ran`` says whether the check's cell ran to its end without an error (:attr:`ObservationWindow.ran`): a cell
    that did and left nothing was changed on its way into the kernel, not skipped.
    """
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
            return judge(check_id, observation, spec=spec, rebuild_inputs=True), observation
        except Exception as error:  # noqa: BLE001 - a malformed observation is this check's error, not the run's
            return errored(check_id, f"The grader could not check what your answer returned ({type(error).__name__}: {error}).", spec=spec), None
    if cell_index is None:
        return errored(check_id, f"The check cell for {EXERCISES[check_id].title} is missing from the notebook.",
                       "Don't delete or change the read-only check cells.", spec=spec), None
    if cell_index in execution.cell_errors and execution.cell_errors[cell_index].startswith(TIMEOUT_ERROR):
        return errored(check_id, f"The check started but didn't finish in time (its cell calls your "
                       f"{EXERCISES[check_id].title}): {execution.cell_errors[cell_index]}.",
                       f"Run {EXERCISES[check_id].title} yourself on a few rows and make sure it finishes quickly.",
                       spec=spec), None
    if cell_index in execution.cell_errors:
        earlier = [index for index in execution.cell_errors if index < cell_index]
        cause = f" An earlier cell failed first: {execution.cell_errors[earlier[-1]]}." if earlier else ""
        return errored(check_id, f"The check cell could not run: {execution.cell_errors[cell_index]}.{cause}",
                       "Run the notebook from the top and fix the first error.", spec=spec), None
    if ran:
        return errored(check_id, "The check cell ran without an error, but the check in it never recorded your answer: "
                       "something earlier in your notebook changed what that cell runs (an IPython input transformer "
                       "that rewrites or blanks cells, for example) or replaced the grader's recorder.",
                       "Don't change how cells run or redefine the grader's names; restart the kernel and run the "
                       "notebook from the top.", spec=spec), None
    if execution.stopped and cell_index == execution.stopped_in:
        return errored(check_id, f"The check started but never finished (its cell calls your {EXERCISES[check_id].title}): "
                       f"{execution.stopped}.",
                       f"Run {EXERCISES[check_id].title} on a few rows yourself and make sure it finishes, within the "
                       "notebook's time and memory.", spec=spec), None
    reason = execution.stopped or "it was not reached"
    return errored(check_id, f"The check never ran: {reason}.", "Make sure the notebook runs from top to bottom.", spec=spec), None


class ObservationWindow:
    """Takes each check's observation only from while its own cell ran, into a folder the kernel can't reach.

    Before a check cell runs, anything already in its observation folder is deleted (a file the notebook
    wrote earlier counts for nothing); right after the cell ran without error and within its time, its
    folder is copied out of the kernel's reach (so a later cell can't change it). Links and special files are
    refused, so a kernel can't make the grader read someone else's file.
    """

    MAX_BYTES = 512 * 2**20

    def __init__(self, observations: Path, taken: Path, cells: dict[str, int]):
        self.observations, self.taken = observations, taken
        self.names = {index: name for name, index in cells.items()}
        self.ran: set[str] = set()  # the checks whose cell ran to its end without an error

    def before(self, index: int) -> None:
        """Empties the observation folder of the check cell at ``index`` (if it is one)."""
        folder = self.observations / self.names.get(index, "")
        if index in self.names and (folder.is_symlink() or folder.exists()):
            if folder.is_symlink() or not folder.is_dir():
                folder.unlink()
            else:
                shutil.rmtree(folder)

    def after(self, index: int, succeeded: bool) -> None:
        """Copies out the observation of the check cell at ``index``, if that cell succeeded."""
        name = self.names.get(index)
        if name is None or not succeeded:
            return
        self.ran.add(name)
        if self.observations.is_symlink():
            return
        source, target = self.observations / name, self.taken / name
        if source.is_symlink() or not source.is_dir():
            return
        target.mkdir()
        entries = list(os.scandir(source))
        if any(not entry.is_file(follow_symlinks=False) for entry in entries) or \
                sum(entry.stat(follow_symlinks=False).st_size for entry in entries) > self.MAX_BYTES:
            (target / "status.json").write_text(json.dumps({"status": "error", "message": (
                "What your answer returned could not be taken: the kernel's folder for it held links, folders "
                f"or more than {format_bytes(self.MAX_BYTES)}.")}))
            return
        for entry in entries:
            shutil.copyfile(entry.path, target / entry.name, follow_symlinks=False)


def _artifacts_cell(folder: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        "__autograder_record__.artifacts(globals().get('model'), globals().get('history'), globals().get('fig'), "
        + repr(folder) + ")"
    )


def _kernel_start(temporary: Path, lesson: str, spec: Spec, env: dict[str, str]) -> dict:
    """How to start the kernel: its environment, command, provisioner and connection file.

    Everything the kernel may write lives under ``temporary``: ``work/`` (its working folder), ``home/``,
    ``tmp/``, ``observations/``, its connection file and sockets, and ``library/`` (its copy of the course packages).
    """
    for name in ("work", "home", "tmp"):
        (temporary / name).mkdir()
    library = write_kernel_library(temporary / "library", lesson, spec)
    rules = kernel_rules(str(temporary), str(library), env.get("MNIST_PATH"))
    env = {**env, "HOME": str(temporary / "home"), "TMPDIR": str(temporary / "tmp"),
           "MPLCONFIGDIR": str(temporary / "home" / ".matplotlib"), "PYTHONPATH": str(library),
           SANDBOX_VARIABLE: json.dumps(rules)}
    return {"env": env, "kernel_argv": [sys.executable, "-m", "autograder.kernel.sandbox", "-f", "{connection_file}"],
            "provisioner": PROVISIONER_NAME, "connection_file": str(temporary / "connection.json")}


def grade_notebook(path: str | Path, *, release: str | Path | None = None, spec: Spec = SPEC,
                   env: dict[str, str] | None = None, limits: Limits = Limits()) -> NotebookGrade:
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
    env = dict(os.environ) if env is None else dict(env)
    source = env.get("MNIST_PATH") or data_source()
    if source:
        env["MNIST_PATH"] = source  # the kernel's temporary HOME has no Keras cache of its own
    factory = factory_for(env)
    with tempfile.TemporaryDirectory(prefix="autograder-", dir=factory.workspace) as temporary, \
            tempfile.TemporaryDirectory(prefix="autograder-taken-") as taken:
        temporary, taken = Path(temporary), Path(taken)
        work, observations = temporary / "work", temporary / "observations"
        cells = instrument(notebook, str(observations))
        notebook.cells.append(_artifacts_cell(str(observations / ARTIFACTS)))
        window = ObservationWindow(observations, taken, {**cells, ARTIFACTS: len(notebook.cells) - 1})
        kernel = _kernel_start(temporary, lesson, spec, env)
        execution = execute(notebook, cwd=str(work), limits=limits, before_cell=window.before, after_cell=window.after,
                            disk_folder=temporary, **kernel)
        results, artifacts = [], {}
        for check_id in checks:
            result, observation = collect(check_id, taken / check_id, cells.get(check_id), execution, spec,
                                          ran=check_id in window.ran)
            results.append(result)
            if observation is not None:
                artifacts[check_id] = observation
        if (taken / ARTIFACTS / "observation.json").exists():
            try:
                artifacts[ARTIFACTS] = load_observation(taken / ARTIFACTS)
            except Exception:  # noqa: BLE001 - the report simply goes without these pictures
                pass
    if execution.stopped:
        flags.append(f"Grading stopped early: {execution.stopped}.")
    if execution.dropped_output_bytes:
        flags.append(f"Your notebook's output went over the {format_bytes(limits.output_bytes)} kept per notebook; "
                     f"the rest ({format_bytes(execution.dropped_output_bytes)}) was not kept. Print less.")
    return NotebookGrade(lesson, results, flags, artifacts)
