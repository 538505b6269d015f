"""When the grader takes a new kernel to be ready: once IOPub delivered the idle status of its kernel_info answer."""

from __future__ import annotations

import asyncio
import sys

import pytest
import zmq
from jupyter_client.manager import AsyncKernelManager

from autograder.lesson.execute import RECONNECT_INTERVAL_MS, ReadyOnIdleClient, execute

pytestmark = pytest.mark.kernel


async def started_kernel() -> tuple[AsyncKernelManager, ReadyOnIdleClient]:
    """Jupyter's python3 kernel, with a :class:`ReadyOnIdleClient` whose channels are started."""
    manager = AsyncKernelManager(kernel_name="python3")
    manager.client_factory = ReadyOnIdleClient
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    return manager, client


async def printed(client: ReadyOnIdleClient, code: str) -> str:
    """What ``code`` prints, read from IOPub up to the kernel's idle status for it."""
    request = client.execute(code)
    text = ""
    while True:
        message = await client.get_iopub_msg(timeout=30)
        if message["parent_header"].get("msg_id") != request:
            continue
        if message["msg_type"] == "stream":
            text += message["content"]["text"]
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return text


def ready_then(check) -> None:
    """Starts a kernel, waits until it is ready, runs ``check(client)``, and shuts the kernel down."""

    async def run() -> None:
        manager, client = await started_kernel()
        try:
            await client.wait_for_ready(timeout=60)
            await check(client)
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    asyncio.run(run())


def test_a_ready_kernel_has_read_its_start_up_messages_and_runs_the_first_cell():
    """Once ready, is nothing the kernel published while starting left unread, and does a first cell's output
    arrive?"""

    async def check(client: ReadyOnIdleClient) -> None:
        assert not await client.iopub_channel.msg_ready()
        assert await printed(client, "print(6 * 7)") == "42\n"
        for channel in (client.shell_channel, client.iopub_channel):  # ZeroMQ's default would be 100
            assert channel.socket.getsockopt(zmq.RECONNECT_IVL) == RECONNECT_INTERVAL_MS

    ready_then(check)


def test_an_idle_status_missed_is_asked_for_again(monkeypatch):
    """If the first kernel_info's idle status goes unseen (a subscription that joined late), does the client ask
    again, and leave nothing of the first round unread?"""
    seen = []
    idle_after = ReadyOnIdleClient._idle_after

    async def missing_the_first(self, request):
        seen.append(request)
        if len(seen) == 1:
            return False  # as if IOPub had connected after the kernel published this status
        return await idle_after(self, request)

    monkeypatch.setattr(ReadyOnIdleClient, "_idle_after", missing_the_first)

    async def check(client: ReadyOnIdleClient) -> None:
        assert len(seen) >= 2 and len(set(seen)) == len(seen)  # more rounds if the subscription really was late
        assert not await client.iopub_channel.msg_ready()
        assert await printed(client, "print('first cell')") == "first cell\n"

    ready_then(check)


def test_an_idle_status_for_another_request_does_not_count():
    """Does the client wait for the idle status of its own request, not take anyone's as the answer?"""

    async def check(client: ReadyOnIdleClient) -> None:
        client.execute("pass")  # goes busy and idle, with that request as parent
        assert await client._idle_after("a request the kernel never saw") is False

    ready_then(check)


def test_a_kernel_that_exits_at_once_is_reported_not_waited_for(tmp_path):
    """Does a kernel command that exits before answering stop the notebook with the reason, instead of hanging?"""
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('never runs')")])
    record = execute(notebook, cwd=str(tmp_path), kernel_argv=[sys.executable, "-c", "raise SystemExit(3)"])
    assert record.stopped == "RuntimeError: Kernel died before replying to kernel_info"
    assert notebook.cells[0].outputs == []
