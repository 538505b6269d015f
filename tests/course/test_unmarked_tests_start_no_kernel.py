"""A test without the `kernel` or `slow` marker that starts a kernel fails, in every run: `make test` (what CI runs)
keeps `make test-fast`, which leaves the marked tests out, kernel-free."""

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
MARKED_IS_LEFT_ALONE = """
import pytest
from jupyter_client.manager import AsyncKernelManager, KernelManager

from autograder.kernel.factory import KernelFactory

def refusals():
    starts = [KernelManager.start_kernel, KernelManager._async_start_kernel, AsyncKernelManager.start_kernel,
              KernelFactory.__init__]  # as they are while the test runs
    return [start.__qualname__ for start in starts if "no_kernels_unless_marked" in start.__qualname__]


@pytest.mark.kernel
def test_marked_kernel():
    assert refusals() == []


@pytest.mark.slow
def test_marked_slow():
    assert refusals() == []


def test_unmarked():
    assert refusals() == []  # fails: the known-wrong case, which shows refusals() can see them
"""
STARTS_NOTHING = """
def test_plain():
    assert 1 + 1 == 2
"""


def with_course_conftest(pytester):
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    # The conftest imports support/, which a run in its own process finds here (tests/ on the path would hide the
    # digits package behind tests/digits/).
    (pytester.mkdir("importable") / "support").symlink_to(TESTS / "support", target_is_directory=True)
    markers = "markers =\n    kernel: starts a kernel\n    slow: trains or executes notebooks\n"
    pytester.makeini(f"[pytest]\npythonpath = importable\n{markers}")


def test_a_kernel_started_unmarked_fails_even_when_the_refusal_is_caught(pytester):
    """Does a test that starts a Jupyter kernel and swallows the refusal still fail, naming the marker?"""
    with_course_conftest(pytester)
    pytester.makepyfile(test_starts=STARTS_A_KERNEL_AND_CATCHES_THE_REFUSAL)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)  # the test body passes; its teardown says what it did
    result.stdout.fnmatch_lines(["*this test started a Jupyter kernel: mark it `kernel` (or `slow`)*"])


def test_the_kernel_factory_unmarked_fails_and_a_marked_test_is_left_out(pytester):
    """With -m "not kernel" (make test-fast), is the marked test deselected and the unmarked one that starts the
    factory failed?"""
    with_course_conftest(pytester)
    pytester.makepyfile(test_factory=STARTS_THE_FACTORY)
    result = pytester.runpytest_inprocess("-m", "not kernel", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, errors=1, deselected=1)
    result.stdout.fnmatch_lines(["*this test started the kernel factory*"])


def test_a_marked_test_may_start_kernels(pytester):
    """Are a `kernel` and a `slow` test given the real ways to start a kernel and the factory, not the refusals?"""
    with_course_conftest(pytester)
    pytester.makepyfile(test_marked=MARKED_IS_LEFT_ALONE)
    # In a process of its own: in this one, this unmarked test's own refusals are in place.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*FAILED test_marked.py::test_unmarked*"])


def test_a_test_that_starts_nothing_passes(pytester):
    """Is an unmarked test that starts no kernel left alone?"""
    with_course_conftest(pytester)
    pytester.makepyfile(test_plain=STARTS_NOTHING)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
