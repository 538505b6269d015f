"""Grading on a Dask cluster gives exactly what --jobs 2 gives: on a LocalCluster, on a scheduler and workers
started as separate processes (one of them killed mid-student), with kernels that can't reach the scheduler.

What --jobs 2 gives is the session's one `mnist-grade --jobs 2` run of the two students of SMALL_CLASS
(conftest.py's small_class_graded, which test_examples.py, test_grade_class.py and test_gradescope.py use too);
the cluster runs here are fresh, as the point is what the cluster writes: both students on the scheduler and
workers, and one of them on a LocalCluster (``--dask local:2`` only makes the cluster the client then connects to, and
grades through the same code; a second student there would cost a minute and prove nothing more).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from support.examples import run_outputs
from support.paths import PROJECT_ROOT

from autograder.batch.cli import main as mnist_grade
from autograder.batch.cluster import connect
from autograder.batch.grade_class import grade_class
from autograder.kernel.isolation import bubblewrap
from autograder.kernel.sandbox import landlock_abi

pytestmark = pytest.mark.slow

DASK = str(Path(sys.executable).with_name("dask"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def submitted(small_class_graded) -> Path:
    """The two example students of SMALL_CLASS in nbgrader's layout (read, never changed)."""
    return small_class_graded / "submitted"


@pytest.fixture(scope="module")
def graded_with_jobs_2(small_class_graded) -> dict[str, bytes]:
    """What mnist-grade --jobs 2 writes for the two students (results/*.json and gradebook.csv): the outputs to
    match."""
    return run_outputs(small_class_graded / "out")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two workers started with the `dask` command, each its own process, on the loopback."""
    address = f"tcp://127.0.0.1:{free_port()}"
    logs = tmp_path_factory.mktemp("dask-logs")
    env = {**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}, "MNIST_PATH": "synthetic"}
    started = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(logs / "scheduler.log", "w"),
            start_new_session=True,
        )
    ]
    for number in (1, 2):
        started.append(
            subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"worker-{number}"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(logs / f"worker-{number}.log", "w"),
                start_new_session=True,
            )
        )
    client = connect(address, timeout="60s")
    client.wait_for_workers(2, timeout=120)
    client.close()
    yield address, started
    for process in started:
        for child in psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []:
            child.kill()
        process.kill()
        process.wait()


def test_local_cluster_gives_what_jobs_2_gives(submitted, graded_with_jobs_2, tmp_path, monkeypatch):
    """Does --dask local:2, given one of the two students, write byte for byte that student's results and gradebook
    row as --jobs 2 wrote them?"""
    monkeypatch.setenv("MNIST_PATH", "synthetic")
    shutil.copytree(submitted / "passes_all", tmp_path / "submitted" / "passes_all")
    command = [str(tmp_path / "submitted"), "--output", str(tmp_path / "out"), "--dask", "local:2", "--no-progress"]
    assert mnist_grade(command) == 0
    header, *rows = graded_with_jobs_2["gradebook.csv"].splitlines(keepends=True)
    assert run_outputs(tmp_path / "out") == {
        "results/passes_all.json": graded_with_jobs_2["results/passes_all.json"],
        "gradebook.csv": header + b"".join(row for row in rows if row.startswith(b"passes_all,")),
    }


def busy_worker(started: list[subprocess.Popen]) -> psutil.Process | None:
    """A worker process (under a `dask worker` nanny) that has a graded kernel under it, or None."""
    for nanny in started[1:]:
        for worker in psutil.Process(nanny.pid).children():
            if len(worker.children(recursive=True)) >= 3:  # bubblewrap or the factory, and a kernel forked from it
                return worker
    return None


def test_scheduler_and_workers_give_what_jobs_2_gives_though_a_worker_dies(
    cluster, submitted, graded_with_jobs_2, tmp_path, monkeypatch
):
    """On a scheduler and two workers started separately, with one worker killed while it grades a student, is
    that student graded again elsewhere, and are the results and gradebook byte for byte those of --jobs 2?"""
    address, started = cluster
    monkeypatch.setenv("MNIST_PATH", "synthetic")
    killed = []

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            worker = busy_worker(started)
            if worker is not None:
                time.sleep(3)  # well into a student
                worker.kill()
                killed.append(worker.pid)
            time.sleep(0.5)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    grade_class(submitted, output=tmp_path, dask=address, progress=False)
    killer.join()
    assert killed, "no worker was seen grading, so none was killed"
    assert run_outputs(tmp_path) == graded_with_jobs_2


def test_kernel_on_a_worker_cannot_reach_the_scheduler(cluster, tmp_path, monkeypatch):
    """Graded on the cluster, does a notebook that connects to the scheduler's port (and answers wrongly if it
    gets through) find it unreachable?"""
    import nbformat

    if landlock_abi() < 4 and bubblewrap() is None:
        pytest.skip(
            "this machine has neither Landlock ABI 4 nor bubblewrap, so kernels can reach TCP ports here "
            "(mnist-grade --help lists what is enforced)"
        )
    address, _ = cluster
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    lesson = nbformat.read(
        PROJECT_ROOT / "examples" / "submissions" / "passes_all" / "mnist" / "01_load.ipynb", as_version=4
    )
    [answer] = [cell for cell in lesson.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "class_counts"]
    answer.source = (
        f"import socket\ntry:\n    socket.create_connection(({host!r}, {port}), timeout=5).close()\n"
        "    reached = True\nexcept OSError:\n    reached = False\n\n"
        + answer.source
        + "\nif reached:\n    class_counts = lambda y: None  # the scheduler answered: this must show\n"
    )
    (tmp_path / "submitted" / "prober" / "mnist").mkdir(parents=True)
    nbformat.write(lesson, tmp_path / "submitted" / "prober" / "mnist" / "01_load.ipynb")
    monkeypatch.setenv("MNIST_PATH", "synthetic")
    [record] = grade_class(tmp_path / "submitted", output=tmp_path / "out", dask=address, progress=False)
    checks = {check["check_id"]: check for check in record["lessons"]["01_load"]["checks"]}
    assert checks["class_counts"]["outcome"] == "passed", checks["class_counts"]["message"]


def test_unreachable_scheduler_is_a_clear_error_naming_it():
    """Does a scheduler address nobody listens on give an error that names it and says what to check?"""
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ValueError, match=f"Could not reach the Dask scheduler at {address}"):
        connect(address, timeout="2s")


def test_local_without_a_number_is_a_clear_error():
    """Does --dask local:two say how to write it?"""
    with pytest.raises(ValueError, match="write local:N"):
        connect("local:two")
