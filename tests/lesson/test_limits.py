"""The watchdog's measures of a kernel's memory and folder, and the limits as the command line shows them (no
kernel)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from autograder.batch.cli import parse_arguments
from autograder.lesson.execute import _disk_use, _over_memory, _resident_bytes, _Watchdog
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


def test_memory_over_the_limit_is_the_summed_pss_whatever_the_rss():
    """Is a tree of processes over the memory limit exactly when their summed PSS is: not when only their RSS
    is, as for four processes sharing the same 200 MB, whose RSS counts it four times and whose PSS counts it once?"""
    sharing = (
        "import os, sys, time\n"
        "pages = bytearray(200 * 2**20)\n"
        "for start in range(0, len(pages), 4096):\n"
        "    pages[start] = 1\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        break\n"
        "sys.stdout.write('ready\\n')  # one write: with PYTHONUNBUFFERED, print's two writes can interleave\n"
        "sys.stdout.flush()\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", sharing], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert parent.stdout is not None
        for _ in range(4):
            assert parent.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        tree = [psutil.Process(parent.pid), *psutil.Process(parent.pid).children()]
        rss, pss = sum(process.memory_info().rss for process in tree), _resident_bytes(tree)
        assert len(tree) == 4 and rss > 4 * 200 * 2**20 > 200 * 2**20 < pss < 2 * 200 * 2**20
        assert not _over_memory(tree, (rss + pss) // 2)  # the RSS is over this limit; the PSS, the measure, is not
        assert _over_memory(tree, pss - 2**20)
        assert not _over_memory(tree, rss + 2**20)
    finally:
        os.killpg(parent.pid, 9)
        parent.wait()
