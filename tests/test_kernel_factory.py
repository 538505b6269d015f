"""Kernels forked from the kernel factory: they run like started kernels and share nothing with each other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import nbformat
import psutil
import pytest

from autograder.execute import execute
from autograder.grade_class import GradingOptions, kernel_environment
from autograder.kernel_factory import PROVISIONER_NAME, factory_for
from autograder.limits import Limits

FORKED = {"kernel_argv": [sys.executable, "-m", "autograder.sandbox", "-f", "{connection_file}"],
          "provisioner": PROVISIONER_NAME}


def run_cells(sources: list[str], folder, **options):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    env = {**kernel_environment(GradingOptions()), "HOME": str(folder), "TMPDIR": str(folder)}
    return execute(notebook, cwd=str(folder), env=env, connection_file=str(folder / "connection.json"),
                   **FORKED, **options)


def printed(execution, cell: int) -> str:
    return "".join(output.get("text", "") for output in execution.notebook.cells[cell].outputs)


def test_a_forked_kernel_has_keras_loaded_already_and_runs_cells(tmp_path):
    execution = run_cells(["import sys; print('keras' in sys.modules)", "import os; print(os.getcwd())"], tmp_path)
    assert execution.stopped == "" and execution.cell_errors == {}
    assert printed(execution, 0).strip() == "True"
    assert printed(execution, 1).strip() == str(tmp_path)


def test_one_notebooks_state_does_not_reach_the_next(tmp_path):
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = run_cells(["import keras, numpy\nkeras.LEFT_BEHIND = 1\nnumpy.random.seed(123)\n"
                       "keras.config.set_floatx('float16')\nprint(keras.config.floatx())"], tmp_path / "first")
    second = run_cells(["import keras\nprint(hasattr(keras, 'LEFT_BEHIND'), keras.config.floatx())"], tmp_path / "second")
    assert printed(first, 0).strip() == "float16"
    assert printed(second, 0).strip() == "False float32"


def test_a_forked_kernel_is_interrupted_at_its_cell_limit_and_goes_on(tmp_path):
    execution = run_cells(["while True: pass", "print('next')"], tmp_path, limits=Limits(cell_timeout=3))
    assert execution.cell_errors[0].startswith("CellTimeoutError")
    assert printed(execution, 1).strip() == "next"


def test_the_factory_dies_with_the_grader(tmp_path):
    grader = subprocess.Popen([sys.executable, "-c", (
        "from autograder.kernel_factory import factory_for\n"
        "from autograder.grade_class import GradingOptions, kernel_environment\n"
        "factory = factory_for(kernel_environment(GradingOptions()))\n"
        "print(factory.process.pid, flush=True)\n"
        "import time; time.sleep(600)\n")], stdout=subprocess.PIPE, text=True)
    factory_pid = int(grader.stdout.readline())
    assert psutil.pid_exists(factory_pid)
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 10
    while psutil.pid_exists(factory_pid) and psutil.Process(factory_pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the kernel factory outlived the grader that started it"
        time.sleep(0.1)


def test_a_factory_is_shared_by_kernels_with_the_same_settings_only():
    env = kernel_environment(GradingOptions())
    same = factory_for({**env, "HOME": "/elsewhere", "MNIST_PATH": "synthetic"})
    assert factory_for(env) is same
    assert factory_for({**env, "TF_NUM_INTRAOP_THREADS": "2"}) is not same


@pytest.mark.parametrize("variable", ["PYTHONPATH", "AUTOGRADER_SANDBOX", "TMPDIR"])
def test_per_notebook_settings_never_start_a_new_factory(variable):
    env = kernel_environment(GradingOptions())
    assert factory_for({**env, variable: "anything"}) is factory_for(env)
