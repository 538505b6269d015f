"""Runs inside the student's kernel during batch grading: observes each exercise and saves it.

The grader rewrites every check cell ``check("flatten", flatten)`` into
``__autograder_record__("flatten", flatten)`` (:data:`autograder.protocol.RECORDER_NAME`). The recorder
observes the answer exactly as the in-notebook check would, then writes the observation as data
(:mod:`autograder.kernel.serialize`) for the grader to check in its own process. It never raises, so one broken exercise
doesn't stop the others.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from autograder.exercises import observe
from autograder.kernel.serialize import save_observation
from autograder.protocol import STATUS_FILE, Status
from autograder.results import CheckResult, Outcome


class Recorder:
    """Callable that saves one folder per check id under ``folder``."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def __call__(self, check_id: str, *answers) -> None:
        target = self.folder / check_id
        target.mkdir(parents=True, exist_ok=True)
        observation = observe(check_id, *answers)
        try:
            if isinstance(observation, CheckResult):
                # Only "there is nothing to check" travels this way; the grader gives it 0 points itself.
                status: Literal["error", "not attempted"] = (
                    "not attempted" if observation.outcome is Outcome.NOT_ATTEMPTED else "error"
                )
                said: Status = {"status": status, "message": observation.message}
                (target / STATUS_FILE).write_text(json.dumps(said))
            else:
                save_observation(observation, target)
        except Exception as error:  # noqa: BLE001 - report, never stop the notebook
            failed: Status = {
                "status": "error",
                "message": (f"The grader could not save what your answer returned ({type(error).__name__}: {error})."),
            }
            (target / STATUS_FILE).write_text(json.dumps(failed))
        print(f"[autograder] recorded {check_id}")

    def artifacts(self, model, history, figure, folder: str) -> None:
        """Saves the lesson's own trained ``model``, ``history`` and ``fig`` (if any) for the feedback report."""
        from matplotlib.figure import Figure

        from autograder.exercises.describe import describe_figure, describe_history

        try:
            import keras

            kept = {}
            if isinstance(model, keras.Model):
                kept["model"] = model
            if isinstance(history, keras.callbacks.History):
                kept["history"] = describe_history(history)
            if isinstance(figure, Figure):
                kept["figure"] = describe_figure(figure)
            if kept:
                save_observation(kept, Path(folder))
        except Exception:  # noqa: BLE001 - the report goes without them
            pass
