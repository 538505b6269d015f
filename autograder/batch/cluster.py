"""Grades a class on a Dask cluster: one task per student, results back to the client, which writes them.

    mnist-grade submitted --dask tcp://scheduler:8786     # a running scheduler (dask scheduler / dask worker)
    mnist-grade submitted --dask local:4                  # a LocalCluster of 4 single-threaded worker processes

Workers need the course installed (the same version as the client), the data at the client's ``MNIST_PATH``
(or ``synthetic``), and nothing else: each task carries the student's notebooks and the released lessons as
bytes, and returns the record and pictures, which the client writes as :func:`~autograder.batch.grade_class.grade_class`
always does (atomically, resumable, with the progress bar). A worker that dies mid-student costs only a retry of
that student elsewhere (Dask reschedules a task whose worker died, up to ``distributed.scheduler.allowed-failures``
times). Each kernel on a worker is forked from that worker's kernel factory, sandboxed as on one machine, so it
can reach neither the scheduler nor the other workers.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from autograder.batch.grade_class import GradingOptions, grade_submission, start_worker
from autograder.batch.reports import StudentRecord
from autograder.batch.submissions import Submission
from autograder.kernel.course_copy import data_source
from autograder.spec import SPEC, Spec

LOCAL_PREFIX = "local:"
CONNECT_TIMEOUT = "20s"


@dataclasses.dataclass(frozen=True)
class Shipment:
    """One student's grading task, self-contained: what a worker without the client's files needs.

    Attributes:
        submission: The student (its notebook paths are the client's; only their names are used on the worker).
        notebooks: Lesson -> the notebook's bytes.
        release: File name -> the released lesson's bytes.
        fingerprint: The submission's fingerprint, taken on the client.
        mnist_path: The client's data source, for the kernels and the checks.
    """

    submission: Submission
    notebooks: dict[str, bytes]
    release: dict[str, bytes]
    fingerprint: str
    mnist_path: str | None


def ship(submission: Submission, options: GradingOptions, spec: Spec = SPEC) -> Shipment:
    """Packs one student's task on the client."""
    notebooks = {}
    for lesson, path in submission.notebooks.items():
        try:
            notebooks[lesson] = path.read_bytes()
        except OSError:
            notebooks[lesson] = b""  # graded as an unreadable notebook, with its message
    release = {path.name: path.read_bytes() for path in sorted(options.release.glob("*.ipynb"))}
    return Shipment(submission, notebooks, release, submission.fingerprint(spec, options.release), data_source())


def grade_shipment(
    shipment: Shipment, options: GradingOptions, spec: Spec = SPEC
) -> tuple[StudentRecord, list[tuple[str, str]]]:
    """Grades one student on a worker, from the shipment alone; returns (record, pictures)."""
    if shipment.mnist_path:
        os.environ["MNIST_PATH"] = shipment.mnist_path
    start_worker(options)  # a worker's first student: its threads, TensorFlow imported quietly, its kernel factory
    with tempfile.TemporaryDirectory(prefix="mnist-grade-task-") as task_folder:
        folder = Path(task_folder)
        (folder / "release").mkdir()
        (folder / "submission").mkdir()
        for name, data in shipment.release.items():
            (folder / "release" / name).write_bytes(data)
        notebooks = {}
        for lesson, data in shipment.notebooks.items():
            notebooks[lesson] = folder / "submission" / f"{lesson}.ipynb"
            notebooks[lesson].write_bytes(data)
        submission = dataclasses.replace(shipment.submission, notebooks=notebooks)
        return grade_submission(
            submission,
            options=dataclasses.replace(options, release=folder / "release"),
            spec=spec,
            fingerprint=shipment.fingerprint,
        )


def connect(address: str, *, timeout: str = CONNECT_TIMEOUT):
    """A Dask client of the scheduler at ``address``, or of a new LocalCluster for ``local:N``.

    Args:
        address: A scheduler's address (``tcp://host:port``), or ``local:N``.
        timeout: How long to keep trying to reach a scheduler.

    Raises:
        ValueError: When ``local:N`` has no positive N, or the scheduler can't be reached (naming the address).
    """
    from distributed import Client, LocalCluster

    if address.startswith(LOCAL_PREFIX):
        workers = address[len(LOCAL_PREFIX) :]
        if not workers.isdigit() or int(workers) < 1:
            raise ValueError(f"--dask {address}: write local:N with N the number of worker processes, like local:2.")
        cluster = LocalCluster(
            n_workers=int(workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )  # not Dask's notices about workers it stops at the end
        return Client(cluster)
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as error:
        raise ValueError(
            f"Could not reach the Dask scheduler at {address} ({error}). Check that the scheduler "
            "is running (`dask scheduler`) and that this machine can reach that address."
        ) from None


def grade_on_dask(
    submissions: list[Submission], address: str, *, options: GradingOptions, spec: Spec = SPEC
) -> Iterator[tuple[StudentRecord, list[tuple[str, str]]]]:
    """Grades each submission as one task on the cluster; yields (record, pictures) as students finish."""
    from distributed import as_completed

    client = connect(address)
    try:
        futures = [
            client.submit(
                grade_shipment,
                ship(submission, options, spec),
                options,
                spec,
                pure=False,
                key=f"grade-{submission.key}-{index}",
            )
            for index, submission in enumerate(submissions)
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
