"""Runs the kernel factory inside bubblewrap: its own user, mount, network, PID and IPC namespaces.

Landlock (:mod:`autograder.kernel.sandbox`) limits which files a kernel may open, which TCP ports it may bind or
connect to, and which processes and abstract sockets it may reach, but not Unix sockets named by a path
(``/var/run/docker.sock``), UDP, or the machine's socket table in ``/proc/self/net/unix``. So the kernel
factory, and every kernel forked from it, runs inside bubblewrap (Debian's ``bubblewrap``, the sandbox
Flatpak uses), which gives it:

- a filesystem of read-only system folders, the Python installation, the data source and the factory's
  two scripts, plus one read-write folder (the factory's workspace, where each notebook gets its own folder);
  nothing else exists in it: no ``/var/run``, no home folders, no repository;
- a network namespace of its own: no interface but its own loopback, so no TCP, UDP or abstract Unix socket
  outside it can be reached, and ``/proc/self/net/unix`` lists only its own sockets;
- a PID namespace with its own ``/proc``: it sees no process but its own, and when the grader dies (even by
  SIGKILL) the namespace's first process dies with it, and the Linux kernel kills every process in it;
- no capabilities, a new terminal session, and no further user namespaces.

Bubblewrap is started once per grading worker, so it costs the kernels nothing per notebook. Where it is
missing, or the machine forbids the user namespaces it needs, the factory runs without it and
:func:`isolation_status` says what is then not enforced (the README has the same table).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable

from autograder.kernel.sandbox import landlock_abi

# Folders of the system a Python with TensorFlow and Matplotlib needs, read-only. /etc only in part: no secrets.
SYSTEM_FOLDERS = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin")
SYSTEM_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/fonts",
    "/etc/alternatives",
    "/sys/devices/system/cpu",
)
NAMESPACES = (
    "--unshare-user",
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--disable-userns",
)


@functools.cache
def bubblewrap() -> str | None:
    """The ``bwrap`` command if it is installed and this machine lets it create its namespaces, else None."""
    command = shutil.which("bwrap")
    if command is None:
        return None
    try:
        probe = subprocess.run(
            [command, *NAMESPACES, "--die-with-parent", "--ro-bind", "/", "/", "true"], capture_output=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return command if probe.returncode == 0 else None


def _bind(option: str, paths: Iterable[str]) -> list[str]:
    """Bind options for the paths that exist; a symbolic link at the top (``/lib -> usr/lib``) stays a link."""
    arguments: list[str] = []
    for path in dict.fromkeys(paths):
        if os.path.islink(path) and os.path.dirname(path) == "/":
            arguments += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            arguments += [option, path, path]
    return arguments


def python_folders() -> list[str]:
    """The folders of this Python installation (a virtual environment and the Python it was made from)."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    return sorted(folders | {os.path.realpath(folder) for folder in folders})


def isolated(command: list[str], *, read: Iterable[str], workspace: str) -> list[str]:
    """``command`` run by bubblewrap with :data:`SYSTEM_FOLDERS`, the Python installation and ``read`` read-only,
    ``workspace`` read-write, and nothing else; ``command`` unchanged when bubblewrap is unavailable."""
    bwrap = bubblewrap()
    if bwrap is None:
        return command
    return [
        bwrap,
        *NAMESPACES,
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",  # first: a bind under /tmp goes on top of the tmpfs
        *_bind("--ro-bind", [*SYSTEM_FOLDERS, *SYSTEM_FILES, *python_folders(), *read]),
        *_bind("--bind", [workspace]),
        "--chdir",
        workspace,
        "--",
        *command,
    ]


def isolation_status() -> list[tuple[str, bool]]:
    """What a graded kernel is kept from on this machine: (what, whether it is enforced here)."""
    abi, bwrap = landlock_abi(), bubblewrap() is not None
    return [
        ("reading or writing files outside its folder, the Python installation and the data (Landlock)", abi >= 1),
        ("binding or connecting TCP ports (Landlock ABI 4)", abi >= 4 or bwrap),
        ("signalling processes outside its sandbox, abstract Unix sockets (Landlock ABI 6)", abi >= 6 or bwrap),
        ("Unix sockets by path outside its folder, UDP, the machine's socket table (bubblewrap)", bwrap),
        ("seeing other processes; its processes outliving a grader killed with SIGKILL (bubblewrap)", bwrap),
        ("asking the kernel factory for anything (the factory takes requests only on its grader's pipe)", True),
        ("leaving processes running after its notebook (the factory adopts and the grader kills them)", True),
    ]


def describe_isolation() -> str:
    """One line per protection, saying whether this machine enforces it (for ``mnist-grade --help``)."""
    abi = landlock_abi()
    head = (f"On this machine: Landlock ABI {abi}" if abi else "On this machine: no Landlock") + (
        ", bubblewrap usable." if bubblewrap() else ", no usable bubblewrap (install Debian's bubblewrap)."
    )
    lines = [f"  {'enforced    ' if enforced else 'NOT enforced'}  {what}" for what, enforced in isolation_status()]
    return "\n".join([head, *lines])
