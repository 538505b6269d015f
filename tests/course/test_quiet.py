"""Quiet by default: the grader's own processes print no TensorFlow, absl, oneDNN, CUDA or ipykernel log lines.

Each test runs a real entry point as a subprocess, so what it checks is what a terminal shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from support.paths import EXAMPLE_SUBMISSIONS, PROJECT_ROOT

# Pieces of the lines TensorFlow, its CUDA stubs and ipykernel write about the machine, not about the grading.
NOISE = (
    "oneDNN",
    "absl::",
    "cuda",
    "cuInit",
    "TF_ENABLE_ONEDNN_OPTS",
    "running over TCP without encryption",
    "This TensorFlow binary is optimized",
)
BUILD_MODEL_MESSAGE = "layer2 has 25 units; the spec asks for 30."  # fails_units_25's one mistake, in 03_build


def noise_in(output: str) -> list[str]:
    """The lines of ``output`` that hold any of :data:`NOISE`."""
    return [line for line in output.splitlines() if any(piece in line for piece in NOISE)]


def run(command: list[str], **options) -> subprocess.CompletedProcess:
    """Runs ``command`` with the digits chosen (synthetic), returning what it printed on both streams."""
    environment = {**os.environ, "MNIST_PATH": "synthetic", **options.pop("env", {})}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user's shell has it: the grader must set it itself
    # As on a student's machine, not a CI runner: with CI set, pytest repeats each failure's whole message in its
    # short summary ("full messages on CI"), so make check would show it twice there, and only there.
    for name in ("CI", "BUILD_NUMBER"):
        environment.pop(name, None)
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=environment, **options)


def test_tensorflow_imported_quietly_writes_no_log_lines_and_leaves_standard_error_working():
    """After import_tensorflow_quietly(), do TensorFlow's import and first operation write nothing about the
    machine, while what the program itself writes to standard error still shows?"""
    program = (
        "import sys\n"
        "from autograder.quiet import import_tensorflow_quietly\n"
        "import_tensorflow_quietly()\n"
        "import tensorflow as tf\n"
        "tf.reduce_sum(tf.ones(3)).numpy()\n"
        "print('a real problem', file=sys.stderr)\n"
    )
    done = run([sys.executable, "-c", program])
    assert done.returncode == 0, done.stderr
    assert noise_in(done.stdout + done.stderr) == []
    assert done.stderr.strip() == "a real problem"


@pytest.mark.slow
def test_mnist_grade_with_two_workers_prints_no_log_lines(tmp_path):
    """Does ``mnist-grade --jobs 2`` (spawned workers, each with its kernel factory) print only its gradebook, and
    leave TensorFlow to the workers (its own process, which only hands them students, never imports it)?"""
    for student, example in (("ana", "passes_all"), ("bo", "fails_units_25")):
        (tmp_path / "submitted" / student / "mnist").mkdir(parents=True)
        shutil.copy(
            EXAMPLE_SUBMISSIONS / example / "mnist" / "03_build.ipynb", tmp_path / "submitted" / student / "mnist"
        )
    mnist_grade_then_say_if_tensorflow_was_imported = (
        "import sys; from autograder.batch.cli import main; code = main(sys.argv[1:]); "
        "print('TensorFlow imported here:', 'tensorflow' in sys.modules); sys.exit(code)"
    )
    done = run(
        [
            sys.executable,
            "-c",
            mnist_grade_then_say_if_tensorflow_was_imported,
            str(tmp_path / "submitted"),
            "--output",
            str(tmp_path / "out"),
            "--jobs",
            "2",
            "--no-progress",
        ]
    )
    assert done.returncode == 0, done.stderr
    assert noise_in(done.stdout + done.stderr) == []
    assert done.stderr == ""
    assert "Most-failed checks: build_model (1)" in done.stdout
    assert done.stdout.splitlines()[-1] == "TensorFlow imported here: False"


@pytest.mark.slow
def test_selfcheck_shows_a_failed_checks_message_once_with_its_hint_and_no_log_lines(tmp_path):
    """Run as ``make check`` runs it (from the project, with its pytest settings), does a failing exercise show
    the check's message and hint exactly once, and nothing from TensorFlow or the kernel?"""
    shutil.copy(EXAMPLE_SUBMISSIONS / "fails_units_25" / "mnist" / "03_build.ipynb", tmp_path)
    done = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "autograder.selfcheck",
            "-p",
            "no:cacheprovider",
            "-k",
            "build_model",
        ],
        cwd=PROJECT_ROOT,
        env={"MNIST_LESSONS": str(tmp_path), "COLUMNS": "200"},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "1 failed" in output
    assert noise_in(output) == []
    assert output.count(BUILD_MODEL_MESSAGE) == 1, output
    assert output.count("Hint: Compare your layers with the spec") == 1, output
    assert "Captured stderr" not in output, output


@pytest.mark.slow
def test_the_kernel_factory_starts_without_writing_to_its_log():
    """Does the kernel factory import TensorFlow quietly, so its log (shown when it fails) keeps only what went
    wrong?"""
    from autograder.kernel.factory import KernelFactory

    factory = KernelFactory({"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MNIST_PATH": "synthetic"})
    try:
        assert factory.log.read_text(errors="replace") == ""
    finally:
        factory.close()
