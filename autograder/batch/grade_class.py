"""Grades a whole class: one worker per student at a time, resumable, every output written atomically.

Grading one student is a pure function of (their notebooks, the released lessons, the spec) to their
output files (:func:`grade_student`), so the same code could later run one container per student.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from autograder.batch.options import GradingOptions
from autograder.batch.pool_worker import ctrl_c_held_while_spawning, grade_in_worker, start_pool_worker
from autograder.batch.reports import (
    StudentRecord,
    pictures,
    student_record,
    write_gradebook,
    write_student_outputs,
    write_summary,
)
from autograder.batch.submissions import Submission, find_submissions
from autograder.exercises.verdict import errored
from autograder.kernel.course_copy import data_source
from autograder.kernel.factory import factory_starting
from autograder.lesson.grade import NotebookGrade, grade_notebook
from autograder.quiet import QUIET_LOG_LEVEL, import_tensorflow_quietly
from autograder.spec import SPEC, Spec

DEFAULT_OUTPUT = Path("grading-output")


KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


def kernel_environment(options: GradingOptions) -> dict[str, str]:
    """The environment the students' kernels start with: a few locale and path variables, the data source,
    thread limits, and nothing else of the grader's (no tokens, no HOME: each kernel gets a temporary one)."""
    env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    source = data_source()
    if source:
        env["MNIST_PATH"] = source
    env.update(
        {
            "TF_NUM_INTRAOP_THREADS": str(options.kernel_threads),
            "TF_NUM_INTEROP_THREADS": str(options.kernel_threads),
            "OMP_NUM_THREADS": str(options.kernel_threads),
            "TF_CPP_MIN_LOG_LEVEL": QUIET_LOG_LEVEL,  # as in a student's own kernel (the lessons' set-up cells)
            "MPLBACKEND": "Agg",
        }
    )
    return env


def is_done(submission: Submission, output: Path, fingerprint: str) -> bool:
    """Whether this student's results exist for exactly these notebooks, release and spec."""
    path = output / "results" / f"{submission.key}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("fingerprint") == fingerprint
    except (OSError, ValueError):
        return False


def grader_failure(lesson: str, error: Exception, spec: Spec = SPEC) -> NotebookGrade:
    """The grade of a lesson the grader itself failed on: every check errored, none of it the student's doing."""
    message = (
        f"The grader failed on this notebook ({type(error).__name__}: {error}). This is not a problem with your "
        "work; your instructor will grade it again."
    )
    return NotebookGrade(
        lesson,
        [
            errored(check, message, "Nothing to change; wait for the regrade.", spec=spec)
            for check in spec.lessons[lesson]
        ],
        ["The grader failed on this notebook."],
    )


def grade_submission(
    submission: Submission, *, options: GradingOptions, spec: Spec = SPEC, fingerprint: str | None = None
) -> tuple[StudentRecord, list[tuple[str, str]]]:
    """Grades one student's notebooks: a pure function of (notebooks, released lessons, spec), writing nothing.

    Args:
        submission: The student's notebooks.
        options: Release folder, limits, kernel threads.
        spec: The course spec.
        fingerprint: The submission's fingerprint, when it was taken elsewhere (the Dask client takes it where the
            notebooks are); None: taken here.

    Returns:
        The student's record (what ``results/<student>.json`` holds) and their feedback pictures.
    """
    env = kernel_environment(options)
    grades: dict[str, NotebookGrade] = {}
    grader_failed = False
    for lesson, path in sorted(submission.notebooks.items()):
        try:
            grades[lesson] = grade_notebook(
                path, release=options.release / path.name, spec=spec, env=env, limits=options.limits
            )
        except Exception as error:  # noqa: BLE001 - a grader bug costs this lesson a retry, not the class its run
            grader_failed = True
            grades[lesson] = grader_failure(lesson, error, spec)
            print(
                f"mnist-grade: grading {submission.student}'s {lesson} failed ({type(error).__name__}: {error}); "
                "the other lessons and students go on, and the next run retries it.",
                file=sys.stderr,
            )
    # An empty fingerprint is never up to date, so the next run grades this student again.
    if grader_failed:
        fingerprint = ""
    elif fingerprint is None:
        fingerprint = submission.fingerprint(spec, options.release)
    record = student_record(submission.student, submission.key, fingerprint, grades, submission.problems, spec)
    return record, pictures(grades, spec)


def grade_student(submission: Submission, *, output: Path, options: GradingOptions, spec: Spec = SPEC) -> StudentRecord:
    """Grades one student's notebooks and writes their results, feedback and Gradescope files.

    Returns:
        The student's record (what ``results/<student>.json`` holds).
    """
    record, images = grade_submission(submission, options=options, spec=spec)
    write_student_outputs(record, images, output)
    return record


def use_threads(threads: int) -> None:
    """Gives this process's TensorFlow (the checks' evaluations, the reference's training) as many threads as a
    kernel's: the reference then trains exactly as a student's kernel does, and workers don't contend for cores.
    Takes effect only before TensorFlow runs its first operation in this process."""
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))


def start_worker(options: GradingOptions) -> None:
    """Readies a process to grade (a spawned worker, a Dask worker, or ``mnist-grade --jobs 1`` itself): it sets
    its TensorFlow threads (:func:`use_threads`) and imports TensorFlow quietly before its first student, to load
    the models the kernels return, while its kernel factory starts (:func:`factory_starting`). A process that only
    hands students to workers never imports TensorFlow."""
    use_threads(options.kernel_threads)
    with factory_starting(kernel_environment(options)):
        import_tensorflow_quietly()


def grade_class(
    source: str | Path,
    *,
    output: str | Path = DEFAULT_OUTPUT,
    jobs: int = 1,
    force: bool = False,
    options: GradingOptions = GradingOptions(),
    progress: bool = True,
    spec: Spec = SPEC,
    dask: str | None = None,
) -> list[StudentRecord]:
    """Grades every submission under ``source`` and writes the class outputs.

    Args:
        source: nbgrader's ``submitted/`` folder, a folder of one student's notebooks, or one notebook.
        output: The output folder: gradebook.csv, results/, feedback/, gradescope/, summary/.
        jobs: Students graded at the same time.
        force: Regrade students whose results are already up to date.
        options: Time limits, release folder and kernel threads.
        progress: Show a progress bar.
        spec: The course spec.
        dask: Grade on a Dask cluster instead of local processes: a scheduler's address, or ``local:N`` for a
            cluster of N worker processes on this machine (:mod:`autograder.batch.cluster`).

    Returns:
        The records of every student under ``source``, sorted by name.
    """
    output = Path(output)
    for leftover in output.rglob(".*.tmp") if output.exists() else []:
        leftover.unlink()  # half-written files of a run that was killed; the finished files are whole
    missing = [f"{lesson}.ipynb" for lesson in spec.lessons if not (options.release / f"{lesson}.ipynb").is_file()]
    if missing:
        raise ValueError(
            f"The release folder {options.release} lacks {', '.join(missing)}; give --release the folder "
            "of released lessons (`make lessons` writes lessons/mnist)."
        )
    submissions = find_submissions(source, spec=spec)
    keys = [s.key for s in submissions]
    if len(set(keys)) != len(keys):
        raise ValueError("Two student folders map to the same output name; rename one of them.")
    todo = [s for s in submissions if force or not is_done(s, output, s.fingerprint(spec, options.release))]
    bar = tqdm(
        total=len(submissions),
        initial=len(submissions) - len(todo),
        unit="student",
        disable=not progress,
        desc="grading",
    )
    if dask:
        from autograder.batch.cluster import grade_on_dask

        for record, images in grade_on_dask(todo, dask, options=options, spec=spec):
            write_student_outputs(record, images, output)  # here, on the client: workers need no shared folder
            bar.update()
    elif jobs <= 1:
        if todo:  # this process grades: it loads what the kernels return, with TensorFlow (the workers' own job else)
            start_worker(options)
        for submission in todo:
            grade_student(submission, output=output, options=options, spec=spec)
            bar.update()
    else:
        # "spawn", not fork: a process that has loaded TensorFlow or run a kernel holds threads, and a child
        # forked from it can deadlock on a lock one of them held.
        with ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_pool_worker,
            initargs=(options,),
        ) as pool:
            with ctrl_c_held_while_spawning():  # the pool spawns its workers as the students are submitted
                futures = [pool.submit(grade_in_worker, submission, options) for submission in todo]
            for future in as_completed(futures):
                write_student_outputs(*future.result(), output)
                bar.update()
    bar.close()
    records: list[StudentRecord] = [
        json.loads((output / "results" / f"{key}.json").read_text(encoding="utf-8")) for key in keys
    ]
    write_gradebook(records, output / "gradebook.csv", spec)
    write_summary(records, output / "summary", spec)
    return sorted(records, key=lambda record: record["student"])
