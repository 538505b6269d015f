"""The kernel's sandbox and its copy of the course library: what a graded kernel can and cannot reach."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from support.paths import PROJECT_ROOT

from autograder.kernel.course_copy import answers_hidden_from, reference_for, write_kernel_library
from autograder.kernel.sandbox import kernel_rules, landlock_abi
from autograder.spec import SPEC

needs_landlock = pytest.mark.skipif(
    landlock_abi() < 1,
    reason="this Linux kernel has no Landlock (5.13+ with Landlock enabled); the sandbox is off here",
)


def run_sandboxed(rules: dict, code: str, **options) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh Python that first restricts itself with ``rules``."""
    program = (
        f"import json, sys\nsys.path.insert(0, {str(PROJECT_ROOT)!r})\n"
        "from autograder.kernel.sandbox import restrict_filesystem\n"
        f"restrict_filesystem(**json.loads({json.dumps(rules)!r}))\n" + textwrap.dedent(code)
    )
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, **options)


@needs_landlock
def test_the_sandbox_reads_python_and_its_folder_and_nothing_of_the_repository(tmp_path):
    library = write_kernel_library(tmp_path / "library", "03_build")
    rules = kernel_rules(str(tmp_path), str(library), None)
    result = run_sandboxed(
        rules,
        f"""
        import numpy
        open({str(tmp_path / "mine.txt")!r}, 'w').write('ok')
        for path in {[str(PROJECT_ROOT / "solutions" / "mnist" / "03_build.ipynb"), str(PROJECT_ROOT / "README.md")]!r}:
            try:
                open(path).read()
                print('READ', path)
            except PermissionError:
                print('denied')
        try:
            open({str(PROJECT_ROOT / "lessons" / "mnist" / "x.txt")!r}, 'w')
            print('WROTE')
        except PermissionError:
            print('denied')
    """,
        env={"TMPDIR": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["denied", "denied", "denied"]
    assert (tmp_path / "mine.txt").read_text() == "ok"
    assert not (PROJECT_ROOT / "lessons" / "mnist" / "x.txt").exists()


@needs_landlock
def test_the_sandbox_cannot_signal_or_read_the_grader(tmp_path):
    result = run_sandboxed(
        kernel_rules(str(tmp_path), str(tmp_path), None),
        """
        import os
        for attempt in (lambda: os.kill(os.getppid(), 0), lambda: open(f'/proc/{os.getppid()}/environ').read()):
            try:
                attempt()
                print('allowed')
            except PermissionError:
                print('denied')
    """,
        env={"TMPDIR": str(tmp_path), "HOME": str(tmp_path), "SECRET_TOKEN": "x"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == (["denied", "denied"] if landlock_abi() >= 6 else ["allowed", "denied"])


def test_each_lesson_hides_its_own_and_later_answers():
    assert answers_hidden_from("02_reshape") == {"flatten", "take_subset"} | answers_hidden_from("03_build")
    assert {"build_model", "compile_model", "train"} <= answers_hidden_from("03_build")
    assert answers_hidden_from("05_predict") == set(SPEC.lessons["05_predict"])


@pytest.mark.parametrize("lesson", list(SPEC.lessons))
def test_the_kernels_reference_has_only_earlier_answers(lesson, tmp_path):
    library = write_kernel_library(tmp_path, lesson)
    names = [name for name in ("flatten", "take_subset", "build_model", "compile_model", "train", "training_start")]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import autograder.reference as r, json; print(json.dumps([n for n in {names!r} if hasattr(r, n)]))",
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(library)},
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    present = set(json.loads(result.stdout))
    hidden = answers_hidden_from(lesson)
    assert not present & hidden
    assert present >= {"flatten", "take_subset", "build_model", "compile_model", "train"} - hidden


def test_the_train_checks_network_is_compiled_the_reference_way_without_the_answer(tmp_path):
    source, settings = reference_for("04_train", (PROJECT_ROOT / "autograder" / "reference.py").read_text())
    assert "def compile_model" not in source and "def training_start" in source
    assert settings["optimizer"]["class_name"] == SPEC.compile.optimizer
    assert (
        reference_for("03_build", source)[1] is None
        and "def training_start" not in reference_for("03_build", source)[0]
    )
