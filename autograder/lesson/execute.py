"""Executes a notebook in a fresh Jupyter kernel, within :class:`~autograder.limits.Limits`.

- a cell over its time limit is interrupted, gets an error, and the next cell runs;
- the notebook over its time limit, or its kernel over the memory or process cap, stops: the kernel
  and every process under it are killed, and :attr:`Execution.stopped` says why;
- output beyond the output cap is dropped, so 100 MB printed costs the grader nothing;
- with ``kernel_argv``, the kernel is started by that command (the grader's sandbox) instead of the
  installed ``python3`` kernel.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any, TypeVarTuple, cast

import nbformat
import psutil
import zmq
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from autograder.limits import Limits, format_bytes

WATCH_INTERVAL = 0.2  # seconds between two looks at the kernel's memory and processes
OUTPUT_MESSAGES = {"stream", "display_data", "execute_result", "error"}
TIMEOUT_ERROR = "CellTimeoutError"
SEND_TIMEOUT = 10  # seconds the grader waits to hand the kernel a message
KILL_DEADLINE = 5  # seconds the grader keeps killing what a notebook left under its kernel factory
READY_IOPUB_WAIT = 0.1  # seconds a new kernel's idle status may take to arrive before the grader asks again
RECONNECT_INTERVAL_MS = 10  # how often the grader's sockets try a kernel's that isn't listening yet (ZeroMQ's: 100)


@dataclass
class Execution:
    """What happened when a notebook ran.

    Attributes:
        notebook: The notebook with the outputs of the cells that ran.
        stopped: Why execution stopped early ("" if every cell ran): a timeout, a cap, a dead kernel.
        cell_errors: Cell index -> "ErrorName: message" for each cell that raised or was interrupted.
        dropped_output_bytes: Output not kept because of the output cap.
        stopped_in: The index of the cell the kernel had begun (it said so) but not finished when execution stopped
            (None: no cell was running, or execution didn't stop).
    """

    notebook: nbformat.NotebookNode
    stopped: str = ""
    cell_errors: dict[int, str] = field(default_factory=dict)
    dropped_output_bytes: int = 0
    stopped_in: int | None = None


class ReadyOnIdleClient(AsyncKernelClient):
    """A kernel client that knows a new kernel is ready as soon as IOPub delivers the idle status of its answer.

    jupyter_client's own ``wait_for_ready`` asks for the kernel's info, then reads IOPub until it has been quiet for
    0.2 s, to drop what the kernel published while it started. The kernel had published all of it by then, so the
    0.2 s were pure waiting: a second per student over five lessons. The kernel publishes ``idle`` with the
    request as parent once it has answered, so reading IOPub up to that message drops the same messages, and proves
    as well that IOPub is connected. A subscription that connected too late to see it (a ZeroMQ subscriber misses
    what was published before it joined) just asks again after :data:`READY_IOPUB_WAIT` seconds.

    The client connects before the forked kernel listens, and ZeroMQ tries again every 100 ms by default, so a kernel
    that became ready sooner (the factory preloads ipykernel's debugger) was still heard from only at the next try:
    this client's sockets try every :data:`RECONNECT_INTERVAL_MS` instead. Measured on the 2-core machine, the wait for
    a new kernel to be ready took a median 0.38 s with jupyter_client's wait, 0.19 s with this one, and 0.1 s with the
    preload and the shorter interval as well (either alone gained nothing).
    """

    def start_channels(self, *args, **kwargs) -> None:
        self.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_INTERVAL_MS)  # for the sockets the channels create
        super().start_channels(*args, **kwargs)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            request = self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                if await self._idle_after(request):
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _idle_after(self, request: str) -> bool:
        """Reads IOPub up to the kernel's idle status for ``request``; False if it doesn't come in time."""
        while True:
            try:
                message = await self.iopub_channel.get_msg(timeout=READY_IOPUB_WAIT)
            except Empty:
                return False
            if (
                message["msg_type"] == "status"
                and message["content"].get("execution_state") == "idle"
                and message["parent_header"].get("msg_id") == request
            ):
                return True


class _CappedClient(NotebookClient):
    """A NotebookClient that keeps at most ``output_bytes`` of output in the notebook."""

    def __init__(self, notebook, output_bytes: int, before_cell=None, after_cell=None, **options):
        super().__init__(notebook, **options)
        self.output_bytes, self.kept_bytes, self.dropped_bytes = output_bytes, 0, 0
        self.timed_out: dict[int, str] = {}
        self.cell_index = -1  # the last cell started
        self.running_index = -1  # the last cell the kernel said it began (its execute_input message)
        self.finished_index = -1  # the last cell finished
        self.before_cell, self.after_cell = before_cell, after_cell
        self.on_cell_start = self._starting
        self.on_cell_executed = self._finished

    async def async_start_new_kernel_client(self):
        """Starts the client, whose messages to the kernel give up after :data:`SEND_TIMEOUT` seconds: a kernel that
        wrecks its own sockets must not hang the grader in a send that never returns.

        The heartbeat channel is stopped once the kernel is ready: the grader watches the kernel's process instead,
        and a heartbeat thread stuck in a send to a wrecked socket would hang the grader when it stops the channels.
        """
        client = await super().async_start_new_kernel_client()
        client.hb_channel.stop()
        for channel in (client.shell_channel, client.control_channel, client.stdin_channel):
            if channel.socket is not None:
                channel.socket.sndtimeo = int(SEND_TIMEOUT * 1000)
        return client

    def _starting(self, cell, cell_index) -> None:
        self.cell_index = cell_index
        if self.before_cell:
            self.before_cell(cell_index)

    def _finished(self, cell, cell_index, execute_reply) -> None:
        self.finished_index = cell_index
        if self.after_cell:
            succeeded = (execute_reply or {}).get("content", {}).get(
                "status"
            ) == "ok" and cell_index not in self.timed_out
            self.after_cell(cell_index, succeeded)

    def process_message(self, msg, cell, cell_index):
        if msg["msg_type"] == "execute_input":
            self.running_index = cell_index
        if msg["msg_type"] in OUTPUT_MESSAGES:
            size = len(json.dumps(msg["content"], default=str))
            if msg["msg_type"] == "error":
                content = msg["content"]  # keep the error itself, never a megabyte of it
                content["evalue"], content["traceback"] = str(content.get("evalue", ""))[:2000], []
            elif self.kept_bytes + size > self.output_bytes:
                self.dropped_bytes += size
                return None
            self.kept_bytes += size
        return super().process_message(msg, cell, cell_index)

    async def _async_handle_timeout(self, timeout, cell=None):
        if cell is not None:
            self.timed_out[self.cell_index] = (
                f"{TIMEOUT_ERROR}: the cell ran longer than its limit of {timeout:g} seconds and was interrupted"
            )
        return await super()._async_handle_timeout(timeout, cell)


class _Watchdog:
    """Looks at the kernel's process tree every :data:`WATCH_INTERVAL` seconds; kills it over a cap."""

    def __init__(self, limits: Limits, folder: Path | None = None):
        self.limits = limits
        self.reason = ""
        self.seen: set[psutil.Process] = set()
        self.group: int | None = None
        self.folder = folder  # the kernel's temporary folder, whose growth counts against the disk limit
        self.disk_baseline = _disk_use(folder, limits.max_files)[0] if folder else 0

    async def watch(self, manager: AsyncKernelManager) -> None:
        while not self.reason:
            await asyncio.sleep(WATCH_INTERVAL)
            pid = getattr(manager.provisioner, "pid", None) if manager.has_kernel else None
            if pid:
                self.look(pid, getattr(manager.provisioner, "factory", None))

    def look(self, pid: int, factory=None) -> None:
        """Notes the kernel's process tree; kills it if it is over a cap.

        With a kernel ``factory`` (:class:`~autograder.kernel.factory.KernelFactory`), the tree is every process
        under the factory, which serves one notebook at a time and adopts what a kernel orphans: a process started
        with two forks and a new session still counts, and is still killed.
        """
        try:
            kernel = psutil.Process(pid)
            # Under a factory, everything the kernel started is under the factory too: one walk of the process table.
            under = factory.processes() if factory is not None else kernel.children(recursive=True)
            tree = [kernel, *[process for process in under if process != kernel]]
            if self.group is None and os.getpgid(pid) != os.getpgid(0):
                self.group = os.getpgid(pid)
        except (psutil.Error, OSError):
            return
        self.seen.update(tree)
        if len(tree) - 1 > self.limits.max_processes:
            self.reason = (
                f"your notebook started more than {self.limits.max_processes} processes "
                "(the limit per notebook), so its kernel was stopped"
            )
        elif _over_memory(tree, self.limits.memory_bytes):
            self.reason = (
                f"your notebook used more than {format_bytes(self.limits.memory_bytes)} of memory "
                "(the limit per notebook), so its kernel was stopped"
            )
        elif self.folder is not None:
            self.reason = self.disk_reason()
        if self.reason:
            self.kill_all()

    def disk_reason(self) -> str:
        """Why the kernel's folder is over the disk limits, or "" while it is within them."""
        if self.folder is None:  # no folder, no disk limit
            return ""
        used, files = _disk_use(self.folder, self.limits.max_files)
        if files > self.limits.max_files:
            return (
                f"your notebook created more than {self.limits.max_files:,} files (the limit per notebook), "
                "so its kernel was stopped"
            )
        if used - self.disk_baseline > self.limits.disk_bytes:
            return (
                f"your notebook wrote more than {format_bytes(self.limits.disk_bytes)} to disk (the limit per "
                "notebook), so its kernel was stopped"
            )
        return ""

    def kill_all(self, factory=None) -> None:
        """Kills the kernel's process group, every process seen under the kernel that is still running, and every
        process now under the kernel ``factory`` (whoever its parent is)."""
        if self.group is not None:
            try:
                os.killpg(self.group, signal.SIGKILL)
            except OSError:
                pass
        _kill(list(self.seen))
        if factory is not None:  # until none is left: a process may have forked between the look and the kill
            deadline = time.monotonic() + KILL_DEADLINE
            while (
                left := [process for process in factory.processes() if _running(process)]
            ) and time.monotonic() < deadline:
                _kill(left)
                psutil.wait_procs(left, timeout=0.5)


def _running(process: psutil.Process) -> bool:
    """Whether the process still runs (a zombie has ended: it holds only its pid until it is reaped)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill(processes: list[psutil.Process]) -> None:
    for process in processes:
        try:
            if process.is_running():
                process.kill()
        except psutil.Error:
            pass


def _disk_use(folder: Path, max_files: int) -> tuple[int, int]:
    """(bytes of disk the files under ``folder`` occupy, files and folders counted): blocks really allocated, so
    a sparse file counts what it holds, not its apparent size. Stops counting past ``max_files`` entries."""
    used, entries, pending = 0, 0, [str(folder)]
    while pending and entries <= max_files:
        try:
            with os.scandir(pending.pop()) as listing:
                for entry in listing:
                    entries += 1
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        else:
                            used += entry.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        pass
        except OSError:
            pass
    return used, entries


def _summed(processes: list[psutil.Process], measure: Callable[[psutil.Process], int]) -> int:
    """``measure`` of each process that still runs, summed (one that has gone counts nothing)."""
    total = 0
    for process in processes:
        try:
            total += measure(process)
        except psutil.Error:
            pass
    return total


def _resident_bytes(processes: list[psutil.Process]) -> int:
    """Proportional set size (PSS) summed: a page shared by n processes counts 1/n in each, so a few forks of a
    big process (or of the kernel factory) are not counted as copies of it."""
    return _summed(processes, lambda process: process.memory_full_info().pss)


def _over_memory(processes: list[psutil.Process], limit: int) -> bool:
    """Whether the processes' summed PSS (:func:`_resident_bytes`) is over ``limit``.

    Reading a process's PSS means reading its whole memory map (about 13 ms for a kernel with TensorFlow loaded, five
    times a second), so the resident set size (RSS, read in microseconds) is summed first: a page in memory counts
    whole in the RSS of each process that maps it and 1/n in its PSS (n processes share it), so a PSS is never more
    than the RSS, and while the summed RSS is within the limit, so is the summed PSS.
    """
    resident = _summed(processes, lambda process: process.memory_info().rss)
    return resident > limit and _resident_bytes(processes) > limit


_Ts = TypeVarTuple("_Ts")


class _SignalsLeftAloneLoop(asyncio.SelectorEventLoop):
    """The event loop the grader runs a notebook on: it refuses to handle SIGINT and SIGTERM itself.

    nbclient asks the loop to handle both by shutting the kernel down, and nothing else: a Ctrl-C or a ``kill`` of
    the grader then only killed the student's kernel, the grader recorded "the kernel died" for that student and
    graded on. nbclient goes on without its handlers when the loop raises RuntimeError (as outside the main
    thread), so SIGINT stays KeyboardInterrupt (:func:`_interrupts_kept`) and SIGTERM ends the grader.
    """

    def add_signal_handler(self, sig: int, callback: Callable[[*_Ts], object], *args: *_Ts) -> None:
        if sig in (signal.SIGINT, signal.SIGTERM):
            raise RuntimeError(f"the grader leaves {signal.Signals(sig).name} to Python's default handling")
        super().add_signal_handler(sig, callback, *args)


@contextlib.contextmanager
def _interrupts_kept() -> Iterator[Callable[[], bool]]:
    """Makes Ctrl-C (SIGINT) raise KeyboardInterrupt at once, and yields a function that says whether one came.

    ``asyncio.Runner`` turns a SIGINT into cancelling its task, and raises KeyboardInterrupt only if the task ends
    cancelled. If the kernel dies at that moment (as it did when a Ctrl-C to the grader's process group reached its
    factory, before the factory had a group of its own), the task can end first with the kernel's death instead, and
    the interrupt is lost. With this handler installed, the
    runner keeps its hands off SIGINT; the caller raises KeyboardInterrupt after it if one came, whatever the task
    ended with. Only the main thread can handle signals: elsewhere, and under a handler someone else installed,
    nothing changes.
    """
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield lambda: False
        return
    came: list[int] = []

    def note_and_raise(signum, frame):
        came.append(signum)
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, note_and_raise)
    try:
        yield lambda: bool(came)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _kernel_manager(
    kernel_argv: list[str], provisioner: str | None, spec_folder: Path, connection_file: str | None
) -> AsyncKernelManager:
    """A kernel manager whose kernel is started with ``kernel_argv`` by ``provisioner`` (None: Jupyter's own),
    through a kernelspec written to ``spec_folder``."""
    kernelspec: dict[str, Any] = {"argv": kernel_argv, "display_name": "Autograder kernel", "language": "python"}
    if provisioner:
        kernelspec["metadata"] = {"kernel_provisioner": {"provisioner_name": provisioner}}
    (spec_folder / "autograder-kernel").mkdir(parents=True)
    (spec_folder / "autograder-kernel" / "kernel.json").write_text(json.dumps(kernelspec))
    manager = AsyncKernelManager(
        kernel_name="autograder-kernel", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_folder)])
    )
    if connection_file:
        manager.connection_file = connection_file
        # The kernel and the grader talk over Unix sockets in the kernel's own folder, never over TCP.
        manager.transport, manager.ip = "ipc", str(Path(connection_file).with_name("kernel-ipc"))
    return manager


def execute(
    notebook: nbformat.NotebookNode,
    *,
    cwd: str,
    env: dict[str, str] | None = None,
    limits: Limits = Limits(),
    kernel_argv: list[str] | None = None,
    provisioner: str | None = None,
    connection_file: str | None = None,
    kernel_name: str = "python3",
    before_cell: Callable[[int], None] | None = None,
    after_cell: Callable[[int, bool], None] | None = None,
    disk_folder: Path | None = None,
) -> Execution:
    """Runs every cell, carrying on after cells that raise or run over their time.

    Args:
        notebook: The notebook to run; its outputs are filled in place.
        cwd: The kernel's working folder.
        env: The kernel's environment (None: the grader's own).
        limits: Time, memory, process and output limits.
        kernel_argv: The command that starts the kernel, with ``{connection_file}`` (None: ``kernel_name``).
        provisioner: The Jupyter kernel provisioner that runs ``kernel_argv`` (None: Jupyter's local one).
        connection_file: Where the kernel's connection file goes (it must be readable by the kernel).
        kernel_name: The installed Jupyter kernel to start when ``kernel_argv`` is None.
        before_cell: Called with a cell's index just before it runs.
        after_cell: Called with a cell's index and whether it succeeded (no error, within its time) just after it ran,
            before the next cell starts.
        disk_folder: The folder the kernel writes in, held to the disk limits (None: no disk limit).

    Returns:
        The execution record; never raises for problems inside the notebook.
    """
    record = Execution(notebook)
    watchdog = _Watchdog(limits, disk_folder)
    with tempfile.TemporaryDirectory(prefix="autograder-kernelspec-") as spec_folder, _interrupts_kept() as interrupted:
        manager = _kernel_manager(kernel_argv, provisioner, Path(spec_folder), connection_file) if kernel_argv else None
        client = _CappedClient(
            notebook,
            limits.output_bytes,
            before_cell,
            after_cell,
            km=manager,
            kernel_name=kernel_name,
            timeout=limits.cell_timeout,
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMEOUT_ERROR, "evalue": "", "traceback": []},
            resources={"metadata": {"path": cwd}},
            record_timing=False,
        )

        factory = None  # the kernel factory the provisioner used, once the kernel has started

        async def run() -> None:
            if client.km is None:
                client.km = client.create_kernel_manager()
            manager = cast(AsyncKernelManager, client.km)  # ours, or nbclient's default kernel_manager_class
            manager.client_factory = ReadyOnIdleClient
            watching = asyncio.ensure_future(watchdog.watch(manager))
            try:
                options: dict[str, Any] = {"env": env} if env is not None else {}
                await asyncio.wait_for(
                    client.async_execute(cleanup_kc=False, **options), timeout=limits.notebook_timeout
                )
            finally:
                watching.cancel()
                nonlocal factory
                factory = getattr(manager.provisioner, "factory", None)
                if manager.has_kernel:
                    if pid := getattr(manager.provisioner, "pid", None):
                        watchdog.look(pid, factory)  # note what the kernel left running
                    await manager.shutdown_kernel(now=True)
                if client.kc is not None:
                    client.kc.stop_channels()

        started = time.monotonic()
        try:
            try:
                with asyncio.Runner(loop_factory=_SignalsLeftAloneLoop) as runner:
                    try:
                        runner.run(run())
                    except KeyboardInterrupt:
                        # The grader is stopping: the notebook's tasks end as they can (the kernel is gone), and the
                        # runner's shutdown would print each one's error.
                        runner.get_loop().set_exception_handler(lambda loop, context: None)
                        raise
            except Exception:
                if time.monotonic() - started >= limits.notebook_timeout:
                    # On the deadline nbclient is cancelled mid-poll and may report "Kernel died": the limit is the
                    # reason.
                    raise TimeoutError from None
                raise
        except TimeoutError:
            record.stopped = f"the notebook took longer than its limit of {limits.notebook_timeout:g} seconds"
        except DeadKernelError:
            record.stopped = "the kernel died (it crashed or was killed) while running a cell"
        except zmq.Again:
            record.stopped = (
                f"the kernel stopped taking messages from the grader for {SEND_TIMEOUT} seconds "
                "(a cell may have broken its connection)"
            )
        except Exception as error:  # noqa: BLE001 - a kernel that won't start, ...
            record.stopped = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".strip()
        finally:
            watchdog.kill_all(factory)  # whatever the student left running, under the kernel or its factory
            atexit.unregister(client._cleanup_kernel)  # nbclient leaves it registered when a kernel fails to start
        if interrupted():
            raise KeyboardInterrupt  # the grader was stopped: this notebook's result would be the interrupt's
    if watchdog.reason:
        record.stopped = watchdog.reason
    record.dropped_output_bytes = client.dropped_bytes
    if record.stopped and client.running_index >= 0 and client.finished_index != client.running_index:
        record.stopped_in = client.running_index  # sent and begun, never finished (a cell never sent doesn't count)
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                record.cell_errors[index] = f"{output.get('ename')}: {output.get('evalue')}"
        if index in client.timed_out:
            record.cell_errors[index] = client.timed_out[index]
    return record
