"""Grading-speed benchmark: this grader at --jobs 1 and --jobs 2 against `nbgrader autograde`, and the floor.

    .venv/bin/python benchmarks/grading_speed.py                      # 8 example students, every part (~25 min)
    .venv/bin/python benchmarks/grading_speed.py --students 2 --only jobs1,floor    # a quick smoke run

In one invocation, one after another, it grades the same submissions three ways (each into its own temporary
folder, through the public command lines only):

* ``mnist-grade SUBMITTED --jobs 1 --force`` and ``--jobs 2``;
* ``nbgrader generate_assignment mnist`` then ``nbgrader autograde mnist --create --force`` in a temporary
  nbgrader course (source = solutions, release = lessons, submitted = the same notebooks), really executing;

and measures each one's wall time and the peak resident memory of its process tree (psutil, every 0.2 s).
The *floor* is what the students' own cells cost once TensorFlow is imported and the data are in memory: one
kernel per solution notebook, :data:`FLOOR_PRELOAD` untimed (what the grader's kernel factory has done before it
forks a kernel: the imports, and MNIST kept in memory), then every code cell timed in order.

Ratios are only meaningful within one run: the machine's load changes between runs. Nothing is written to the
repository; the temporary folders are removed unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbclient
import nbformat
import psutil
from nbgrader_course import ASSIGNMENT, CELL_TIMEOUT, make_nbgrader_course

from autograder.protocol import CACHE_VARIABLE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT_ROOT / "examples" / "submissions"
SOLUTIONS = PROJECT_ROOT / "solutions" / ASSIGNMENT
LESSONS = PROJECT_ROOT / "lessons" / ASSIGNMENT
VENV_BIN = Path(sys.executable).parent
PARTS = ("floor", "jobs1", "jobs2", "nbgrader")  # also the order they run in
SAMPLE_SECONDS = 0.2
HEARTBEAT_SECONDS = 60
MIB = 1024**2
FLOOR_IMPORTS = "import tensorflow, keras, numpy, matplotlib"
# What the kernel factory's kernels find done (autograder/kernel/factory_server.py): the imports, the synthetic
# digits' glyphs rendered, and the data source's MNIST kept in memory, so a lesson's load_data() is a copy.
FLOOR_PRELOAD = "\n".join(
    [FLOOR_IMPORTS, "from digits import mnist, synthetic", "synthetic.make_digits(1)", "mnist.keep_in_memory()"]
)

# Issue 12's goals.
GOAL_JOBS2_VS_NBGRADER = 4.5
GOAL_JOBS1_VS_NBGRADER = 2.5
GOAL_OVERHEAD_SECONDS = 3.0  # the grader's own CPU per student: everything but the lessons' own cells
GOAL_WORKER_MIB = 1.5 * 1024  # 1.5 GiB


@dataclass
class MemoryPeaks:
    """The largest resident memory seen while a process tree ran.

    Attributes:
        total_mib: Peak of the summed PSS of the whole tree (a page shared by n processes counts 1/n in each).
        worker_mib: Peak PSS of one worker: a direct child of the root with its descendants, or the whole
            tree when the root does the work itself (mnist-grade --jobs 1, nbgrader).
        root_mib: Peak PSS of the root process alone.
        most_processes: The most processes the tree held at once.
        samples: How many samples were taken.
    """

    total_mib: float = 0.0
    worker_mib: float = 0.0
    root_mib: float = 0.0
    most_processes: int = 0
    samples: int = 0


@dataclass
class CpuUse:
    """How busy the machine was while something ran: a measure of how noisy its time is.

    Attributes:
        own_seconds: CPU seconds used by the run's process tree (sampled with its memory: a process's last
            0.2 s, and processes living less than 0.2 s, are missed).
        others_share: The share of all cores' time used by everything else on the machine meanwhile (0-1).
    """

    own_seconds: float = 0.0
    others_share: float = 0.0


def machine_busy_share(busy_seconds: float, own_seconds: float, wall_seconds: float) -> float:
    """The share (0-1) of all cores' time that processes other than one's own used over a wall-clock span.

    Args:
        busy_seconds: CPU seconds all cores were busy over the span (:func:`busy_cpu_seconds` difference).
        own_seconds: CPU seconds one's own processes used over it.
        wall_seconds: The span's length.
    """
    if wall_seconds <= 0:
        return 0.0
    return max(busy_seconds - own_seconds, 0.0) / (wall_seconds * (os.cpu_count() or 1))


def busy_cpu_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (everything but idle and I/O wait)."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    counted = sum(getattr(times, name) for name in times._fields if name not in ("guest", "guest_nice"))
    return counted - idle


@dataclass
class TimedRun:
    """One timed grading run.

    Attributes:
        name: "jobs1", "jobs2" or "nbgrader".
        command: The command that was timed.
        students: Students graded.
        seconds: Wall time of the command.
        memory: Peak memory of its process tree.
        returncode: The command's exit status.
        log: Where its stdout and stderr went.
        cpu: Its own CPU time and how busy the rest of the machine was meanwhile.
        checks: Sanity checks on what it wrote (e.g. "gradebook has 8 rows"), each with whether it held.
    """

    name: str
    command: list[str]
    students: int
    seconds: float
    memory: MemoryPeaks
    returncode: int
    log: str
    cpu: CpuUse = field(default_factory=CpuUse)
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the command succeeded and every sanity check held."""
        return self.returncode == 0 and all(self.checks.values())

    @property
    def seconds_per_student(self) -> float:
        """Wall time divided by the number of students."""
        return self.seconds / self.students


@dataclass
class NotebookFloor:
    """One solution notebook run cell by cell in one kernel.

    Attributes:
        notebook: The notebook's name.
        kernel_start_seconds: Starting the kernel until it answered.
        import_seconds: The untimed-in-the-floor :data:`FLOOR_PRELOAD` (imports and the data kept in memory).
        cell_seconds: Each code cell's execute request to reply, in order.
        seconds_by_kind: The same summed by kind: "answer" (nbgrader solution cells), "check" (graded
            cells), "given" (everything else).
        cell_errors: Cells that raised, as "index: ErrorName".
    """

    notebook: str
    kernel_start_seconds: float
    import_seconds: float
    cell_seconds: list[float]
    seconds_by_kind: dict[str, float]
    cell_errors: list[str]

    @property
    def seconds(self) -> float:
        """The notebook's share of the floor: its answer and given cells. Check cells are grading work,
        which each grader does its own way (nbgrader in the kernel, ours partly outside it), so they are
        reported apart and not counted."""
        return self.seconds_by_kind["answer"] + self.seconds_by_kind["given"]


# --- the command line and the circumstances ----------------------------------------------------------------


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """Reads the command line.

    Args:
        argv: The arguments (None: sys.argv).

    Returns:
        The options, with ``parts`` the ordered list of parts to run.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--students",
        type=int,
        default=8,
        help="students to grade: the 8 example students, cycled under new names beyond 8 "
        "(fewer than 8: a quick smoke run) (default: %(default)s)",
    )
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated parts to run, of {','.join(PARTS)} (default: all)"
    )
    parser.add_argument("--skip-nbgrader", action="store_true", help="don't run nbgrader autograde")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders and print where they are")
    arguments = parser.parse_args(argv)
    if arguments.students < 1:
        parser.error("--students must be at least 1")
    wanted = {part.strip() for part in arguments.only.split(",") if part.strip()}
    unknown = wanted - set(PARTS)
    if unknown:
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    if arguments.skip_nbgrader:
        wanted.discard("nbgrader")
    arguments.parts = [part for part in PARTS if part in wanted]
    return arguments


def git_commit() -> str:
    """The short commit of the working tree, with "+dirty" when it has changes ("unknown" outside git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if git_status() else "")


def git_status() -> str:
    """``git status --porcelain`` of the repository, untracked files included ("" when clean or not git)."""
    try:
        return subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def status_changes(before: str, after: str) -> list[str]:
    """The ``git status --porcelain`` lines that appeared ("+ ...") or went away ("- ...") between two calls."""
    old, new = set(before.splitlines()), set(after.splitlines())
    return [f"+ {line}" for line in sorted(new - old)] + [f"- {line}" for line in sorted(old - new)]


def choose_data_source() -> str:
    """Sets MNIST_PATH=synthetic when it is unset, so every run reads the same digits; says which they are."""
    if os.environ.get("MNIST_PATH"):
        return f"MNIST_PATH={os.environ['MNIST_PATH']} (from the environment)"
    os.environ["MNIST_PATH"] = "synthetic"
    return "MNIST_PATH=synthetic (it was unset, so this script set it for every run: the synthetic digits)"


def environment_with_venv() -> dict[str, str]:
    """This process's environment with the venv's bin first on PATH: nbgrader runs `alembic` by name."""
    return {**os.environ, "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])}


# --- the students ---------------------------------------------------------------------------------------------


def choose_students(count: int) -> list[tuple[str, Path]]:
    """The students to grade: the example students in name order, cycled under new names past the eighth.

    Args:
        count: How many students.

    Returns:
        (name, folder holding that student's ``mnist/*.ipynb``) pairs.
    """
    examples = sorted(path for path in EXAMPLES.iterdir() if (path / ASSIGNMENT).is_dir())
    chosen = []
    for index in range(count):
        example = examples[index % len(examples)]
        copy = index // len(examples)
        chosen.append((example.name if copy == 0 else f"{example.name}_copy{copy + 1}", example))
    return chosen


def lay_out_submissions(students: list[tuple[str, Path]], submitted: Path) -> None:
    """Copies each student's notebooks to ``submitted/<name>/mnist/``, nbgrader's layout.

    Args:
        students: (name, example folder) pairs from :func:`choose_students`.
        submitted: The folder to fill; created.
    """
    for name, example in students:
        shutil.copytree(example / ASSIGNMENT, submitted / name / ASSIGNMENT)


# --- measuring a process tree -------------------------------------------------------------------------------


class TreeSampler(threading.Thread):
    """Samples the PSS and CPU time of a process and all its descendants every ``interval`` seconds.

    Keeps the memory peaks and the CPU seconds the tree used since the first sample (per process, the last
    value seen, less what it had already used at the first sample).

    Args:
        pid: The root process.
        per_child_workers: Whether a worker is each direct child with its descendants (mnist-grade --jobs N>1);
            otherwise the whole tree is one worker.
        interval: Seconds between samples.
    """

    def __init__(self, pid: int, *, per_child_workers: bool, interval: float = SAMPLE_SECONDS):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.per_child_workers = per_child_workers
        self.interval = interval
        self.peaks = MemoryPeaks()
        self.latest_total_mib = 0.0
        self.cpu_seen: dict[tuple[int, float], float] = {}  # (pid, create time) -> last CPU seconds seen
        self.cpu_baseline: dict[tuple[int, float], float] | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Samples until :meth:`stop` or until the root process is gone."""
        while not self._stop_event.is_set():
            if not self.sample():
                break
            self._stop_event.wait(self.interval)

    def stop(self) -> MemoryPeaks:
        """Stops sampling and returns the peaks."""
        self._stop_event.set()
        self.join()
        return self.peaks

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) the tree used since the first sample."""
        baseline = self.cpu_baseline or {}
        return sum(seconds - baseline.get(key, 0.0) for key, seconds in self.cpu_seen.items())

    def sample(self) -> bool:
        """Takes one sample; returns False when the root process has gone."""
        root_rss = rss_of(self.root)
        if root_rss is None:
            return False
        children = safe_children(self.root, recursive=False)
        subtrees = [[child, *safe_children(child, recursive=True)] for child in children]
        subtree_rss = [sum(rss_of(process) or 0 for process in subtree) for subtree in subtrees]
        for process in [self.root, *(process for subtree in subtrees for process in subtree)]:
            self.note_cpu(process)
        if self.cpu_baseline is None:
            self.cpu_baseline = dict(self.cpu_seen)
        total = root_rss + sum(subtree_rss)
        worker = max(subtree_rss, default=0) if self.per_child_workers else total
        peaks = self.peaks
        peaks.total_mib = max(peaks.total_mib, total / MIB)
        peaks.worker_mib = max(peaks.worker_mib, worker / MIB)
        peaks.root_mib = max(peaks.root_mib, root_rss / MIB)
        peaks.most_processes = max(peaks.most_processes, 1 + sum(len(subtree) for subtree in subtrees))
        peaks.samples += 1
        self.latest_total_mib = total / MIB
        return True

    def note_cpu(self, process: psutil.Process) -> None:
        """Records a process's CPU seconds so far, if it is still there."""
        try:
            with process.oneshot():
                times = process.cpu_times()
                key = (process.pid, process.create_time())
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return
        self.cpu_seen[key] = times.user + times.system


def rss_of(process: psutil.Process) -> int | None:
    """A process's proportional set size (PSS) in bytes, or None if it has gone.

    PSS, not RSS: kernels forked from the grader's kernel factory share TensorFlow's pages with it, and
    RSS would count those pages once per process.
    """
    try:
        return process.memory_full_info().pss
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


def safe_children(process: psutil.Process, *, recursive: bool) -> list[psutil.Process]:
    """A process's children (all descendants if ``recursive``); empty if it has gone."""
    try:
        return process.children(recursive=recursive)
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return []


def run_measured(
    name: str, command: list[str], *, cwd: Path, log: Path, students: int, per_child_workers: bool
) -> TimedRun:
    """Runs a command to completion, timing it and sampling its process tree's memory.

    Args:
        name: The run's name, for progress lines.
        command: The command.
        cwd: Its working folder.
        log: Where its stdout and stderr go.
        students: Students it grades.
        per_child_workers: See :class:`TreeSampler`.

    Returns:
        The timed run (its sanity checks still empty).
    """
    print(f"[{name}] {shlex.join(command)}", flush=True)
    with log.open("w", encoding="utf-8") as output:
        busy_before = busy_cpu_seconds()
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environment_with_venv(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        sampler = TreeSampler(process.pid, per_child_workers=per_child_workers)
        sampler.start()
        try:
            returncode = wait_with_heartbeat(name, process, sampler, started)
        except BaseException:
            stop_process_group(process)
            raise
        seconds = time.perf_counter() - started
        memory = sampler.stop()
        own = sampler.cpu_seconds
        cpu = CpuUse(own, machine_busy_share(busy_cpu_seconds() - busy_before, own, seconds))
    print(
        f"[{name}] finished in {seconds:.1f} s (exit status {returncode}; {cpu.own_seconds:.0f} CPU s; other "
        f"processes used {cpu.others_share:.0%} of the machine meanwhile); log: {log}",
        flush=True,
    )
    if returncode != 0:
        print(f"[{name}] FAILED; the end of its log:\n{tail(log)}", flush=True)
    return TimedRun(name, command, students, seconds, memory, returncode, str(log), cpu)


def wait_with_heartbeat(name: str, process: subprocess.Popen, sampler: TreeSampler, started: float) -> int:
    """Waits for a process, printing elapsed time and memory every HEARTBEAT_SECONDS; returns its exit status."""
    while True:
        try:
            return process.wait(timeout=HEARTBEAT_SECONDS)
        except subprocess.TimeoutExpired:
            print(
                f"[{name}]   ... {time.perf_counter() - started:.0f} s, "
                f"tree PSS now {sampler.latest_total_mib:.0f} MiB",
                flush=True,
            )


def stop_process_group(process: subprocess.Popen) -> None:
    """Terminates the process group this script started for ``process`` (on Ctrl-C or an error)."""
    try:
        os.killpg(process.pid, 15)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, 9)
        except ProcessLookupError:
            pass


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a text file."""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


# --- the three timed runs -----------------------------------------------------------------------------------


def warm_up() -> float:
    """Imports TensorFlow once, untimed in the results, so the first timed run doesn't pay a cold disk cache."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR_IMPORTS], env=environment_with_venv(), capture_output=True, check=False)
    return time.perf_counter() - started


def run_ours(jobs: int, submitted: Path, release: Path, work: Path, students: int) -> TimedRun:
    """Grades the class with ``mnist-grade --jobs J --force`` into its own folder, and checks what it wrote.

    Args:
        jobs: Students graded at once.
        submitted: The submitted/ folder.
        release: The released lessons (the snapshot taken at the start).
        work: A folder of this run's own (output and log go here).
        students: How many students are in submitted/.

    Returns:
        The timed run; its checks: a gradebook with a row per student.
    """
    output = work / "output"
    command = [
        str(VENV_BIN / "mnist-grade"),
        str(submitted),
        "--output",
        str(output),
        "--jobs",
        str(jobs),
        "--release",
        str(release),
        "--force",
        "--no-progress",
    ]
    run = run_measured(
        f"jobs{jobs}", command, cwd=work, log=work / "mnist-grade.log", students=students, per_child_workers=jobs > 1
    )
    rows = gradebook_rows(output / "gradebook.csv")
    run.checks[f"gradebook.csv has a row per student ({rows}/{students})"] = rows == students
    return run


def gradebook_rows(path: Path) -> int:
    """Rows of a CSV file below its header (0 if it is missing)."""
    if not path.exists():
        return 0
    with path.open(encoding="utf-8", newline="") as file:
        return max(len(list(csv.reader(file))) - 1, 0)


def run_nbgrader(submitted: Path, snapshot: Path, root: Path, students: int) -> TimedRun:
    """``nbgrader generate_assignment`` (untimed), then ``nbgrader autograde`` timed, in a temporary course.

    Args:
        submitted: The submitted/ folder.
        snapshot: The folder holding the start's copies of solutions/mnist and lessons/mnist.
        root: An empty folder for the nbgrader course.
        students: How many students are in submitted/.

    Returns:
        The timed autograde run; its checks: generate_assignment succeeded, every notebook was autograded.
    """
    make_nbgrader_course(
        root,
        solutions=snapshot / "solutions" / ASSIGNMENT,
        lessons=snapshot / "lessons" / ASSIGNMENT,
        submissions={student.name: student / ASSIGNMENT for student in sorted(submitted.iterdir())},
    )
    nbgrader = str(VENV_BIN / "nbgrader")
    generate = subprocess.run(
        [nbgrader, "generate_assignment", ASSIGNMENT, "--force"],
        cwd=root,
        env=environment_with_venv(),
        capture_output=True,
        text=True,
    )
    (root / "generate_assignment.log").write_text(generate.stdout + generate.stderr, encoding="utf-8")
    if generate.returncode != 0:
        print(f"[nbgrader] generate_assignment FAILED:\n{generate.stdout}{generate.stderr}", flush=True)
    command = [nbgrader, "autograde", ASSIGNMENT, "--create", "--force"]
    run = run_measured(
        "nbgrader", command, cwd=root, log=root / "autograde.log", students=students, per_child_workers=False
    )
    expected = students * len(list((snapshot / "lessons" / ASSIGNMENT).glob("*.ipynb")))
    autograded = len(list((root / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")))
    run.checks["generate_assignment succeeded"] = generate.returncode == 0
    run.checks[f"every notebook autograded ({autograded}/{expected})"] = autograded == expected
    return run


# --- the floor ------------------------------------------------------------------------------------------------


def cell_kind(cell: nbformat.NotebookNode) -> str:
    """ "check" for nbgrader's graded cells, "answer" for its solution cells, "given" for the rest."""
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade"):
        return "check"
    return "answer" if meta.get("solution") else "given"


async def time_notebook_cells(path: Path, env: dict[str, str], work: Path, log: Path) -> NotebookFloor:
    """Runs one notebook in one fresh kernel: the imports untimed in the floor, then each code cell timed.

    Args:
        path: The notebook.
        env: The kernel's environment.
        work: An empty folder: the kernel's working folder.
        log: Where the kernel's own stdout and stderr go (TensorFlow's start-up lines).

    Returns:
        The notebook's timings.
    """
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(work)}},
        record_timing=False,
    )
    client.reset_execution_trackers()
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as kernel_output:
        async with client.async_setup_kernel(env=env, stdout=kernel_output, stderr=kernel_output):
            floor = await time_cells(client, notebook, started)
    return NotebookFloor(path.stem, *floor)


async def time_cells(client: nbclient.NotebookClient, notebook: nbformat.NotebookNode, started: float) -> tuple:
    """In a started kernel: the imports, then each code cell, timed (see :func:`time_notebook_cells`).

    Returns:
        (kernel start seconds, import seconds, cell seconds, seconds by kind, cell errors).
    """
    kernel_start = time.perf_counter() - started
    imports = nbformat.v4.new_code_cell(FLOOR_PRELOAD)
    started = time.perf_counter()
    await client.async_execute_cell(imports, -1, execution_count=0)
    import_seconds = time.perf_counter() - started
    cell_seconds, by_kind, errors = [], {"answer": 0.0, "check": 0.0, "given": 0.0}, []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        started = time.perf_counter()
        await client.async_execute_cell(cell, index, execution_count=len(cell_seconds) + 1)
        seconds = time.perf_counter() - started
        cell_seconds.append(seconds)
        by_kind[cell_kind(cell)] += seconds
        errors += [
            f"{index}: {output.get('ename')}"
            for output in cell.get("outputs", [])
            if output.get("output_type") == "error"
        ]
    return kernel_start, import_seconds, cell_seconds, by_kind, errors


def train_lesson_05_network(folder: Path) -> str:
    """Trains the network lesson 05's set-up loads (:mod:`autograder.trained_cache`) into ``folder``, which every
    part then uses (``MNIST_COURSE_CACHE``), once for our kernels' environment and once for nbgrader's: each part
    loads it, as on any machine after the first time. Returns what it did, for the log."""
    from autograder.batch.grade_class import GradingOptions, kernel_environment

    os.environ[CACHE_VARIABLE] = str(folder)
    started = time.perf_counter()
    for env in ({**kernel_environment(GradingOptions()), CACHE_VARIABLE: str(folder)}, environment_with_venv()):
        subprocess.run([sys.executable, "-m", "autograder.trained_cache"], env=env, check=True, capture_output=True)
    return (
        f"trained lesson 05's network for our kernels and nbgrader's in {time.perf_counter() - started:.1f} s "
        f"(once per machine; every part loads it from {folder})"
    )


def measure_floor(solutions: Path, work: Path) -> tuple[list[NotebookFloor], CpuUse]:
    """Times every solution notebook's cells, one kernel each, with the grader's kernel environment.

    Each kernel gets a temporary working folder and HOME, as the grader gives its kernels.

    Args:
        solutions: The solution notebooks (the snapshot taken at the start).
        work: A folder of this part's own.

    Returns:
        One record per solution notebook, in order, and the CPU use while they ran.
    """
    from autograder.batch.grade_class import GradingOptions, kernel_environment

    base_env = kernel_environment(GradingOptions())
    sampler = TreeSampler(os.getpid(), per_child_workers=False)  # this process and its kernels
    busy_before, started = busy_cpu_seconds(), time.perf_counter()
    sampler.start()
    floors = []
    for path in sorted(solutions.glob("*.ipynb")):
        folder = work / path.stem
        (folder / "home").mkdir(parents=True)
        (folder / "cwd").mkdir()
        env = {**base_env, "HOME": str(folder / "home"), CACHE_VARIABLE: os.environ[CACHE_VARIABLE]}
        floor = asyncio.run(time_notebook_cells(path, env, folder / "cwd", folder / "kernel.log"))
        print(
            f"[floor] {floor.notebook}: kernel start {floor.kernel_start_seconds:.1f} s, imports "
            f"{floor.import_seconds:.1f} s, {len(floor.cell_seconds)} cells {floor.seconds:.1f} s"
            + (f"; CELLS RAISED: {', '.join(floor.cell_errors)}" if floor.cell_errors else ""),
            flush=True,
        )
        floors.append(floor)
    sampler.stop()
    own, seconds = sampler.cpu_seconds, time.perf_counter() - started
    cpu = CpuUse(own, machine_busy_share(busy_cpu_seconds() - busy_before, own, seconds))
    print(f"[floor] other processes used {cpu.others_share:.0%} of the machine meanwhile", flush=True)
    return floors, cpu


# --- the figures, the table and the goals ----------------------------------------------------------------------


def summarise(runs: dict[str, TimedRun], floors: list[NotebookFloor], floor_cpu: CpuUse | None) -> dict:
    """The figures the table and the JSON show: per run, the floor, ratios and goals.

    Args:
        runs: The timed runs by name.
        floors: The floor's notebooks (empty if not measured).
        floor_cpu: The CPU use while the floor ran.

    Returns:
        A JSON-ready dict.
    """
    figures: dict = {"runs": {}, "floor": None, "ratios": {}, "goals": []}
    for name, run in runs.items():
        figures["runs"][name] = {**asdict(run), "seconds_per_student": run.seconds_per_student, "ok": run.ok}
    if floors:
        figures["floor"] = {
            "seconds_per_student": sum(floor.seconds for floor in floors),
            "kernel_start_seconds": sum(floor.kernel_start_seconds for floor in floors),
            "import_seconds": sum(floor.import_seconds for floor in floors),
            "seconds_by_kind": {
                kind: sum(floor.seconds_by_kind[kind] for floor in floors) for kind in ("answer", "check", "given")
            },
            "notebooks": [{**asdict(floor), "seconds": floor.seconds} for floor in floors],
            "cpu": asdict(floor_cpu) if floor_cpu else None,
        }
    succeeded = {name: run for name, run in runs.items() if run.ok}  # a failed run's time means nothing
    ratios = figures["ratios"]
    nbgrader = succeeded.get("nbgrader")
    for name in ("jobs1", "jobs2"):
        if name in succeeded and nbgrader:
            ratios[f"{name}_throughput_vs_nbgrader"] = nbgrader.seconds / succeeded[name].seconds
    if "jobs1" in succeeded and figures["floor"]:
        jobs1, floor_seconds = succeeded["jobs1"], figures["floor"]["seconds_per_student"]
        ratios["jobs1_per_student_vs_floor"] = jobs1.seconds_per_student / floor_seconds
        # At --jobs 1 everything runs one after another: the run's CPU per student less the lessons' own cells
        # is what the grader adds (kernel starts and forks, check cells' work, checks, reports).
        figures["overhead_cpu_seconds_per_student"] = jobs1.cpu.own_seconds / jobs1.students - floor_seconds
    figures["goals"] = judge_goals(succeeded, ratios, figures.get("overhead_cpu_seconds_per_student"))
    return figures


def judge_goals(runs: dict[str, TimedRun], ratios: dict[str, float], overhead: float | None) -> list[dict]:
    """The issue's four goals, each with what was measured and whether it is met (None: not measured).

    Args:
        runs: The timed runs that succeeded, by name.
        ratios: The ratios :func:`summarise` computed from them.
        overhead: The grader's own CPU seconds per student (None: not measured).
    """
    ours = [run for name, run in runs.items() if name in ("jobs1", "jobs2")]
    worker_peak = max((run.memory.worker_mib for run in ours), default=None)
    goals = [
        (
            "jobs 2 throughput vs nbgrader",
            f">= {GOAL_JOBS2_VS_NBGRADER:g}x",
            ratios.get("jobs2_throughput_vs_nbgrader"),
            lambda value: value >= GOAL_JOBS2_VS_NBGRADER,
            "{:.2f}x",
        ),
        (
            "jobs 1 throughput vs nbgrader",
            f">= {GOAL_JOBS1_VS_NBGRADER:g}x",
            ratios.get("jobs1_throughput_vs_nbgrader"),
            lambda value: value >= GOAL_JOBS1_VS_NBGRADER,
            "{:.2f}x",
        ),
        (
            "grader's own CPU per student",
            f"< {GOAL_OVERHEAD_SECONDS:g} s",
            overhead,
            lambda value: value < GOAL_OVERHEAD_SECONDS,
            "{:.1f} s",
        ),
        (
            "peak memory per worker (ours)",
            f"< {GOAL_WORKER_MIB:.0f} MiB",
            worker_peak,
            lambda value: value < GOAL_WORKER_MIB,
            "{:.0f} MiB",
        ),
    ]
    return [
        {
            "goal": goal,
            "target": target,
            "measured": value,
            "shown": "not measured" if value is None else shown.format(value),
            "met": None if value is None else bool(test(value)),
        }
        for goal, target, value, test, shown in goals
    ]


def print_table(rows: list[list[str]]) -> None:
    """Prints rows as left-aligned columns, the first row a header underlined with dashes."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in [rows[0], ["-" * width for width in widths], *rows[1:]]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def what_went_wrong(run: dict) -> list[str]:
    """A failed run's non-zero exit status and the sanity checks that did not hold."""
    return ([f"exit status {run['returncode']}"] if run["returncode"] else []) + [
        check for check, held in run["checks"].items() if not held
    ]


def print_results(figures: dict, students: int) -> None:
    """Prints the runs' table, the floor's breakdown, and the goals with whether each is met."""
    labels = {"jobs1": "ours --jobs 1", "jobs2": "ours --jobs 2", "nbgrader": "nbgrader autograde"}
    rows = [
        [
            "run",
            "students",
            "wall s",
            "s/student",
            "throughput vs nbgrader",
            "peak total MiB",
            "peak/worker MiB",
            "max procs",
            "others' CPU",
            "ok",
        ]
    ]
    for name, run in figures["runs"].items():
        ratio = figures["ratios"].get(f"{name}_throughput_vs_nbgrader")
        memory = run["memory"]
        rows.append(
            [
                labels[name],
                str(run["students"]),
                f"{run['seconds']:.1f}",
                f"{run['seconds_per_student']:.1f}",
                "1.00x" if name == "nbgrader" else (f"{ratio:.2f}x" if ratio else "-"),
                f"{memory['total_mib']:.0f}",
                f"{memory['worker_mib']:.0f}",
                str(memory["most_processes"]),
                f"{run['cpu']['others_share']:.0%}",
                "yes" if run["ok"] else "NO: " + "; ".join(what_went_wrong(run)),
            ]
        )
    floor = figures["floor"]
    if floor:
        rows.append(
            [
                "floor (cells only)",
                "1",
                f"{floor['seconds_per_student']:.1f}",
                f"{floor['seconds_per_student']:.1f}",
                "-",
                "-",
                "-",
                "-",
                f"{floor['cpu']['others_share']:.0%}" if floor["cpu"] else "-",
                "yes" if not any(nb["cell_errors"] for nb in floor["notebooks"]) else "NO: cells raised",
            ]
        )
    print(f"\nResults ({students} students):")
    print_table(rows)
    if floor:
        kinds = floor["seconds_by_kind"]
        print(
            f"\nFloor per student: {floor['seconds_per_student']:.1f} s of cells (answer {kinds['answer']:.1f} s, "
            f"given {kinds['given']:.1f} s); not in it, for information: check cells {kinds['check']:.1f} s, "
            f"5 kernel starts {floor['kernel_start_seconds']:.1f} s, "
            f"5 x '{FLOOR_IMPORTS}' and MNIST kept in memory {floor['import_seconds']:.1f} s."
        )
        if "jobs1_per_student_vs_floor" in figures["ratios"]:
            print(
                f"Ours at --jobs 1 costs {figures['ratios']['jobs1_per_student_vs_floor']:.2f}x the floor per student."
            )
    if figures.get("overhead_cpu_seconds_per_student") is not None:
        print(
            f"Grader's own work per student: {figures['overhead_cpu_seconds_per_student']:.1f} CPU s "
            "(--jobs 1 CPU seconds per student, less the floor's cells)."
        )
    print("\nGoals (issue 12):")
    print_table(
        [
            ["goal", "target", "measured", "met"],
            *[
                [g["goal"], g["target"], g["shown"], "n/a" if g["met"] is None else ("yes" if g["met"] else "NO")]
                for g in figures["goals"]
            ],
        ]
    )


def print_circumstances(info: dict) -> None:
    """Prints the command line, commit, CPUs, data source, students and notes on reading the figures."""
    print(f"Command:  {info['command']}")
    print(f"Commit:   {info['commit']}")
    print(f"CPUs:     {info['cpus']}")
    print(f"Data:     {info['data_source']}")
    print(f"Students: {info['students']} ({', '.join(info['student_names'])})")
    if info["students"] < 8:
        print("          NOTE: fewer than 8 students: a quick smoke run, not the benchmark.")
    print(
        f"Parts:    {', '.join(info['parts'])}, one after another in this invocation. Ratios are only meaningful "
        "within one run (the machine's load differs between runs)."
    )
    print(
        "Memory:   summed PSS of each process tree, sampled every 0.2 s (a page shared by n processes counts 1/n "
        "in each); a worker is one child of mnist-grade with its kernels (--jobs 1 and nbgrader: the whole tree)."
    )
    print(
        'Load:     "others\' CPU" is the share of all cores used by processes outside this benchmark during each '
        "part: above a few percent, that part's time is inflated."
    )
    print(
        "Kernels:  ours run with one TensorFlow thread each (the grader's default); nbgrader's kernels inherit "
        "this environment, without thread limits.\n",
        flush=True,
    )


# --- main --------------------------------------------------------------------------------------------------------


def run_parts(parts: list[str], students: list[tuple[str, Path]], temporary: Path) -> tuple[dict, list, CpuUse | None]:
    """Lays out the submissions and runs the chosen parts in order: floor, jobs1, jobs2, nbgrader.

    Args:
        parts: Which parts to run.
        students: (name, example folder) pairs.
        temporary: The benchmark's temporary folder.

    Returns:
        The timed runs by name, the floor's notebooks, and the CPU use while the floor ran (None if not run).
    """
    submitted, snapshot = temporary / "submitted", temporary / "snapshot"
    lay_out_submissions(students, submitted)
    # Others may edit the course while this runs: every part uses these copies, taken now.
    shutil.copytree(SOLUTIONS, snapshot / "solutions" / ASSIGNMENT)
    shutil.copytree(LESSONS, snapshot / "lessons" / ASSIGNMENT)
    runs, floors, floor_cpu = {}, [], None
    print(f"Warm-up (untimed): '{FLOOR_IMPORTS}' in {warm_up():.1f} s.", flush=True)
    print(f"Warm-up (untimed): {train_lesson_05_network(temporary / 'trained-networks')}", flush=True)
    if "floor" in parts:
        floors, floor_cpu = measure_floor(snapshot / "solutions" / ASSIGNMENT, temporary / "floor")
    for jobs in (1, 2):
        if f"jobs{jobs}" in parts:
            (temporary / f"jobs{jobs}").mkdir()
            runs[f"jobs{jobs}"] = run_ours(
                jobs, submitted, snapshot / "lessons" / ASSIGNMENT, temporary / f"jobs{jobs}", len(students)
            )
    if "nbgrader" in parts:
        (temporary / "nbgrader").mkdir()
        runs["nbgrader"] = run_nbgrader(submitted, snapshot, temporary / "nbgrader", len(students))
    return runs, floors, floor_cpu


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    for tool in ("mnist-grade", "nbgrader"):
        if not (VENV_BIN / tool).exists():
            print(
                f"grading_speed: {VENV_BIN / tool} not found; run this with the project's .venv/bin/python",
                file=sys.stderr,
            )
            return 2
    students = choose_students(arguments.students)
    status_before = git_status()
    info = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "commit": git_commit(),
        "cpus": os.cpu_count(),
        "data_source": choose_data_source(),
        "students": len(students),
        "student_names": [name for name, _ in students],
        "parts": arguments.parts,
    }
    print_circumstances(info)
    temporary = Path(tempfile.mkdtemp(prefix="grading-speed-"))
    try:
        runs, floors, floor_cpu = run_parts(arguments.parts, students, temporary)
        figures = {**info, **summarise(runs, floors, floor_cpu)}
        print_results(figures, len(students))
    finally:
        if arguments.keep:
            print(f"\nKept the temporary folders: {temporary}")
        else:
            shutil.rmtree(temporary, ignore_errors=True)
    changes = status_changes(status_before, git_status())
    figures["git_status_changes"] = changes
    print(
        "\nRepository: git status "
        + (
            "unchanged by this run."
            if not changes
            else "CHANGED during this run (by this script, or by someone editing the tree meanwhile):\n  "
            + "\n  ".join(changes)
        )
    )
    if arguments.json:
        arguments.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"Figures written to {arguments.json}")
    return 0 if all(run.ok for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
