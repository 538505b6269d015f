"""What one notebook may use while it is graded; the defaults are defined here once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Limits on one lesson notebook's kernel.

    Attributes:
        cell_timeout: Seconds one cell may run; then it is interrupted and the next cell runs.
        notebook_timeout: Seconds the whole notebook may take; then its kernel is stopped.
        memory_bytes: Memory (PSS: shared pages divided among their sharers) of the kernel and every process it
            started, together; above it the kernel is stopped. A training kernel of this course uses under 1 GB.
        max_processes: Processes the kernel may have running under it at once.
        output_bytes: Output (printed text, pictures) kept per notebook; the rest is dropped.
        disk_bytes: Disk space the kernel's temporary folder may grow by (its working folder, HOME, TMPDIR and
            what it writes to its standard error); above it the kernel is stopped. A lesson writes a few MB.
        max_files: Files and folders the kernel may create in that folder.
    """

    cell_timeout: float = 300
    notebook_timeout: float = 900
    memory_bytes: int = 3 * 2**30
    max_processes: int = 32
    output_bytes: int = 5 * 2**20
    disk_bytes: int = 2**30
    max_files: int = 10_000


def format_bytes(size: float) -> str:
    """``1.5 GB``, ``200 MB``, ``512 bytes``."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:g} bytes"
