"""Lessons opened in JupyterLab in headless Chromium, as a student sees them: helpers for
tests/course/test_browser.py, and a maintainer's script that runs every lesson of a folder in the browser and saves
a picture of each.

The browser is Debian's ``chromium`` (``make browser-tools`` installs it), driven by Playwright; never Playwright's
own browser download. JupyterLab runs from this venv on a free port of 127.0.0.1, with its settings, runtime files
and log in a folder of its own, and the lessons load the synthetic digits unless ``MNIST_PATH`` says otherwise.

Screenshot every lesson of a folder (here the solutions, so that every check passes)::

    .venv/bin/python tests/support/browser.py solutions/mnist /tmp/browser-shots
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

JUPYTER = Path(sys.executable).with_name("jupyter")

# JupyterLab's user settings for these runs: every cell in the page (so its text can be read and photographed),
# and no toast asking about Jupyter news over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}

# Reads every cell of the open notebook as the page shows it; see RenderedCell.
READ_CELLS_JS = """
() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')].map(cell => ({
    kind: cell.classList.contains('jp-CodeCell') ? 'code' : \
cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
    source: [...cell.querySelectorAll('.jp-InputArea-editor .cm-line')].map(line => line.textContent).join('\\n'),
    prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
    output: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText).join('\\n'),
    stderr_styled: [...cell.querySelectorAll('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(o => o.innerText).join('\\n'),
    green: [...cell.querySelectorAll('.jp-OutputArea .ansi-green-fg')].map(span => span.textContent).join('\\n'),
    yellow: [...cell.querySelectorAll('.jp-OutputArea .ansi-yellow-fg')].map(span => span.textContent).join('\\n'),
    red: [...cell.querySelectorAll('.jp-OutputArea .ansi-red-fg')].map(span => span.textContent).join('\\n'),
}))
"""

# Whether the open notebook has a kernel (its toolbar names one) and the kernel is idle.
KERNEL_IS_IDLE_JS = """
() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const name = panel && panel.querySelector('.jp-KernelName');
    const indicator = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
    return Boolean(name && indicator && !['', 'No Kernel'].includes(name.textContent.trim())
                   && indicator.dataset.status === 'idle');
}
"""


@dataclass(frozen=True)
class RenderedCell:
    """One notebook cell as the page shows it.

    Attributes:
        kind: ``"code"``, ``"markdown"`` or ``"raw"``.
        source: The cell's text in its editor (empty for a rendered markdown cell).
        prompt: The execution prompt, e.g. ``"[3]:"``, ``"[*]:"`` while queued or running, ``"[ ]:"`` never run.
        output: The text of all its outputs, as rendered (ANSI colours turned into styles, not escape codes).
        stderr_styled: The text of its outputs styled as standard error: what the code wrote to stderr, and the
            exceptions it raised (JupyterLab draws both alike, on a red background).
        green: The output text shown in green (a passed check); ``yellow`` and ``red`` likewise.
    """

    kind: str
    source: str
    prompt: str
    output: str
    stderr_styled: str
    green: str
    yellow: str
    red: str


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab server.

    Attributes:
        url: Its base URL, e.g. ``http://127.0.0.1:41234``.
        token: The token that lets a browser or a request in.
        root: The folder it serves.
        log: The file its output goes to.
    """

    url: str
    token: str
    root: Path
    log: Path

    def notebook_url(self, relative_path: str) -> str:
        """The URL that opens ``relative_path`` (under the root) in JupyterLab, logged in, alone: ``reset`` drops
        the workspace, which would open again (with their kernels) the notebooks opened before."""
        return f"{self.url}/lab/tree/{relative_path}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        """Calls the server's REST API and returns the decoded JSON answer (None for an empty one)."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else None


def chromium_executable() -> str | None:
    """The system's Chromium (Debian's ``chromium`` package), or None when there is none."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_lab_settings(settings_dir: Path) -> None:
    """Writes :data:`LAB_SETTINGS` as JupyterLab user settings under ``settings_dir``."""
    for relative, values in LAB_SETTINGS.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def lab_environment(base: dict[str, str], work: Path) -> dict[str, str]:
    """``base`` with Jupyter's and IPython's config, data, runtime and settings folders under ``work``, so a run
    neither reads nor changes the user's, and the synthetic digits unless ``base`` names other MNIST data."""
    folders = {
        "JUPYTER_CONFIG_DIR": work / "config",
        "JUPYTER_DATA_DIR": work / "data",
        "JUPYTER_RUNTIME_DIR": work / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": work / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": work / "lab-workspaces",
        "IPYTHONDIR": work / "ipython",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    write_lab_settings(folders["JUPYTERLAB_SETTINGS_DIR"])
    return {"MNIST_PATH": "synthetic", **base, **{name: str(folder) for name, folder in folders.items()}}


def wait_until_serving(lab: Lab, process: subprocess.Popen, timeout: float = 90) -> None:
    """Polls the server's status API until it answers; raises RuntimeError if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}; see {lab.log}")
        try:
            lab.api("status")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s; see {lab.log}")


def shut_down_kernels(lab: Lab) -> None:
    """Ends every kernel session of the server (a page closed in the browser leaves its kernel running)."""
    for session in lab.api("sessions"):
        lab.api(f"sessions/{session['id']}", method="DELETE")


def stop_lab(lab: Lab, process: subprocess.Popen) -> None:
    """Shuts the server down with its kernels: through its API first, then by signal; ends any kernel left."""
    try:
        server = psutil.Process(process.pid)
        started = server.children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    try:
        lab.api("shutdown", method="POST")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for child in started:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(started, timeout=10)


@contextmanager
def running_lab(root: Path, work: Path, base_environment: dict[str, str] | None = None) -> Iterator[Lab]:
    """JupyterLab serving ``root`` on a free port of 127.0.0.1, stopped with its kernels on leaving.

    Args:
        root: The folder it serves (and where the kernels of its notebooks start).
        work: A folder of its own for its settings, runtime files and log (``jupyter-lab.log``).
        base_environment: The environment for the server and its kernels, before the Jupyter folders and
            ``MNIST_PATH`` are set; ``os.environ`` when None.
    """
    port, token = free_port(), secrets.token_hex(16)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=work / "jupyter-lab.log")
    environment = lab_environment(dict(os.environ if base_environment is None else base_environment), work)
    command = [
        str(JUPYTER),
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    with open(lab.log, "wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_until_serving(lab, process)
        yield lab
    finally:
        stop_lab(lab, process)


@contextmanager
def headless_chromium() -> Iterator[object]:
    """Playwright's Browser on the system's Chromium, headless, closed on leaving.

    Raises:
        FileNotFoundError: There is no ``chromium`` executable.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    if executable is None:
        raise FileNotFoundError("no chromium executable on PATH (make browser-tools installs Debian's)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"], headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_notebook(browser, lab: Lab, relative_path: str, console_log: Path, timeout_ms: float = 60_000):
    """A new page showing the notebook in JupyterLab with its kernel started and idle.

    Args:
        browser: Playwright's Browser.
        lab: The server.
        relative_path: The notebook's path under the server's root.
        console_log: The file the page's console messages are appended to.
        timeout_ms: How long to wait for the page and the kernel.
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log = console_log.open("a")
    page.on("console", lambda message: log.write(f"{relative_path}: {message.type}: {message.text}\n"))
    page.on("close", lambda _: log.close())
    page.goto(lab.notebook_url(relative_path), timeout=timeout_ms)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first.wait_for(timeout=timeout_ms)
    wait_for_idle_kernel(page, timeout_ms)
    return page


def wait_for_idle_kernel(page, timeout_ms: float) -> None:
    """Waits until the notebook's toolbar names its kernel and shows it idle (the indicator also reads idle for a
    moment before the page has a kernel, when Run All would clear the cells instead of running them)."""
    page.wait_for_function(f"() => ({KERNEL_IS_IDLE_JS})()", timeout=timeout_ms, polling=100)


def run_all_cells(page, timeout_s: float = 600, start_timeout_s: float = 30) -> None:
    """Runs every cell as a student does, through the menu Run > Run All Cells, and waits until none is queued or
    running and the kernel is idle (cells after one that raised are never run, as in JupyterLab).

    Raises:
        RuntimeError: No cell was queued or run within ``start_timeout_s`` seconds.
        TimeoutError: Cells were still queued or running after ``timeout_s`` seconds.
    """
    page.locator("#jp-MainMenu .lm-MenuBar-item", has_text="Run").first.click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    clicked = time.monotonic()
    while time.monotonic() - clicked < timeout_s:
        prompts = [cell.prompt.strip() for cell in read_cells(page) if cell.kind == "code"]
        started = any(prompt not in ("[ ]:", "") for prompt in prompts)
        if started and not any("*" in prompt for prompt in prompts) and kernel_is_idle(page):
            return
        if not started and time.monotonic() - clicked > start_timeout_s:
            raise RuntimeError(f"Run All Cells ran no cell within {start_timeout_s:.0f} s")
        page.wait_for_timeout(250)
    raise TimeoutError(f"the notebook's cells were still running after {timeout_s:.0f} s")


def kernel_is_idle(page) -> bool:
    """Whether the notebook's toolbar names its kernel and shows it idle now."""
    return page.evaluate(KERNEL_IS_IDLE_JS)


def read_cells(page) -> list[RenderedCell]:
    """Every cell of the open notebook, as the page shows it now."""
    return [RenderedCell(**cell) for cell in page.evaluate(READ_CELLS_JS)]


def save_screenshot(page, path: Path, max_height: int = 30_000) -> Path:
    """Saves a picture of the whole notebook, top to bottom, to ``path`` (a PNG).

    JupyterLab scrolls the notebook inside a fixed-height page, so a full-page screenshot alone would show only
    the first screen: the window is made as tall as the notebook's cells first (at most ``max_height`` pixels).
    """
    height = page.evaluate("""() => {
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
        const scroller = panel && panel.querySelector('.jp-WindowedPanel-outer');
        const cells = panel ? panel.querySelectorAll('.jp-Notebook .jp-Cell') : [];
        if (!scroller || !cells.length) return window.innerHeight;
        const top = scroller.getBoundingClientRect().top;
        const lastCellBottom = cells[cells.length - 1].getBoundingClientRect().bottom - top + scroller.scrollTop;
        return top + lastCellBottom + 80;  // the status bar and a margin under the last cell
    }""")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(max(int(height), 900), max_height)})
    page.evaluate("""() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer')
        ?.scrollTo(0, 0)""")
    page.wait_for_timeout(500)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def screenshot_lessons(folder: Path, out_dir: Path) -> list[Path]:
    """Opens each lesson notebook of ``folder`` (copied to a temporary folder first) in JupyterLab in headless
    Chromium, runs all its cells and saves a picture of it to ``out_dir/<lesson>.png``.

    Returns:
        The pictures' paths, one per lesson, in the lessons' order.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = []
    with tempfile.TemporaryDirectory(prefix="browser-lessons-") as scratch:
        root, work = Path(scratch) / "lessons", Path(scratch) / "work"
        shutil.copytree(folder, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        work.mkdir()
        try:
            with running_lab(root, work) as lab, headless_chromium() as browser:
                for notebook in sorted(root.glob("*.ipynb")):
                    started = time.monotonic()
                    page = open_notebook(browser, lab, notebook.name, work / "browser-console.log")
                    run_all_cells(page)
                    pictures.append(save_screenshot(page, out_dir / f"{notebook.stem}.png"))
                    page.close()
                    shut_down_kernels(lab)
                    print(f"{notebook.name}: {pictures[-1]} ({time.monotonic() - started:.0f} s)")
        except Exception:
            print_log_tails(work, ("jupyter-lab.log", "browser-console.log"))
            raise
    return pictures


def print_log_tails(work: Path, names: tuple[str, ...], lines: int = 30) -> None:
    """Prints the last ``lines`` lines of each log in ``work`` to stderr (before its temporary folder goes)."""
    for name in names:
        path = work / name
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            print(f"--- last lines of {name} ---", *tail, sep="\n", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} FOLDER_OF_LESSONS OUT_DIR")
    screenshot_lessons(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
