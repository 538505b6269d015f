"""make test-fast's --no-kernels: a test that starts a kernel without the `kernel` or `slow` marker fails."""

from __future__ import annotations

from support.paths import TESTS

STARTS_A_KERNEL_AND_CATCHES_THE_REFUSAL = """
from jupyter_client.manager import KernelManager


def test_starts_a_kernel():
    try:
        KernelManager().start_kernel()
    except RuntimeError:
        pass  # code under test that swallows errors must not hide the kernel it tried to start
"""
STARTS_THE_FACTORY = """
import pytest

from autograder.kernel.factory import factory_for


@pytest.mark.kernel
def test_marked():
    factory_for({})


def test_unmarked():
    factory_for({})
"""
STARTS_NOTHING = """
def test_plain():
    assert 1 + 1 == 2
"""


def with_course_conftest(pytester):
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    pytester.makeini("[pytest]\nmarkers =\n    kernel: starts a kernel\n")


def test_a_kernel_started_unmarked_fails_even_when_the_refusal_is_caught(pytester):
    """Does a test that starts a Jupyter kernel and swallows the refusal still fail, naming the marker?"""
    with_course_conftest(pytester)
    pytester.makepyfile(test_starts=STARTS_A_KERNEL_AND_CATCHES_THE_REFUSAL)
    result = pytester.runpytest_inprocess("--no-kernels", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)  # the test body passes; its teardown says what it did
    result.stdout.fnmatch_lines(["*this test started a Jupyter kernel: mark it `kernel` (or `slow`)*"])


def test_the_kernel_factory_unmarked_fails_and_a_marked_test_is_left_out(pytester):
    """With -m "not kernel", is the marked test deselected and the unmarked one that starts the factory failed?"""
    with_course_conftest(pytester)
    pytester.makepyfile(test_factory=STARTS_THE_FACTORY)
    result = pytester.runpytest_inprocess("--no-kernels", "-m", "not kernel", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, errors=1, deselected=1)
    result.stdout.fnmatch_lines(["*this test started the kernel factory*"])


def test_a_test_that_starts_nothing_passes(pytester):
    """Does --no-kernels leave a test that starts no kernel alone?"""
    with_course_conftest(pytester)
    pytester.makepyfile(test_plain=STARTS_NOTHING)
    pytester.runpytest_inprocess("--no-kernels", "-p", "no:cacheprovider").assert_outcomes(passed=1)
