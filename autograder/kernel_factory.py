"""Starts graded kernels by forking them from a process that has already imported TensorFlow.

The grader side of :mod:`autograder.kernel_factory_server`. :class:`ForkingProvisioner` is a Jupyter
kernel provisioner (registered in ``pyproject.toml``; a kernelspec selects it by name): instead of
starting ``python -m ipykernel``, it asks this grading process's factory for a fork. Everything else
(connection file, messages, interrupts, the watchdog's view of the kernel's processes) works as for
a kernel started the usual way, so a forked kernel is graded exactly like a started one.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
from jupyter_client.provisioning import LocalProvisioner

PROVISIONER_NAME = "autograder-fork"
SERVER = Path(__file__).with_name("kernel_factory_server.py")
SANDBOX = Path(__file__).with_name("sandbox.py")
# Variables that differ between notebooks; the rest of a kernel's environment is the factory's own.
PER_NOTEBOOK = ("HOME", "TMPDIR", "MPLCONFIGDIR", "PYTHONPATH", "MNIST_PATH", "AUTOGRADER_SANDBOX")


class KernelFactory:
    """One factory process, started with ``env`` (thread counts and log levels apply from its imports on)."""

    def __init__(self, env: dict[str, str]):
        self.folder = tempfile.TemporaryDirectory(prefix="autograder-factory-")
        self.socket_path = str(Path(self.folder.name) / "factory.sock")
        home = Path(self.folder.name) / "home"
        home.mkdir()
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), self.socket_path, str(SANDBOX)],
            env={**env, "HOME": str(home), "MPLCONFIGDIR": str(home)}, cwd=self.folder.name,
            stdout=subprocess.PIPE, text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the kernel factory did not start; run a lesson notebook by hand to see why")

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> int:
        """Forks a kernel that runs ipykernel with ``argv`` in ``cwd`` with ``env``; returns its pid."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(self.socket_path)
            connection.sendall(json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = connection.recv(4096)
                if not chunk:
                    raise RuntimeError("the kernel factory stopped")
                reply += chunk
        return int(json.loads(reply)["pid"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self.folder.cleanup()


_FACTORIES: dict[tuple, KernelFactory] = {}


def factory_for(env: dict[str, str]) -> KernelFactory:
    """This process's factory for kernels whose shared environment is ``env``'s (started on first use)."""
    shared = {name: value for name, value in env.items() if name not in PER_NOTEBOOK}
    key = tuple(sorted(shared.items()))
    factory = _FACTORIES.get(key)
    if factory is None or not factory.alive():
        factory = _FACTORIES[key] = KernelFactory(shared)
    return factory


@atexit.register
def _close_factories() -> None:
    for factory in _FACTORIES.values():
        factory.close()
    _FACTORIES.clear()


class ForkedKernel:
    """The forked kernel, seen through the parts of ``subprocess.Popen`` that jupyter_client uses."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self._process = psutil.Process(pid)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        try:
            running = self._process.is_running() and self._process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            running = False
        if not running and self.returncode is None:
            self.returncode = -signal.SIGKILL  # not this process's child: its real exit code is the factory's
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        try:
            self._process.wait(timeout)
        except psutil.NoSuchProcess:
            pass
        return self.poll() or 0

    def send_signal(self, signum: int) -> None:
        try:
            self._process.send_signal(signum)
        except psutil.NoSuchProcess:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkingProvisioner(LocalProvisioner):
    """A provisioner whose kernels are forks of this process's :class:`KernelFactory`."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        env = kwargs.get("env") or dict(os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        pid = factory_for(env).fork(cmd[cmd.index("-f"):], env, cwd)
        self.process = ForkedKernel(pid)
        self.pid = self.pgid = pid  # the kernel starts its own session, so its group is its pid
        self.cwd = cwd
        return self.connection_info
