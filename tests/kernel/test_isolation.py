"""Bubblewrap around the kernel factory: what a process inside can and cannot reach, and what --help says."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import pytest
from support.paths import PROJECT_ROOT

from autograder.kernel import isolation
from autograder.kernel.isolation import bubblewrap, describe_isolation, isolated, isolation_status

NEEDS_BUBBLEWRAP = pytest.mark.skipif(
    bubblewrap() is None,
    reason="bubblewrap is not installed or this machine forbids its user namespaces (install Debian's bubblewrap)",
)


def run_isolated(code: str, workspace, read=()) -> subprocess.CompletedProcess:
    command = isolated(
        [sys.executable, "-c", textwrap.dedent(code)], read=[str(path) for path in read], workspace=str(workspace)
    )
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_without_bubblewrap_the_command_runs_as_it_is(monkeypatch, tmp_path):
    """Where bubblewrap can't run, is the factory's command left unchanged (and graded kernels still start)?"""
    monkeypatch.setattr(isolation, "bubblewrap", lambda: None)
    assert isolated(["python", "server.py"], read=["/data"], workspace=str(tmp_path)) == ["python", "server.py"]


def test_help_says_which_protections_this_machine_lacks(monkeypatch):
    """Does --help's text mark the bubblewrap protections NOT enforced when bubblewrap is missing?"""
    monkeypatch.setattr(isolation, "bubblewrap", lambda: None)
    text = describe_isolation()
    assert "no usable bubblewrap" in text
    for what, enforced in isolation_status():
        assert f"{'enforced    ' if enforced else 'NOT enforced'}  {what}" in text
    assert any("NOT enforced" in line and "Unix sockets by path" in line for line in text.splitlines())


@NEEDS_BUBBLEWRAP
def test_inside_only_the_workspace_python_and_what_is_given_exist(tmp_path):
    """Can an isolated process write its workspace and read what it was given, but not see the repository?"""
    workspace, given, beside = tmp_path / "workspace", tmp_path / "data.npz", tmp_path / "other_student.json"
    workspace.mkdir()
    given.write_text("digits")
    beside.write_text("{}")
    result = run_isolated(
        f"""
        import os
        open({str(workspace / "mine.txt")!r}, 'w').write('ok')
        print(open({str(given)!r}).read())
        print(os.path.exists({str(PROJECT_ROOT / "solutions")!r}), os.path.exists('/var/run'),
              os.path.exists({str(beside)!r}))
    """,
        workspace,
        read=[given],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["digits", "False", "False", "False"]
    assert (workspace / "mine.txt").read_text() == "ok"


@NEEDS_BUBBLEWRAP
def test_inside_no_socket_of_the_machine_can_be_reached_or_listed(tmp_path):
    """Are the machine's Unix sockets, its loopback TCP and UDP ports out of reach, and its socket table hidden?"""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    with (
        socket.socket(socket.AF_UNIX) as unix,
        socket.socket() as tcp,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
    ):
        unix.bind(str(tmp_path / "docker.sock"))
        unix.listen()
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(1)
        result = run_isolated(
            f"""
            import socket
            for family, address in ((socket.AF_UNIX, {str(tmp_path / "docker.sock")!r}),
                                    (socket.AF_INET, ('127.0.0.1', {tcp.getsockname()[1]}))):
                try:
                    socket.socket(family).connect(address)
                    print('connected', address)
                except OSError as error:
                    print('refused', type(error).__name__)
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'out', ('127.0.0.1', {udp.getsockname()[1]}))
            print(open('/proc/self/net/unix').read().count('docker.sock'))
        """,
            workspace,
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith("refused") and lines[1].startswith("refused") and lines[2] == "0", lines
        with pytest.raises(TimeoutError):
            udp.recvfrom(10)
