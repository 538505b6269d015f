"""How to grade a class: :class:`GradingOptions`, in a module of its own that imports nothing heavy, so that a
``--jobs N`` worker can receive them before it has imported the grader (:mod:`autograder.batch.pool_worker`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.limits import Limits
from autograder.spec import RELEASED_LESSONS

DEFAULT_RELEASE = RELEASED_LESSONS


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
