"""Grades one lesson notebook: instrument, execute in a fresh kernel, then check in this process.

The order matters: the check cells are rewritten before execution (so the kernel only records
observations), and every check runs after the kernel is gone, on what it saved. Nothing the kernel
prints or returns becomes a score; the most a kernel can say on its own is "not attempted" or "error",
both worth 0 points.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import nbformat

from autograder.checks.verdict import errored, not_attempted
from autograder.exercises import EXERCISES, judge
from autograder.execute import Execution, execute
from autograder.instrument import instrument
from autograder.results import CheckResult
from autograder.serialize import load_observation
from autograder.spec import SPEC, Spec


def collect(check_id: str, folder: Path, cell_index: int | None, execution: Execution, spec: Spec) -> CheckResult:
    """Turns what the kernel left for one check into its result."""
    status_file, observation_file = folder / "status.json", folder / "observation.json"
    if status_file.exists():
        status = json.loads(status_file.read_text())
        if status.get("status") == "not attempted":
            return not_attempted(check_id, EXERCISES[check_id].title, spec=spec)
        return errored(check_id, str(status.get("message", "")), "Run the exercise's cell yourself to see the full error.", spec=spec)
    if observation_file.exists():
        try:
            return judge(check_id, load_observation(folder), spec=spec)
        except Exception as error:  # noqa: BLE001 - a malformed observation is this check's error, not the run's
            return errored(check_id, f"The grader could not check what your answer returned ({type(error).__name__}: {error}).", spec=spec)
    if cell_index is None:
        return errored(check_id, f"The check cell for {EXERCISES[check_id].title} is missing from the notebook.",
                       "Don't delete or change the read-only check cells.", spec=spec)
    if cell_index in execution.cell_errors:
        return errored(check_id, f"The check cell could not run: {execution.cell_errors[cell_index]}",
                       "An earlier cell probably failed or was not run; run the notebook from the top.", spec=spec)
    reason = execution.stopped or "it was not reached"
    return errored(check_id, f"The check never ran: {reason}.", "Make sure the notebook runs from top to bottom.", spec=spec)


def grade_notebook(path: str | Path, *, spec: Spec = SPEC, env: dict[str, str] | None = None,
                   cell_timeout: float = 300, notebook_timeout: float = 900) -> list[CheckResult]:
    """Grades one lesson notebook.

    Args:
        path: The notebook; its file name (e.g. ``03_build.ipynb``) says which lesson it is.
        spec: The course spec.
        env: Environment for the kernel (None: the grader's own).
        cell_timeout: Seconds one cell may take.
        notebook_timeout: Seconds the whole notebook may take.

    Returns:
        One result per check of the lesson, in the spec's order.
    """
    path = Path(path)
    checks = list(spec.lessons[path.stem])
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 - any unreadable file fails this lesson only
        message = f"{path.name} could not be read as a notebook ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})."
        return [errored(check_id, message, "Submit the .ipynb file that Jupyter saved.", spec=spec) for check_id in checks]
    with tempfile.TemporaryDirectory(prefix="autograder-") as temporary:
        work, observations = Path(temporary) / "work", Path(temporary) / "observations"
        work.mkdir()
        shutil.copy2(path, work / path.name)
        cells = instrument(notebook, str(observations))
        execution = execute(notebook, cwd=str(work), env=env, cell_timeout=cell_timeout, notebook_timeout=notebook_timeout)
        return [collect(check_id, observations / check_id, cells.get(check_id), execution, spec) for check_id in checks]
