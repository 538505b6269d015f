"""The environments the tests run kernels and commands in, as an instructor's or a student's would be.

Both leave out pytest's marker: with PYTEST_CURRENT_TEST set, ipykernel stops forwarding what the kernel's
libraries write to file descriptor 2 (TensorFlow's C++ log lines), so a kernel started under pytest would
write less to stderr than it does outside pytest.
"""

from __future__ import annotations

import os
import re

# What TensorFlow writes to the process's standard error while it starts and trains, line by line.
TENSORFLOW_LOG_LINE = re.compile(
    r"absl::InitializeLog|oneDNN custom operations|cuda drivers|cuInit|cpu_feature_guard|^[IWEF]\d{4} \d\d:\d\d", re.M
)


def instructor_environment(**settings: str) -> dict[str, str]:
    """This process's environment without pytest's marker, with ``settings`` on top.

    nbgrader scores a check cell 0 when it wrote to stderr; without the marker the tests see the stderr an
    instructor's `nbgrader autograde` or an executed notebook would see.
    """
    env = {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}
    return {**env, **settings}


def student_environment() -> dict[str, str]:
    """This process's environment without pytest's marker and without TF_CPP_MIN_LOG_LEVEL, as a student's
    shell has it: TensorFlow's log reaches the kernel's stderr unless the lesson quiets it (otherwise a test
    of that would see nothing either way)."""
    return {
        name: value for name, value in os.environ.items() if name not in ("PYTEST_CURRENT_TEST", "TF_CPP_MIN_LOG_LEVEL")
    }
