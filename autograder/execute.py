"""Executes a notebook in a fresh Jupyter kernel, with a per-cell and a per-notebook time limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError


@dataclass
class Execution:
    """What happened when a notebook ran.

    Attributes:
        notebook: The notebook with the outputs of the cells that ran.
        stopped: Why execution stopped early ("" if every cell ran): a timeout or a dead kernel.
        cell_errors: Cell index -> "ErrorName: message" for each cell that raised.
    """

    notebook: nbformat.NotebookNode
    stopped: str = ""
    cell_errors: dict[int, str] = field(default_factory=dict)


def execute(notebook: nbformat.NotebookNode, *, cwd: str, env: dict[str, str] | None = None,
            cell_timeout: float = 300, notebook_timeout: float = 900, kernel_name: str = "python3") -> Execution:
    """Runs every cell, carrying on after cells that raise.

    Args:
        notebook: The notebook to run; its outputs are filled in place.
        cwd: The kernel's working folder.
        env: The kernel's environment (None: the grader's own).
        cell_timeout: Seconds one cell may take.
        notebook_timeout: Seconds the whole notebook may take.
        kernel_name: The Jupyter kernel to start.

    Returns:
        The execution record; never raises for problems inside the notebook.
    """
    client = NotebookClient(notebook, timeout=cell_timeout, kernel_name=kernel_name, allow_errors=True,
                            resources={"metadata": {"path": cwd}}, record_timing=False)
    record = Execution(notebook)
    start_options = {"env": env} if env is not None else {}

    async def run() -> None:
        await client.async_execute(**start_options)

    try:
        asyncio.run(asyncio.wait_for(run(), timeout=notebook_timeout))
    except TimeoutError:
        record.stopped = f"the notebook took longer than its limit of {notebook_timeout:g} seconds"
    except DeadKernelError:
        record.stopped = "the kernel died (it crashed or was killed) while running a cell"
    except Exception as error:  # noqa: BLE001 - a cell over its own limit, a kernel that won't start, ...
        record.stopped = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".strip()
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                record.cell_errors[index] = f"{output.get('ename')}: {output.get('evalue')}"
    return record
