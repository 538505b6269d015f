"""The grading outputs: gradebook, per-student results, Gradescope results, feedback pages, class summary.

Every file is written atomically (:mod:`autograder.batch.atomic`). Student-derived text (messages, titles) is
HTML-escaped in the feedback page.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from autograder.batch.atomic import write_atomically
from autograder.notebook import STYLE
from autograder.protocol import ARTIFACTS
from autograder.results import CheckRecord, Outcome
from autograder.spec import SPEC, Spec

if TYPE_CHECKING:  # only for annotations: importing the grading pipeline here would be heavy for no use
    from autograder.lesson.grade import NotebookGrade


class LessonRecord(TypedDict):
    """One lesson in a :class:`StudentRecord`."""

    submitted: bool
    points: float
    max_points: float
    checks: list[CheckRecord]
    flags: list[str]


class StudentRecord(TypedDict):
    """The JSON-ready record of one student's grade (``results/<student>.json``), as :func:`student_record` makes it."""

    student: str
    key: str
    fingerprint: str
    spec: str
    total: float
    max_total: float
    lessons: dict[str, LessonRecord]
    problems: list[str]


def student_record(
    student: str, key: str, fingerprint: str, grades: dict[str, NotebookGrade], problems: list[str], spec: Spec = SPEC
) -> StudentRecord:
    """The JSON-ready record of one student's grade (``results/<student>.json``)."""
    lessons: dict[str, LessonRecord] = {}
    for lesson in spec.lessons:
        grade = grades.get(lesson)
        results = grade.results if grade else []
        lessons[lesson] = {
            "submitted": grade is not None,
            "points": sum(r.points for r in results),
            "max_points": sum(spec.lessons[lesson].values()),
            "checks": [r.to_dict() for r in results],
            "flags": grade.flags if grade else [],
        }
    return {
        "student": student,
        "key": key,
        "fingerprint": fingerprint,
        "spec": spec.fingerprint,
        "total": sum(lesson["points"] for lesson in lessons.values()),
        "max_total": spec.total_points,
        "lessons": lessons,
        "problems": problems,
    }


def gradescope_results(record: StudentRecord, spec: Spec = SPEC) -> dict:
    """Gradescope's results.json for one student: one test per check of the spec, a lesson not handed in included."""
    tests = []
    for lesson, data in record["lessons"].items():
        checks: list[CheckRecord] = (
            data["checks"]
            if data["submitted"]
            else [
                {
                    "check_id": check,
                    "points": 0,
                    "max_points": points,
                    "outcome": Outcome.NOT_ATTEMPTED.value,
                    "message": f"You didn't hand in {lesson}.ipynb, so this check couldn't run.",
                    "hint": "",
                }
                for check, points in spec.lessons[lesson].items()
            ]
        )
        for check in checks:
            tests.append(
                {
                    "name": f"{lesson}: {check['check_id']}",
                    "score": check["points"],
                    "max_score": check["max_points"],
                    "status": "passed" if check["outcome"] == Outcome.PASSED.value else "failed",
                    "output": check["message"] + (f"\nHint: {check['hint']}" if check["hint"] else ""),
                    "visibility": "visible",
                }
            )
    return {"score": record["total"], "tests": tests}


def write_gradebook(records: list[StudentRecord], path: Path, spec: Spec = SPEC) -> None:
    """``gradebook.csv``: a row per student, each lesson's points and the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", *spec.lessons, "total", "max_total"])
    for record in sorted(records, key=lambda r: r["student"]):
        writer.writerow(
            [
                record["student"],
                *(f"{record['lessons'][lesson]['points']:g}" for lesson in spec.lessons),
                f"{record['total']:g}",
                record["max_total"],
            ]
        )
    write_atomically(path, buffer.getvalue())


def most_failed(records: list[StudentRecord]) -> list[tuple[str, str, int]]:
    """(lesson, check id, students who didn't pass it), most-failed first."""
    counts = Counter(
        (lesson, check["check_id"])
        for record in records
        for lesson, data in record["lessons"].items()
        for check in data["checks"]
        if check["outcome"] != Outcome.PASSED.value
    )
    return [(lesson, check_id, count) for (lesson, check_id), count in counts.most_common()]


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def write_summary(records: list[StudentRecord], folder: Path, spec: Spec = SPEC) -> str:
    """The class summary: ``score_histogram.png`` and ``most_failed.md``. Returns the table as text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3))
    axes.hist([r["total"] for r in records], bins=(np.arange(spec.total_points + 2) - 0.5).tolist(), edgecolor="white")
    axes.set_xlabel(f"total points (of {spec.total_points})")
    axes.set_ylabel("students")
    axes.set_title(f"Scores of {len(records)} students")
    write_atomically(folder / "score_histogram.png", base64.b64decode(_png(figure)))
    lines = ["| lesson | check | students not passing | share |", "|---|---|---|---|"]
    lines += [
        f"| {lesson} | {check} | {count} | {count / len(records):.0%} |"
        for lesson, check, count in most_failed(records)
    ]
    table = "\n".join(lines) + "\n"
    write_atomically(folder / "most_failed.md", "# Most-failed checks\n\n" + table)
    return table


def _learning_curves(metrics: dict):
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, 2, figsize=(8, 2.8))
    for name, axes in zip(("loss", "accuracy"), panels, strict=True):
        for prefix, label in (("", "training"), ("val_", "validation")):
            if prefix + name in metrics:
                axes.plot(metrics[prefix + name], label=label)
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.legend()
    return figure


def _prediction_grid(panels: list[dict]):
    import matplotlib.pyplot as plt

    figure, grid = plt.subplots(2, max(1, (len(panels) + 1) // 2), figsize=(8, 4.2), squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, panel in zip(grid.flat, panels, strict=False):  # a grid may have more axes than panels
        image = np.asarray(panel["image"], dtype=float)
        if image.ndim >= 2:
            axes.imshow(image, cmap="gray")
        axes.set_title(str(panel["title"])[:40])
    return figure


def _confusion(model, spec: Spec):
    """Confusion matrix of ``model`` on the held-out digits of the grader's own data source."""
    import matplotlib.pyplot as plt

    from autograder.exercises.training import grader_digits
    from autograder.reference import flatten

    _, (x_test, y_test) = grader_digits()
    predicted = model.predict(flatten(x_test, spec), verbose=0).argmax(axis=1)
    classes = spec.data.num_classes
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (y_test.astype(int), predicted), 1)
    figure, axes = plt.subplots(figsize=(4.6, 4))
    axes.imshow(matrix, cmap="Blues")
    for (true, guess), count in np.ndenumerate(matrix):
        if count:
            axes.text(
                guess,
                true,
                str(count),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if count > matrix.max() / 2 else "black",
            )
    axes.set_xlabel("predicted digit")
    axes.set_ylabel("true digit")
    axes.set_xticks(range(classes))
    axes.set_yticks(range(classes))
    axes.set_title(f"Held-out digits: {np.trace(matrix) / matrix.sum():.1%} right")
    return figure


def pictures(grades: dict[str, NotebookGrade], spec: Spec = SPEC) -> list[tuple[str, str]]:
    """(caption, base64 PNG) for the student's learning curves, prediction grid and confusion matrix."""
    import matplotlib

    matplotlib.use("Agg")
    found: list[tuple[str, str]] = []
    train_grade = grades.get(spec.lesson_of.get("train", ""))  # "": no such check, no such lesson
    lesson_artifacts = train_grade.artifacts.get(ARTIFACTS, {}) if train_grade else {}
    history = lesson_artifacts.get("history") or (
        train_grade.artifacts.get("train", {}).get("history") if train_grade else None
    )
    if history and history.get("metrics"):
        found.append(("Your learning curves (lesson 04)", _png(_learning_curves(history["metrics"]))))
    plot_grade = grades.get(spec.lesson_of.get("plot_predictions", ""))
    own = plot_grade.artifacts.get(ARTIFACTS, {}).get("figure") if plot_grade else None
    checked = plot_grade.artifacts.get("plot_predictions", {}).get("figure") if plot_grade else None
    if own and own.get("panels"):
        found.append(
            (
                "Your plot_predictions picture from lesson 05: held-out digits, the trained model",
                _png(_prediction_grid(own["panels"])),
            )
        )
    elif checked and checked.get("panels"):
        found.append(
            (
                "Your plot_predictions picture as the check drew it (fixed untrained weights, so P is often wrong)",
                _png(_prediction_grid(checked["panels"])),
            )
        )
    model = lesson_artifacts.get("model")
    if model is not None and not isinstance(model, dict):
        try:
            found.append(("Your trained model on held-out digits (lesson 04)", _png(_confusion(model, spec))))
        except Exception:  # noqa: BLE001 - no data source, or a model that won't predict: no picture
            pass
    return found


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Feedback: {student}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1rem; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4rem; text-align: left; vertical-align: top; }}
.passed {{ color: #1a7f37; }} .failed, .error {{ color: #c62828; }} .not-attempted {{ color: #b26a00; }}
.message {{ white-space: pre-wrap; }} .hint {{ color: #555; font-style: italic; }} .flag {{ color: #b26a00; }}
figure {{ margin: 1rem 0; }} figcaption {{ color: #555; }}
</style></head><body>
<h1>Feedback for {student}</h1>
<p><strong>{total:g} / {max_total:g} points.</strong></p>
{problems}
{lessons}
{pictures}
</body></html>
"""


def feedback_html(record: StudentRecord, images: list[tuple[str, str]]) -> str:
    """A page a student can read: per-lesson, per-check results with messages and hints, and pictures."""
    escape = html.escape
    sections = []
    for lesson, data in record["lessons"].items():
        rows = []
        for check in data["checks"]:
            outcome = Outcome(check["outcome"])
            label = STYLE[outcome][1]
            hint = (
                f'<div class="hint">Hint: {escape(check["hint"])}</div>'
                if check["hint"] and outcome is not Outcome.PASSED
                else ""
            )
            rows.append(
                f"<tr><td>{escape(check['check_id'])}</td><td "
                f'class="{outcome.value.replace(" ", "-")}">{escape(label)}</td>'
                f"<td>{check['points']:g} / {check['max_points']:g}</td>"
                f'<td><div class="message">{escape(check["message"])}</div>{hint}</td></tr>'
            )
        flags = "".join(f'<p class="flag">{escape(flag)}</p>' for flag in data["flags"])
        body = (
            (
                "<table><tr><th>check</th><th>result</th><th>points</th><th>what the grader found</th></tr>"
                + "".join(rows)
                + "</table>"
            )
            if data["submitted"]
            else "<p>Not submitted.</p>"
        )
        sections.append(f"<h2>{escape(lesson)}: {data['points']:g} / {data['max_points']:g}</h2>{flags}{body}")
    figures = "".join(
        f'<figure><img alt="{escape(caption)}" '
        f'src="data:image/png;base64,{png}"><figcaption>{escape(caption)}</figcaption></figure>'
        for caption, png in images
    )
    problems = "".join(f'<p class="flag">{escape(problem)}</p>' for problem in record["problems"])
    return PAGE.format(
        student=escape(record["student"]),
        total=record["total"],
        max_total=record["max_total"],
        problems=problems,
        lessons="".join(sections),
        pictures=("<h2>Pictures</h2>" + figures) if figures else "",
    )


def write_student_outputs(record: StudentRecord, images: list[tuple[str, str]], output: Path) -> None:
    """Writes ``results/``, ``feedback/`` and ``gradescope/`` files of one student."""
    key = record["key"]
    write_atomically(output / "feedback" / f"{key}.html", feedback_html(record, images))
    write_atomically(output / "gradescope" / key / "results.json", json.dumps(gradescope_results(record), indent=2))
    # Written last: its presence (with a matching fingerprint) is what marks the student as done.
    write_atomically(output / "results" / f"{key}.json", json.dumps(record, indent=2, ensure_ascii=False))
