"""The disk limit's measure of a kernel's folder, and the limits as the command line shows them (no kernel)."""

from __future__ import annotations

import os

import pytest

from autograder.batch.cli import parse_arguments
from autograder.lesson.execute import _disk_use, _Watchdog
from autograder.limits import Limits


def test_disk_use_counts_blocks_written_not_apparent_size(tmp_path):
    """Does a 1 MB file count about 1 MB, and a 1 GB sparse file (nothing written) next to nothing?"""
    (tmp_path / "written.bin").write_bytes(b"x" * 2**20)
    with open(tmp_path / "sparse.bin", "wb") as sparse:
        sparse.truncate(2**30)
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "small.txt").write_text("hello")
    used, entries = _disk_use(tmp_path, max_files=100)
    assert 2**20 <= used < 2**20 + 64 * 2**10
    assert entries == 4


def test_disk_use_stops_counting_past_the_file_cap(tmp_path):
    """Does counting stop soon after the file cap (so a folder of a million files can't stall the watchdog)?"""
    for number in range(50):
        (tmp_path / str(number)).touch()
    assert _disk_use(tmp_path, max_files=10)[1] == 50  # one folder is listed whole
    nested = tmp_path / "a"
    for number in range(5):
        nested = nested / str(number)
        nested.mkdir(parents=True)
        (nested / "file").touch()
    assert _disk_use(tmp_path, max_files=10)[1] <= 60


@pytest.mark.parametrize(
    "written, files, reason",
    [
        (0, 0, ""),
        (
            3 * 2**20,
            0,
            "your notebook wrote more than 2 MB to disk (the limit per notebook), so its kernel was stopped",
        ),
        (0, 12, "your notebook created more than 10 files (the limit per notebook), so its kernel was stopped"),
    ],
)
def test_watchdog_names_the_disk_limit_crossed(tmp_path, written, files, reason):
    """Is growth past the disk or file limit, counted from when the notebook started, reported with the limit?"""
    (tmp_path / "there_before.bin").write_bytes(b"x" * 5 * 2**20)  # the kernel's library copy, say: not counted
    watchdog = _Watchdog(Limits(disk_bytes=2 * 2**20, max_files=10), tmp_path)
    if written:
        (tmp_path / "new.bin").write_bytes(os.urandom(written))
    for number in range(files):
        (tmp_path / f"f{number}").touch()
    assert watchdog.disk_reason() == reason


def test_command_line_offers_the_disk_limit_with_its_default():
    """Does mnist-grade take --disk-limit in MB, defaulting to the limits' 1 GB?"""
    assert parse_arguments(["submitted"]).disk_limit == Limits().disk_bytes / 2**20 == 1024
    assert parse_arguments(["submitted", "--disk-limit", "50"]).disk_limit == 50
