"""Fixtures the maintainers' tests share. Paths and helpers are in support/ (test modules import them from there)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.paths import EXAMPLE_SUBMISSIONS, REAL_DIGITS_MISSING, SHARED_MNIST
from support.training import small_digits as make_small_digits

from autograder.protocol import CACHE_VARIABLE

pytest_plugins = ["pytester"]  # tests/course/test_no_kernels_option.py runs pytest on small test files


def pytest_addoption(parser):
    parser.addoption(
        "--no-kernels",
        action="store_true",
        help="fail any test that starts a Jupyter kernel or the kernel factory without the `kernel` or `slow` "
        "marker (make test-fast)",
    )


@pytest.fixture(autouse=True)
def no_kernels_unless_marked(request, monkeypatch):
    """With --no-kernels, a test that starts a Jupyter kernel or the kernel factory in this process fails, saying
    which marker it lacks, even if the code under test caught the refusal."""
    if not request.config.getoption("--no-kernels"):
        yield
        return
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    from autograder.kernel.factory import KernelFactory

    attempts: list[str] = []

    def refuse(what: str):
        def refused(*args, **kwargs):
            attempts.append(what)
            raise RuntimeError(f"--no-kernels: this test started {what}")

        return refused

    monkeypatch.setattr(KernelManager, "start_kernel", refuse("a Jupyter kernel"))
    monkeypatch.setattr(KernelManager, "_async_start_kernel", refuse("a Jupyter kernel"))
    monkeypatch.setattr(AsyncKernelManager, "start_kernel", refuse("a Jupyter kernel"))
    monkeypatch.setattr(KernelFactory, "__init__", refuse("the kernel factory"))
    yield
    assert not attempts, f"this test started {attempts[0]}: mark it `kernel` (or `slow`), or make it start none"


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


@pytest.fixture(scope="session")
def small_class_graded(tmp_path_factory) -> Path:
    """The example students of support/examples.py's SMALL_CLASS in nbgrader's layout (``submitted/``), graded once
    per session by ``mnist-grade --jobs 2`` into ``out/``: a real, fresh run, the one the batch tests compare with
    (test_examples.py grades them again from its cache, test_cluster.py on Dask, test_gradescope.py through the
    bundle) and read (test_grade_class.py). Tests change nothing in it; one that edits copies it first.

    TensorFlow runs in this process first, as it does in the main job (which checks the solutions before
    grading the class): workers forked from such a process deadlocked; they must be spawned.
    """
    import keras
    from support.examples import SMALL_CLASS

    from autograder.batch.cli import main as mnist_grade

    keras.ops.convert_to_numpy(keras.ops.ones(3) * 2)
    root = tmp_path_factory.mktemp("small-class")
    for student in SMALL_CLASS:
        shutil.copytree(EXAMPLE_SUBMISSIONS / student, root / "submitted" / student)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_PATH", "synthetic")
        command = [str(root / "submitted"), "--output", str(root / "out"), "--jobs", "2", "--no-progress"]
        assert mnist_grade(command) == 0
    return root
