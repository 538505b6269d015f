"""Fixtures the maintainers' tests share. Paths and helpers are in support/ (test modules import them from there)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.paths import EXAMPLE_SUBMISSIONS, REAL_DIGITS_MISSING, SHARED_MNIST
from support.training import small_digits as make_small_digits

from autograder.protocol import CACHE_VARIABLE

pytest_plugins = ["pytester"]  # tests/course/test_unmarked_tests_start_no_kernel.py runs pytest on small files


KERNEL_MARKERS = ("kernel", "slow")  # make test-fast leaves these out; every other test must start no kernel


@pytest.fixture(autouse=True)
def no_kernels_unless_marked(request, monkeypatch):
    """A test without the `kernel` or `slow` marker that starts a Jupyter kernel or the kernel factory in this
    process fails, saying which marker it lacks, even if the code under test caught the refusal: in every run, so
    that `make test` (what CI runs) keeps `make test-fast` kernel-free."""
    if any(request.node.get_closest_marker(marker) for marker in KERNEL_MARKERS):
        yield
        return
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    from autograder.kernel.factory import KernelFactory

    attempts: list[str] = []

    def refuse(what: str):
        def refused(*args, **kwargs):
            attempts.append(what)
            raise RuntimeError(f"unmarked test: this test started {what}")

        return refused

    monkeypatch.setattr(KernelManager, "start_kernel", refuse("a Jupyter kernel"))
    monkeypatch.setattr(KernelManager, "_async_start_kernel", refuse("a Jupyter kernel"))
    monkeypatch.setattr(AsyncKernelManager, "start_kernel", refuse("a Jupyter kernel"))
    monkeypatch.setattr(KernelFactory, "__init__", refuse("the kernel factory"))
    yield
    assert not attempts, f"this test started {attempts[0]}: mark it `kernel` (or `slow`), or make it start none"


@pytest.fixture
def grading_process_not_readied(monkeypatch):
    """For a test whose class run starts no kernel: ``mnist-grade --jobs 1`` readies its own process before the first
    student (it starts its kernel factory and imports TensorFlow: ``grade_class.start_worker``), which such a test
    doesn't need, and which an unmarked test may not do (:func:`no_kernels_unless_marked`)."""
    from autograder.batch import grade_class

    monkeypatch.setattr(grade_class, "start_worker", lambda options: None)


@pytest.fixture(scope="session", autouse=True)
def trained_networks_of_this_session(tmp_path_factory):
    """Keeps the trained reference networks (autograder.trained_cache) in a folder of this test session's, not the
    user's ~/.cache: every session starts with none, and so trains one once (through the grader, or in a
    kernel), as a fresh machine does."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_VARIABLE, str(tmp_path_factory.mktemp("trained-networks")))
        yield


@pytest.fixture
def synthetic_digits(monkeypatch):
    """Makes mnist.load_data() (here and in kernels started from here) use the synthetic digits."""
    monkeypatch.setenv("MNIST_PATH", "synthetic")


@pytest.fixture(scope="session")
def real_digits():
    """The 10,000 official MNIST test digits as (images, labels); skips when they aren't there."""
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(REAL_DIGITS_MISSING)
    from digits.mnist import load_idx_pair

    return load_idx_pair(SHARED_MNIST, prefix="t10k")


@pytest.fixture(scope="session")
def real_digits_npz(real_digits, tmp_path_factory) -> Path:
    """A Keras-format mnist.npz made from the official test digits: the first 3000 as the training
    set, the other 7000 held out as the test set. It lives in a temporary folder, never in the repo."""
    import numpy as np

    images, labels = real_digits
    path = tmp_path_factory.mktemp("real-mnist") / "mnist.npz"
    np.savez(path, x_train=images[:3000], y_train=labels[:3000], x_test=images[3000:], y_test=labels[3000:])
    return path


@pytest.fixture(scope="module")
def small_digits():
    """300 synthetic digits, flattened and scaled, and their labels: enough to train in a few seconds."""
    return make_small_digits()


# Test modules that must run on the same pytest-xdist worker as another module: they share what that module's tests
# build once per process (support/examples.py's grades of the example students).
RUN_WITH = {"tests/batch/test_nbgrader_agreement.py": "tests/batch/test_examples.py"}

# The units of work (a module, with what RUN_WITH adds to it) that take longest, longest first, as `--durations` and a
# timeline of each worker measured them on the 2-core machine (2026-12-04, again 2026-12-05): they go out first, and
# the many short ones fill in after them, so both workers finish about together (620 s and 636 s on 2026-12-05, with
# test_cluster.py then third; these numbers put it fifth). In collection order the hostile corpus went out last and
# one worker ran it alone for its last 120 s (566 s against 446 s).
LONGEST_FIRST = (
    "tests/batch/test_examples.py",  # about 225 s with test_nbgrader_agreement.py
    "tests/lesson/test_hostile_submissions.py",  # 170 s
    "tests/course/test_notebooks.py",  # 155 s
    "tests/batch/test_interrupted_run.py",  # 110 s
    "tests/batch/test_cluster.py",  # 90 s
    "tests/batch/test_gradescope.py",  # 75 s
    "tests/lesson/test_grade_notebook.py",  # 55 s
)


def unit_of_work(nodeid: str) -> str:
    """The unit a test goes out in to a pytest-xdist worker: its module, or the module RUN_WITH puts it with."""
    module = nodeid.split("::", 1)[0]
    return RUN_WITH.get(module, module)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Puts the units of :data:`LONGEST_FIRST` first, in its order; the others, and the tests within each unit, stay
    in collection order. Every worker collects the same order, which is the order work goes out in."""
    rank = {unit: position for position, unit in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(unit_of_work(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: pytest without it (-p no:xdist) runs all in one process
def pytest_xdist_make_scheduler(config, log):
    """``make test`` runs the tests on two pytest-xdist workers (``-n 2``), each test module whole on one of them.

    A module's tests share module-scoped fixtures (a JupyterLab server, a Dask cluster, an nbgrader run) that a
    second worker would build again, and some watch things outside any one test: the hostile cases check that no
    process of theirs outlives them and that nothing outside the kernel changed, which another hostile case
    running at the same time would upset. Units go out in the order :func:`pytest_collection_modifyitems` gives
    (``--no-loadscope-reorder``): the longest first. :data:`RUN_WITH` keeps modules that share more than that together.

    (pytest-xdist's own ``--dist loadgroup`` would do this with marks, but 3.8 groups nothing on pytest 9.2: it
    renames the tests through an attribute pytest no longer reads.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

    return ByModule(config, log)


@contextlib.contextmanager
def shared_between_workers(tmp_path_factory, name: str) -> Iterator[tuple[Path, bool]]:
    """A folder the pytest-xdist workers of this run share, held under a lock: yields ``(folder, ready)``, with
    ``ready`` False until one of them marks it ready by returning from the block without an error (whoever finds
    it not ready fills it, from empty; the others wait for the lock). Without xdist, a folder of this session's."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, ready_marker = shared / name, shared / f"{name}.ready"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = ready_marker.exists()
        if not ready:
            shutil.rmtree(folder, ignore_errors=True)  # what a worker that failed half-way left
            folder.mkdir()
        yield folder, ready
        ready_marker.touch()


@pytest.fixture(scope="session")
def small_class_graded(tmp_path_factory) -> Path:
    """The example students of support/examples.py's SMALL_CLASS in nbgrader's layout (``submitted/``), graded once
    per run by ``mnist-grade --jobs 2`` into ``out/`` (under pytest-xdist, one worker grades it and the other waits
    for it): a real, fresh run, the one the batch tests compare with (test_examples.py grades them again from its
    cache, test_cluster.py on Dask, test_gradescope.py through the bundle) and read (test_grade_class.py). Tests
    change nothing in it; one that edits copies it first.

    TensorFlow runs in this process first, as it does in the main job (which checks the solutions before
    grading the class): workers forked from such a process deadlocked; they must be spawned.
    """
    import keras
    from support.examples import SMALL_CLASS

    from autograder.batch.cli import main as mnist_grade

    with shared_between_workers(tmp_path_factory, "small-class") as (root, ready):
        if ready:
            return root
        keras.ops.convert_to_numpy(keras.ops.ones(3) * 2)
        for student in SMALL_CLASS:
            shutil.copytree(EXAMPLE_SUBMISSIONS / student, root / "submitted" / student)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MNIST_PATH", "synthetic")
            command = [str(root / "submitted"), "--output", str(root / "out"), "--jobs", "2", "--no-progress"]
            assert mnist_grade(command) == 0
    return root
