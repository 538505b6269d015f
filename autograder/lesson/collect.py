"""Turns what a graded notebook's kernel left into results: each check's observation, taken only from while its
own cell ran (:class:`ObservationWindow`), is checked here, in the grader's process, after the kernel is gone."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from autograder.exercises import EXERCISES, judge
from autograder.exercises.verdict import errored, not_attempted
from autograder.kernel.serialize import load_observation
from autograder.lesson.execute import TIMEOUT_ERROR, Execution
from autograder.limits import format_bytes
from autograder.protocol import OBSERVATION_FILE, STATUS_FILE, Status
from autograder.results import CheckResult
from autograder.spec import Spec


def collect(
    check_id: str, folder: Path, cell_index: int | None, execution: Execution, spec: Spec, ran: bool = False
) -> tuple[CheckResult, dict | None]:
    """Turns what the kernel left for one check into its result (and the observation, for the report).

    ``ran`` says whether the check's cell ran to its end without an error (:attr:`ObservationWindow.ran`): a cell
    that did and left nothing was changed on its way into the kernel, not skipped.
    """
    status_file, observation_file = folder / STATUS_FILE, folder / OBSERVATION_FILE
    if status_file.exists():
        try:
            status = json.loads(status_file.read_text())
        except ValueError:
            status = {"status": "error", "message": "The grader could not read what the kernel saved."}
        if status.get("status") == "not attempted":
            return not_attempted(check_id, EXERCISES[check_id].title, spec=spec), None
        return errored(
            check_id,
            str(status.get("message", ""))[:2000],
            "Run the exercise's cell yourself to see the full error.",
            spec=spec,
        ), None
    if observation_file.exists():
        try:
            observation = load_observation(folder)
            return judge(check_id, observation, spec=spec, rebuild_inputs=True), observation
        except Exception as error:  # noqa: BLE001 - a malformed observation is this check's error, not the run's
            return errored(
                check_id,
                f"The grader could not check what your answer returned ({type(error).__name__}: {error}).",
                spec=spec,
            ), None
    if cell_index is None:
        return errored(
            check_id,
            f"The check cell for {EXERCISES[check_id].title} is missing from the notebook.",
            "Don't delete or change the read-only check cells.",
            spec=spec,
        ), None
    if cell_index in execution.cell_errors and execution.cell_errors[cell_index].startswith(TIMEOUT_ERROR):
        return errored(
            check_id,
            f"The check started but didn't finish in time (its cell calls your "
            f"{EXERCISES[check_id].title}): {execution.cell_errors[cell_index]}.",
            f"Run {EXERCISES[check_id].title} yourself on a few rows and make sure it finishes quickly.",
            spec=spec,
        ), None
    if cell_index in execution.cell_errors:
        earlier = [index for index in execution.cell_errors if index < cell_index]
        cause = f" An earlier cell failed first: {execution.cell_errors[earlier[-1]]}." if earlier else ""
        return errored(
            check_id,
            f"The check cell could not run: {execution.cell_errors[cell_index]}.{cause}",
            "Run the notebook from the top and fix the first error.",
            spec=spec,
        ), None
    if ran:
        return errored(
            check_id,
            "The check cell ran without an error, but the check in it never recorded your answer: "
            "something earlier in your notebook changed what that cell runs (an IPython input transformer "
            "that rewrites or blanks cells, for example) or replaced the grader's recorder.",
            "Don't change how cells run or redefine the grader's names; restart the kernel and run the "
            "notebook from the top.",
            spec=spec,
        ), None
    if execution.stopped and cell_index == execution.stopped_in:
        return errored(
            check_id,
            f"The check started but never finished (its cell calls your {EXERCISES[check_id].title}): "
            f"{execution.stopped}.",
            f"Run {EXERCISES[check_id].title} on a few rows yourself and make sure it finishes, within the "
            "notebook's time and memory.",
            spec=spec,
        ), None
    reason = execution.stopped or "it was not reached"
    return errored(
        check_id, f"The check never ran: {reason}.", "Make sure the notebook runs from top to bottom.", spec=spec
    ), None


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
        if (
            any(not entry.is_file(follow_symlinks=False) for entry in entries)
            or sum(entry.stat(follow_symlinks=False).st_size for entry in entries) > self.MAX_BYTES
        ):
            refused: Status = {
                "status": "error",
                "message": (
                    "What your answer returned could not be taken: the kernel's folder for it held links, folders "
                    f"or more than {format_bytes(self.MAX_BYTES)}."
                ),
            }
            (target / STATUS_FILE).write_text(json.dumps(refused))
            return
        for entry in entries:
            shutil.copyfile(entry.path, target / entry.name, follow_symlinks=False)
