"""Grades a whole class: one worker per student at a time, resumable, every output written atomically.

Grading one student is a pure function of (their notebooks, the released lessons, the spec) to their
output files (:func:`grade_student`), so the same code could later run one container per student.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

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
from autograder.limits import Limits
from autograder.quiet import QUIET_LOG_LEVEL, import_tensorflow_quietly
from autograder.spec import RELEASED_LESSONS, SPEC, Spec

DEFAULT_RELEASE = RELEASED_LESSONS
DEFAULT_OUTPUT = Path("grading-output")


@dataclass(frozen=True)
class GradingOptions:
    """How to grade; the defaults are defined here once, and the CLI shows them.

    Attributes:
        release: The released lessons, whose grader-owned cells replace the students'.
        limits: Time, memory, process and output limits per notebook.
        kernel_threads: TensorFlow threads per kernel (intra- and inter-op). One thread per kernel is faster
            on small networks and lets parallel workers share the cores without contention.
    """

    release: Path = DEFAULT_RELEASE
    limits: Limits = Limits()
    kernel_threads: int = 1


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


_grading_a_student = False  # in a pool worker: whether it is grading a student now (read by its SIGINT handler)


def _stop_at_ctrl_c(signum, frame) -> None:
    """A pool worker's SIGINT (Ctrl-C reaches every process of the run): a worker grading a student stops it with
    KeyboardInterrupt, which the main process gets as that student's outcome and records nothing for; an idle one
    exits quietly, instead of printing the traceback of the queue it was waiting on. The main process, interrupted
    too, says what was kept."""
    if _grading_a_student:
        raise KeyboardInterrupt
    raise SystemExit(130)


def _start_pool_worker(options: GradingOptions) -> None:
    """A ``--jobs N`` worker's start: :func:`start_worker`, with :func:`_stop_at_ctrl_c` for SIGINT unless the run
    ignores SIGINT (started in a script's background, for example)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _stop_at_ctrl_c)
    start_worker(options)


def _grade_in_worker(submission: Submission, options: GradingOptions) -> tuple[StudentRecord, list[tuple[str, str]]]:
    global _grading_a_student
    _grading_a_student = True
    try:
        return grade_submission(submission, options=options)
    finally:
        _grading_a_student = False


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
            initializer=_start_pool_worker,
            initargs=(options,),
        ) as pool:
            futures = [pool.submit(_grade_in_worker, submission, options) for submission in todo]
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
