"""Starts a student's kernel inside a filesystem sandbox (Linux Landlock), then runs ipykernel.

The grader starts kernels as ``python -m autograder.kernel.sandbox -f {connection_file}`` with the sandbox's
rules in the ``AUTOGRADER_SANDBOX`` environment variable (JSON: ``{"read": [...], "write": [...]}``).
Before any student code runs, this process restricts itself, and so every process it starts, to:

- reading (and executing) only the paths under ``read``: the Python installation, the grader's copy
  of the course library for this lesson, the data source;
- reading and writing only the paths under ``write``: the kernel's own temporary folder;
- binding and connecting no TCP port (Landlock ABI 4 and later);
- signalling and tracing only processes inside the sandbox, and connecting to no abstract Unix socket made
  outside it (Landlock ABI 6 and later).

Everything else (the repository's ``solutions/`` and ``autograder/``, other submissions, the
gradebook, ``~/.keras``) fails with ``PermissionError``. Landlock does not cover Unix sockets named by a
path, UDP, or ``/proc/self/net/unix``: the kernel factory's bubblewrap does (:mod:`autograder.kernel.isolation`).
Landlock needs no privileges, cannot be undone by the sandboxed process, and is in Linux since 5.13; where it is
missing the kernel runs without it (:func:`landlock_abi` says which) and the README says what that leaves open.

This module uses only the standard library: it runs before anything else in the kernel.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import runpy
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: at run time this module imports nothing but the standard library
    from autograder.protocol import SandboxRules

# Landlock's system calls have the same numbers on every architecture (they're newer than the split).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights, by the ABI version that introduced them.
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_CHANGE_TREE = sum(1 << bit for bit in range(4, 13))  # remove/make dirs, files, sockets, fifos, devices, symlinks
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_BIND_TCP, _CONNECT_TCP = 1 << 0, 1 << 1  # network rights (ABI 4); with no rule granting a port, none is allowed


class _RulesetAttributes(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttributes(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The Landlock ABI version this Linux kernel offers; 0 when Landlock is unavailable."""
    if platform.system() != "Linux":
        return 0
    version = _libc().syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def _handled_rights(abi: int) -> int:
    rights = _EXECUTE | _WRITE_FILE | _READ_FILE | _READ_DIR | _CHANGE_TREE
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    if abi >= 5:
        rights |= _IOCTL_DEV
    return rights


def _fail(what: str) -> OSError:
    errno = ctypes.get_errno()
    return OSError(errno, f"Landlock: {what} failed: {os.strerror(errno)}")


def restrict_filesystem(read: list[str], write: list[str]) -> int:
    """Restricts this process and its future children to ``read`` (read-only) and ``write`` (read-write), and to
    no TCP port.

    Paths that don't exist are skipped. Irreversible for this process.

    Returns:
        The Landlock ABI version used, or 0 when Landlock is unavailable (nothing was restricted).
    """
    abi = landlock_abi()
    if abi < 1:
        return 0
    libc = _libc()
    handled = _handled_rights(abi)
    network = _BIND_TCP | _CONNECT_TCP if abi >= 4 else 0
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0
    attributes = _RulesetAttributes(handled, network, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8  # older kernels know only the first fields
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attributes), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise _fail("creating the ruleset")
    try:
        read_rights = _EXECUTE | _READ_FILE | _READ_DIR
        for paths, rights in ((read, read_rights), (write, handled)):
            for path in paths:
                _allow(libc, ruleset, path, rights)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _fail("setting no_new_privs")
        if libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            raise _fail("restricting the process")
    finally:
        os.close(ruleset)
    return abi


def _allow(libc, ruleset: int, path: str, rights: int) -> None:
    try:
        descriptor = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path that doesn't exist on this machine grants nothing
    try:
        if not os.path.isdir(path):
            rights &= _FILE_ONLY_RIGHTS
        rule = _PathBeneathAttributes(rights, descriptor)
        if (
            libc.syscall(
                _ADD_RULE, ruleset, ctypes.c_uint32(_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0)
            )
            != 0
        ):
            raise _fail(f"allowing {path}")
    finally:
        os.close(descriptor)


SYSTEM_READ_PATHS = (
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/bin",
    "/sbin",
    "/etc",
    "/dev",
    "/sys",
    "/proc/self",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/sys",
)
SYSTEM_WRITE_PATHS = ("/dev/null",)


def kernel_rules(temporary: str, library: str, data: str | None) -> SandboxRules:
    """The sandbox's rules for one graded notebook.

    Args:
        temporary: The notebook's temporary folder (working folder, HOME, observations): read-write.
        library: The grader's copy of the course library for this lesson (:mod:`autograder.kernel.course_copy`).
        data: The data source (MNIST_PATH), if it is a file or folder.

    Returns:
        ``{"read": [...], "write": [...]}`` for :func:`restrict_filesystem`.
    """
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    read = [*SYSTEM_READ_PATHS, *sorted({os.path.realpath(path) for path in python} | python), library]
    if data and os.path.exists(data):
        read.append(os.path.realpath(data))
    return {"read": read, "write": [temporary, *SYSTEM_WRITE_PATHS]}


def main() -> None:
    """Applies the rules from ``AUTOGRADER_SANDBOX`` (if set), then runs ipykernel with this process's arguments."""
    # Imported here, not above: the kernel factory loads this file by path and must not import the course packages.
    from autograder.protocol import SANDBOX_VARIABLE

    rules = os.environ.pop(SANDBOX_VARIABLE, None)  # absent: no sandbox
    if rules is not None:
        restrict_filesystem(**json.loads(rules))
    sys.argv = ["ipykernel_launcher", *sys.argv[1:]]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
