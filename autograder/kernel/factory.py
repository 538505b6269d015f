"""Starts graded kernels by forking them from a process that has already imported TensorFlow.

The grader side of :mod:`autograder.kernel.factory_server`. :class:`ForkingProvisioner` is a Jupyter
kernel provisioner (registered in ``pyproject.toml``; a kernelspec selects it by name): instead of
starting ``python -m ipykernel``, it asks this grading process's factory for a fork. Everything else
(connection file, messages, interrupts, the watchdog's view of the kernel's processes) works as for
a kernel started the usual way, so a forked kernel is graded exactly like a started one.

The factory takes requests on its standard input, which only this process can write to: a kernel (a
fork of the factory, holding its memory) finds no socket to ask it for anything. It runs inside
bubblewrap where the machine allows (:mod:`autograder.kernel.isolation`), in PID and network namespaces of its
own: the pids it answers with are translated here (:func:`host_pid`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
from jupyter_client.provisioning import LocalProvisioner

import digits
from autograder.kernel.isolation import isolated
from autograder.protocol import CACHE_VARIABLE, SANDBOX_VARIABLE

PROVISIONER_NAME = "autograder-fork"
SERVER = Path(__file__).with_name("factory_server.py")
SANDBOX = Path(__file__).with_name("sandbox.py")
QUIET = (
    Path(__file__).parent.parent / "quiet.py"
)  # the server imports TensorFlow with it, so its log holds no start-up lines
DIGITS = Path(digits.__file__).resolve().parent  # the server keeps the data in memory with it (keep_digits)
# Variables that differ between notebooks; the rest of a kernel's environment is the factory's own. (pytest sets
# PYTEST_CURRENT_TEST per test: students' self-check would otherwise start a TensorFlow-loaded factory per test.)
PER_NOTEBOOK = ("HOME", "TMPDIR", "MPLCONFIGDIR", "PYTHONPATH", SANDBOX_VARIABLE, CACHE_VARIABLE, "PYTEST_CURRENT_TEST")


class FactoryError(RuntimeError):
    """The kernel factory could not start or stopped answering."""


def host_pid(root: psutil.Process, inner: int) -> int:
    """The pid, as this process sees it, of the process under ``root`` whose pid in its own namespace is ``inner``.

    Without a PID namespace the two are the same number.
    """
    for process in [root, *root.children(recursive=True)]:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                line = next(line for line in status if line.startswith("NSpid:"))
        except (OSError, StopIteration):
            continue
        if int(line.split()[-1]) == inner:
            return process.pid
    raise FactoryError(f"the kernel factory answered with pid {inner}, which is not one of its processes")


class KernelFactory:
    """One factory process, started with ``env`` (thread counts and log levels apply from its imports on).

    It runs isolated by bubblewrap where the machine allows (:mod:`autograder.kernel.isolation`), and takes requests
    only on its standard input, which only this process can write to. Each notebook's folder must be made under
    :attr:`workspace`, the one folder the factory and its kernels can write to.
    """

    def __init__(self, env: dict[str, str]):
        self.folder = tempfile.TemporaryDirectory(prefix="autograder-factory-")
        self.workspace = Path(self.folder.name)
        home = self.workspace / "home"
        home.mkdir()
        data = env.get("MNIST_PATH")
        scripts = [str(SERVER), str(SANDBOX), str(QUIET)]
        readable = [*scripts, str(DIGITS), *([os.path.realpath(data)] if data and os.path.exists(data) else [])]
        command = isolated(
            [sys.executable, *scripts, SANDBOX_VARIABLE, str(DIGITS.parent)],
            read=readable,
            workspace=str(self.workspace),
        )
        self.isolated = command[0] != sys.executable
        self.log = self.workspace / "factory.log"  # why the factory or a kernel could not start
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command,
                env={**env, "HOME": str(home), "MPLCONFIGDIR": str(home)},
                cwd=self.workspace,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                process_group=0,  # a Ctrl-C at the terminal is this process's to handle: see close()
            )
        assert self.process.stdin is not None and self.process.stdout is not None  # both PIPE, just above
        self._requests, self._replies = self.process.stdin, self.process.stdout  # the factory's only channel
        self._pid: int | None = None  # the factory's pid, as seen here, once it has said it is ready
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        """The factory's pid, as this process sees it; waits until the factory is ready (:meth:`wait_until_ready`)."""
        if self._pid is None:
            self.wait_until_ready()
        assert self._pid is not None  # set by wait_until_ready, which raises otherwise
        return self._pid

    def wait_until_ready(self) -> None:
        """Waits for the factory to say it takes requests (it has imported TensorFlow by then); at once if it has.

        Raises:
            FactoryError: The factory stopped before it was ready (it is closed: a new one must be started).
        """
        if self._pid is not None:
            return
        words = self._replies.readline().split()
        if words[:1] != ["ready"]:
            said = self.log.read_text(errors="replace").strip().splitlines()[-5:]
            self.close()
            raise FactoryError("the kernel factory did not start: " + (" / ".join(said) or "it printed nothing"))
        self._pid = host_pid(psutil.Process(self.process.pid), int(words[1]))

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> int:
        """Forks a kernel that runs ipykernel with ``argv`` in ``cwd`` with ``env``; returns its pid as seen here."""
        with self._lock:
            try:
                self._requests.write(json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n")
                self._requests.flush()
                reply = self._replies.readline()
            except OSError as error:
                raise FactoryError(f"the kernel factory stopped ({error})") from None
        if not reply:
            raise FactoryError("the kernel factory stopped")
        return host_pid(psutil.Process(self.pid), int(json.loads(reply)["pid"]))

    def processes(self) -> list[psutil.Process]:
        """Every process under the factory: the kernels and whatever they started, orphans included."""
        if self._pid is None:  # not ready: it has forked nothing
            return []
        try:
            return psutil.Process(self._pid).children(recursive=True)
        except psutil.Error:
            return []

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """Kills the factory and whatever bubblewrap started for it, then reaps it.

        Killing the process started is not always enough: bubblewrap's second process (the sandbox's first) waits
        for the first to set it up, then sets the sandbox up on its own, with no parent-death signal until it has
        forked the factory (bubblewrap issue #633). A first one killed in those milliseconds leaves it waiting
        forever, or starting a factory nobody will talk to (measured: closing a factory 1 to 3 ms after starting it
        left one in 6 to 25 of 40 tries). So once the first is dead, every process whose command line names this
        factory's workspace (bubblewrap's, which bind it) is killed too; the sandbox's first process takes its PID
        namespace with it, the factory and its kernels. The factory has a process group of its own
        (``process_group=0``), so a Ctrl-C at the terminal doesn't kill it behind this process's back.
        """
        self.process.kill()
        self.process.wait()
        workspace = str(self.workspace)
        for process in psutil.process_iter(["cmdline"]):
            if any(workspace in argument for argument in process.info["cmdline"] or []):
                with contextlib.suppress(psutil.Error):  # gone meanwhile
                    process.kill()
        for pipe in (self._requests, self._replies):
            pipe.close()
        self.folder.cleanup()


_FACTORIES: dict[tuple, KernelFactory] = {}


def _started_factory(env: dict[str, str]) -> KernelFactory:
    """This process's factory for ``env``'s shared environment, its process started if there was none running (it
    may not be ready yet)."""
    shared = {name: value for name, value in env.items() if name not in PER_NOTEBOOK}
    key = tuple(sorted(shared.items()))
    factory = _FACTORIES.get(key)
    if factory is None or not factory.alive():
        factory = _FACTORIES[key] = KernelFactory(shared)
    return factory


def factory_for(env: dict[str, str]) -> KernelFactory:
    """This process's factory for kernels whose shared environment is ``env``'s (started on first use), ready."""
    factory = _started_factory(env)
    factory.wait_until_ready()
    return factory


@contextlib.contextmanager
def factory_starting(env: dict[str, str]) -> Iterator[None]:
    """Starts the factory for ``env`` (:func:`factory_for`) as the block begins, and waits for it to be ready at the
    block's end.

    The block is meant to import TensorFlow in this process, as the factory does in its own: the two imports then
    share the machine's cores instead of taking turns (about 3 s sooner to the first kernel on two cores). The
    factory is started from this thread, never from a passing one: it dies with the thread that started it. A
    factory that cannot start is left for the first kernel to start again, which reports why. A block that raises
    (Ctrl-C during the import) doesn't wait: the factory is closed as this process exits.
    """
    with contextlib.suppress(OSError):  # the first kernel tries again, and says why
        _started_factory(env)
    yield
    with contextlib.suppress(FactoryError, OSError):
        factory_for(env)


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
        self.factory = factory_for(env)
        pid = self.factory.fork(cmd[cmd.index("-f") :], env, cwd)
        self.process = ForkedKernel(pid)  # type: ignore[assignment]  # a Popen to jupyter_client: pid, poll, wait, kill
        self.pid = self.pgid = pid  # the kernel starts its own session, so its group is its pid
        self.cwd = cwd
        return self.connection_info
