"""Hostile submissions (tests/support/hostile.py), graded end to end: each gets exactly its expected result.

Every case is graded the way a class is (restored on the released lesson, in a real kernel in the grader's
sandbox, with the kernel environment the batch grader gives), under small limits so the runaway cases end
quickly. For every case the test asserts the outcome and points of each check, key words of their messages,
the flags, and that nothing outside the kernel's temporary folder changed: the repository's lessons/,
solutions/ and autograder/, the grading user's ~/.keras, the grader's folder of trained networks, and a
gradebook, another student's results and another student's submission made for the test. No process a case
started may outlive its grading.

Cases that read or write outside the kernel's folder need the filesystem sandbox (Linux Landlock); cases that try
to leave the sandbox through sockets need bubblewrap or Landlock's network rules; where the machine has none they
are skipped, saying why. Those escape cases fail quietly inside the notebook, as a determined student's would, so
they score full marks either way: what must not happen is outside, where listeners the test starts (a Unix socket
standing in for Docker's, an abstract socket, a TCP and a UDP port) must hear nothing, a canary file must not
appear, and no process may outlive grading. Cases the grader can't hold yet are strict xfails whose reason
says what the gap is: when the grader closes one, its test fails until the mark is removed.

The whole file takes about three minutes (most cases take two or three seconds; the runaway ones wait for their
limits), so it is not marked slow.
"""

from __future__ import annotations

import os
import signal
import socket
import sysconfig
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import pytest
from support import hostile
from support.paths import LESSONS, PROJECT_ROOT
from support.snapshots import snapshot

from autograder.batch.grade_class import GradingOptions, kernel_environment
from autograder.exercises.training import lesson_training_rows
from autograder.kernel.isolation import bubblewrap
from autograder.kernel.reference_cache import prepared_entry
from autograder.lesson.grade import grade_notebook
from autograder.limits import Limits
from autograder.reference import reference_val_accuracy
from autograder.results import Outcome
from autograder.spec import SPEC

pytestmark = pytest.mark.kernel  # every test here starts a Jupyter kernel or the kernel factory

PASSED, FAILED, ERROR = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR
GB = 2**30
LIMITS = Limits(cell_timeout=20, notebook_timeout=90, memory_bytes=int(1.5 * GB), max_processes=16, output_bytes=2**20)
MARKER = "hostile-child"  # the name the fork bomb's children take (prctl PR_SET_NAME: 15 characters at most)
REAL_KERAS = Path.home() / ".keras"
SITE_CUSTOMIZE = Path(sysconfig.get_paths()["purelib"]) / "sitecustomize.py"  # the kernel's Python is the grader's
OTHER_STUDENT = "other_student_total"  # in another student's results: no message may show it
WATCHED_TREES = (PROJECT_ROOT / "lessons", PROJECT_ROOT / "solutions", PROJECT_ROOT / "autograder")


def _landlock_abi() -> int:
    try:
        from autograder.kernel.sandbox import landlock_abi
    except ImportError:
        return 0
    return landlock_abi()


LANDLOCK_ABI = _landlock_abi()
BUBBLEWRAP = bubblewrap() is not None
ISOLATION = {
    "bubblewrap": BUBBLEWRAP,
    "tcp": BUBBLEWRAP or LANDLOCK_ABI >= 4,
    "abstract sockets": BUBBLEWRAP or LANDLOCK_ABI >= 6,
}
NO_SANDBOX = (
    f"this machine has no Linux Landlock (ABI {LANDLOCK_ABI}), so the kernel can read and write what the "
    "grading user can; the filesystem-isolation cases can't hold and are skipped"
)

# The honest results of the cheating cases' wrong answer: flatten never scales the pixels.
UNSCALED = ("[0, 1]", "flatten returned values from 0 to 255")
HONEST_WRONG_FLATTEN = {"flatten": (FAILED, UNSCALED), "take_subset": (PASSED, ())}
BOTH_PASS = {"flatten": (PASSED, ()), "take_subset": (PASSED, ())}
NOT_THE_PIXELS = "flatten's values don't match the images' pixels"  # rows forged for other images than the grader's
TIMED_OUT = "CellTimeoutError: the cell ran longer than its limit of 8 seconds and was interrupted"


@dataclass(frozen=True)
class Expected:
    """What one case must get.

    Attributes:
        results: check id -> (outcome, fragments its message must contain). A passed check has full points,
            any other 0.
        flags: One fragment per flag the grade must have (and no other flags).
        limits: Changes to :data:`LIMITS` for this case.
        sandbox: The case needs the filesystem sandbox.
        absent: Text that must appear in no message and no flag.
        gap: Why the case can't hold yet (a confirmed gap in the grader): the test is a strict xfail.
        isolation: What the case needs the machine to enforce beyond Landlock's filesystem rules: "bubblewrap", "tcp"
            (Landlock ABI 4 or bubblewrap) or "abstract sockets" (Landlock ABI 6 or bubblewrap).
    """

    results: dict[str, tuple[Outcome, tuple[str, ...]]]
    flags: tuple[str, ...] = ()
    limits: dict = field(default_factory=dict)
    sandbox: bool = False
    absent: tuple[str, ...] = ()
    gap: str = ""
    isolation: str = ""


KERNEL_DIED = "the kernel died"
RAN_UNRECORDED = (
    "The check cell ran without an error, but the check in it never recorded your answer"  # it ran: not "never ran"
)
CHANGED = "was changed; the released one was used."
# What reading or writing outside the kernel's folder raises: with bubblewrap the path is not in the kernel's
# filesystem at all; with Landlock alone it is there and refused.
DENIED = "FileNotFoundError" if BUBBLEWRAP else "PermissionError"

EXPECTED: dict[str, Expected] = {
    # --- runaway code
    "infinite_loop__flatten_interrupted_take_subset_passes": Expected(
        {"flatten": (ERROR, ("NameError", TIMED_OUT)), "take_subset": (PASSED, ())}, limits={"cell_timeout": 8}
    ),
    "sleep_forever__flatten_interrupted_take_subset_passes": Expected(
        {"flatten": (ERROR, ("NameError", TIMED_OUT)), "take_subset": (PASSED, ())}, limits={"cell_timeout": 8}
    ),
    "loop_ignoring_interrupts__stopped_at_notebook_timeout_checks_never_ran": Expected(
        {
            "flatten": (ERROR, ("longer than its limit",)),
            "take_subset": (ERROR, ("The check never ran: the notebook took longer than its limit of 20 seconds.",)),
        },
        flags=("Grading stopped early: the notebook took longer than its limit of 20 seconds.",),
        limits={"cell_timeout": 8, "notebook_timeout": 20},
    ),
    "memory_bomb__flatten_passes_take_subset_stopped_by_memory_cap": Expected(
        {"flatten": (PASSED, ()), "take_subset": (ERROR, ("The check never ran", "more than 1.5 GB of memory"))},
        flags=("Grading stopped early: your notebook used more than 1.5 GB of memory",),
    ),
    "os_exit__flatten_passes_take_subset_kernel_died": Expected(
        {"flatten": (PASSED, ()), "take_subset": (ERROR, ("The check never ran", KERNEL_DIED))},
        flags=(f"Grading stopped early: {KERNEL_DIED}",),
    ),
    "sys_exit__notebook_goes_on_flatten_passes_take_subset_error": Expected(
        {
            "flatten": (PASSED, ()),
            "take_subset": (
                ERROR,
                ("The check cell could not run: NameError", "An earlier cell failed first: SystemExit"),
            ),
        }
    ),
    "segfault__flatten_passes_take_subset_kernel_died": Expected(
        {"flatten": (PASSED, ()), "take_subset": (ERROR, ("The check never ran", KERNEL_DIED))},
        flags=(f"Grading stopped early: {KERNEL_DIED}",),
    ),
    "kill_own_kernel__load_data_passes_class_counts_kernel_died": Expected(
        {"load_data": (PASSED, ()), "class_counts": (ERROR, ("The check never ran", KERNEL_DIED))},
        flags=(f"Grading stopped early: {KERNEL_DIED}",),
    ),
    "fork_bomb__flatten_passes_take_subset_stopped_by_process_cap": Expected(
        {"flatten": (PASSED, ()), "take_subset": (ERROR, ("The check never ran", "more than 16 processes"))},
        flags=("Grading stopped early: your notebook started more than 16 processes",),
    ),
    "disk_filler__flatten_passes_take_subset_stopped_by_disk_cap": Expected(
        {"flatten": (PASSED, ()), "take_subset": (ERROR, ("The check never ran", "more than 20 MB to disk"))},
        flags=("Grading stopped early: your notebook wrote more than 20 MB to disk",),
        limits={"disk_bytes": 20 * 2**20},
    ),
    "stderr_flood__flatten_passes_take_subset_stopped_by_disk_cap": Expected(
        {"flatten": (PASSED, ()), "take_subset": (ERROR, ("The check never ran", "more than 20 MB to disk"))},
        flags=("Grading stopped early: your notebook wrote more than 20 MB to disk",),
        limits={"disk_bytes": 20 * 2**20},
    ),
    "many_files__flatten_passes_take_subset_stopped_by_file_cap": Expected(
        {"flatten": (PASSED, ()), "take_subset": (ERROR, ("The check never ran", "more than 10,000 files"))},
        flags=("Grading stopped early: your notebook created more than 10,000 files",),
    ),
    "print_100_mb__both_pass_output_capped": Expected(
        {"flatten": (PASSED, ()), "take_subset": (PASSED, ())}, flags=("output went over the 1 MB kept per notebook",)
    ),
    "image_50_mb__both_pass_output_capped": Expected(
        {"flatten": (PASSED, ()), "take_subset": (PASSED, ())}, flags=("output went over the 1 MB kept per notebook",)
    ),
    "signal_the_grader__denied_take_subset_error": Expected(
        {
            "flatten": (PASSED, ()),
            "take_subset": (ERROR, ("NameError", "An earlier cell failed first: PermissionError")),
        },
        sandbox=True,
    ),
    # --- cheating, with a wrong flatten: never more than the honest 0 for flatten
    "input_transformer_blanks_checks__scores_0": Expected(
        {"flatten": (ERROR, (RAN_UNRECORDED,)), "take_subset": (ERROR, (RAN_UNRECORDED,))}
    ),
    "input_transformer_fakes_checks__scores_0": Expected(
        {"flatten": (ERROR, (RAN_UNRECORDED,)), "take_subset": (ERROR, (RAN_UNRECORDED,))}
    ),
    "patch_checks__flatten_fails": Expected(HONEST_WRONG_FLATTEN),
    # The grader judges flatten's rows against its own probe images, not the (black) ones the kernel sends back; the
    # rows were made from black images, so they don't match the real ones (the unscaled 255s never reach the grader).
    "patch_probes__flatten_fails": Expected({"flatten": (FAILED, (NOT_THE_PIXELS,)), "take_subset": (PASSED, ())}),
    "patch_recorder_observe__flatten_fails": Expected(
        {"flatten": (FAILED, (NOT_THE_PIXELS,)), "take_subset": (PASSED, ())}
    ),
    "patch_numpy_testing_and_assertion_error__flatten_fails": Expected(HONEST_WRONG_FLATTEN),
    "patch_isinstance_and_len__scores_0": Expected(  # ipykernel itself can't live with them
        {
            "flatten": (ERROR, ("The check never ran", KERNEL_DIED)),
            "take_subset": (ERROR, ("The check never ran", KERNEL_DIED)),
        },
        flags=(f"Grading stopped early: {KERNEL_DIED}",),
    ),
    "patch_tracebacks__flatten_fails": Expected(HONEST_WRONG_FLATTEN),
    "patch_count_params__build_model_fails": Expected(
        {"build_model": (FAILED, ("layer2 has 25 units; the spec asks for 30.",))}
    ),
    "patch_dense_get_config__build_model_scores_0": Expected({"build_model": (ERROR, ("could not check",))}),
    "patch_dense_init__build_model_scores_0": Expected(
        {"build_model": (FAILED, ("layer2 has 25 units",))},
        gap="the patched Dense.__init__ makes the student's Dense(25, ...) build 30 units, so build_model() really "
        "returns the spec's network; the grader sees only the model, not the source that asked for 25",
    ),
    "print_fake_results__flatten_fails": Expected(HONEST_WRONG_FLATTEN),
    "write_fake_result_files__flatten_fails": Expected(HONEST_WRONG_FLATTEN),
    "forge_observation_after_check__flatten_fails": Expected({"flatten": (FAILED, ()), "take_subset": (PASSED, ())}),
    # flatten's check ran: it called os._exit
    "forge_observation_then_kill_kernel__flatten_error_kernel_died": Expected(
        {
            "flatten": (
                ERROR,
                ("The check started but never finished (its cell calls your flatten(images))", KERNEL_DIED),
            ),
            "take_subset": (ERROR, ("The check never ran", KERNEL_DIED)),
        },
        flags=(f"Grading stopped early: {KERNEL_DIED}",),
    ),
    "edit_check_cell__flatten_fails_flagged": Expected(
        HONEST_WRONG_FLATTEN, flags=(f"The read-only cell 'check_flatten' {CHANGED}",)
    ),
    "delete_check_cell__flatten_fails_flagged": Expected(
        HONEST_WRONG_FLATTEN, flags=("The read-only cell 'check_flatten' was missing; the released one was used.",)
    ),
    "retype_check_cell__flatten_fails_flagged": Expected(
        HONEST_WRONG_FLATTEN, flags=(f"The read-only cell 'check_flatten' {CHANGED}",)
    ),
    "edit_setup_cell__flatten_fails_flagged": Expected(
        HONEST_WRONG_FLATTEN, flags=(f"The read-only cell 'setup' {CHANGED}",)
    ),
    "duplicate_cells__first_graded_flatten_fails_flagged": Expected(
        HONEST_WRONG_FLATTEN,
        flags=(
            "The cell 'flatten' appears more than once; the first one was graded.",
            "The cell 'check_flatten' appears more than once; the first one was graded.",
        ),
    ),
    "add_cells__not_run_flatten_fails_flagged": Expected(
        HONEST_WRONG_FLATTEN, flags=("You added 2 cell(s); they were not run when grading.",)
    ),
    "tamper_check_cell_metadata__flatten_fails_flagged": Expected(
        HONEST_WRONG_FLATTEN, flags=(f"The read-only cell 'check_flatten' {CHANGED}",)
    ),
    "define_flatten_twice__later_definition_graded_fails": Expected(HONEST_WRONG_FLATTEN),
    # --- reading what the kernel must not read
    "import_reference_answer__build_model_error": Expected(
        {
            "build_model": (
                ERROR,
                ("NameError", "An earlier cell failed first: ImportError", "cannot import name 'build_model'"),
            )
        }
    ),
    "import_installed_reference_by_path__denied": Expected(
        {"build_model": (ERROR, ("NameError", f"An earlier cell failed first: {DENIED}"))}, sandbox=True
    ),
    "read_solutions_relative__denied": Expected(  # up from its folder, into the factory's workspace: not listable
        {"build_model": (ERROR, ("NameError", "An earlier cell failed first: PermissionError"))}, sandbox=True
    ),
    "read_solutions_absolute__denied": Expected(  # with bubblewrap, no place it looks has a solutions/ folder at all
        {
            "build_model": (
                ERROR,
                ("NameError", "An earlier cell failed first: StopIteration")
                if BUBBLEWRAP
                else ("NameError", f"An earlier cell failed first: {DENIED}", "solutions"),
            )
        },
        sandbox=True,
    ),
    "read_other_student__denied": Expected(
        {"build_model": (ERROR, ("NameError", f"An earlier cell failed first: {DENIED}", "other_student"))},
        sandbox=True,
    ),
    # --- writing outside the kernel's folder
    "write_gradebook__denied_unchanged": Expected(
        {
            "flatten": (PASSED, ()),
            "take_subset": (ERROR, ("NameError", f"An earlier cell failed first: {DENIED}", "gradebook.csv")),
        },
        sandbox=True,
    ),
    "write_other_results__denied_unchanged": Expected(
        {
            "flatten": (PASSED, ()),
            "take_subset": (ERROR, ("NameError", f"An earlier cell failed first: {DENIED}", "other_student.json")),
        },
        sandbox=True,
    ),
    "write_keras_config__denied_unchanged": Expected(
        {
            "flatten": (PASSED, ()),
            "take_subset": (ERROR, ("NameError", f"An earlier cell failed first: {DENIED}", "keras.json")),
        },
        sandbox=True,
    ),
    "write_released_lesson__denied_unchanged": Expected(
        {
            "flatten": (PASSED, ()),
            "take_subset": (ERROR, ("NameError", f"An earlier cell failed first: {DENIED}", "02_reshape.ipynb")),
        },
        sandbox=True,
    ),
    "write_course_module__denied_unchanged": Expected(
        {
            "flatten": (PASSED, ()),
            "take_subset": (ERROR, ("NameError", f"An earlier cell failed first: {DENIED}", "data.py")),
        },
        sandbox=True,
    ),
    "write_site_packages__denied_unchanged": Expected(
        {
            "flatten": (PASSED, ()),
            "take_subset": (
                ERROR,
                (  # the Python installation is mounted read-only
                    "NameError",
                    "An earlier cell failed first: "
                    + ("OSError: [Errno 30] Read-only file system" if BUBBLEWRAP else "PermissionError"),
                    "sitecustomize.py",
                ),
            ),
        },
        sandbox=True,
    ),
    "symlink_observation_to_other_student__flatten_scores_0_nothing_leaks": Expected(
        {"flatten": (FAILED, ("[0, 1]",)), "take_subset": (PASSED, ())}, absent=(OTHER_STUDENT,)
    ),
    # --- escapes: each tries quietly, then answers right; the listeners, the canary and no_strays catch success
    "factory_socket_from_memory__no_escape_both_pass": Expected(BOTH_PASS),
    "factory_socket_from_proc__no_escape_both_pass": Expected(BOTH_PASS, isolation="bubblewrap"),
    "factory_socket_by_guessing__no_escape_both_pass": Expected(BOTH_PASS),
    "factory_through_inherited_pipes__no_escape_both_pass": Expected(BOTH_PASS),
    # A kernel that writes garbage into its own sockets to the grader: before, the grader hung in a send for ever.
    # (Its cell's reply never arrives, so the grader waits out the cell's time limit, then SEND_TIMEOUT to interrupt.)
    "wreck_own_connection__flatten_passes_take_subset_error_no_hang": Expected(
        {"flatten": (PASSED, ()), "take_subset": (ERROR, ("The check never ran", "stopped taking messages"))},
        flags=("Grading stopped early: the kernel stopped taking messages from the grader",),
        limits={"cell_timeout": 8},
    ),
    "connect_unix_socket_outside__refused_both_pass": Expected(BOTH_PASS, isolation="bubblewrap"),
    "connect_abstract_socket__refused_both_pass": Expected(BOTH_PASS, isolation="abstract sockets"),
    "connect_loopback_tcp__refused_both_pass": Expected(BOTH_PASS, isolation="tcp"),
    "bind_tcp_port__refused_both_pass": Expected(BOTH_PASS, isolation="tcp"),
    "send_udp__nothing_arrives_both_pass": Expected(BOTH_PASS, isolation="bubblewrap"),
    "daemon_outlives_kernel__killed_both_pass": Expected(BOTH_PASS),
    # --- lesson 04
    "fake_history__compile_passes_train_fails": Expected(
        {"compile_model": (PASSED, ()), "train": (FAILED, ("train never called model.fit on the model it was given",))},
        limits={"cell_timeout": 120, "notebook_timeout": 300},
    ),
    # --- the trained network lesson 05 is given: not before lesson 05, and never the grader's own copy
    "train_with_reference_model__train_error": Expected(
        {
            "compile_model": (PASSED, ()),
            "train": (
                ERROR,
                ("NameError", "An earlier cell failed first: ImportError", "cannot import name 'trained_model'"),
            ),
        }
    ),
    "train_with_graders_model__denied": Expected(
        {"compile_model": (PASSED, ()), "train": (ERROR, ("NameError", f"An earlier cell failed first: {DENIED}"))},
        sandbox=True,
    ),
    "spoil_graders_model__denied_unchanged": Expected(
        {
            "predict_digit": (ERROR, ("NameError", f"An earlier cell failed first: {DENIED}")),
            "plot_predictions": (PASSED, ()),
        },
        sandbox=True,
        limits={"cell_timeout": 120, "notebook_timeout": 300},
    ),
}


def test_every_case_has_an_expectation():
    """Is every hostile submission in the corpus tested, and every expectation a case of the corpus?"""
    assert sorted(EXPECTED) == sorted(hostile.CASES)


# --- what must not change, and what must not be left running ---------------------------------------------------


class Listeners:
    """Sockets outside the kernel's sandbox that hostile code aims at, each recording what reaches it.

    A Unix socket by path (in a folder of its own, standing in for ``/var/run/docker.sock``), an abstract Unix
    socket, a TCP port and a UDP port on the loopback. :attr:`heard` lists every connection or datagram.
    """

    def __init__(self, folder: Path):
        folder.mkdir()
        self.heard: list[str] = []
        self.sockets = []
        unix = self._listen(socket.AF_UNIX, socket.SOCK_STREAM, str(folder / "docker.sock"))
        name = f"autograder-test-{os.getpid()}-{id(self)}"
        abstract = self._listen(socket.AF_UNIX, socket.SOCK_STREAM, "\0" + name)
        tcp = self._listen(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0))
        udp = self._listen(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 0))
        self.targets = {
            "unix_socket": folder / "docker.sock",
            "abstract_socket": name,
            "tcp_port": tcp.getsockname()[1],
            "udp_port": udp.getsockname()[1],
        }
        for listener, what in ((unix, "unix socket"), (abstract, "abstract socket"), (tcp, "TCP port")):
            threading.Thread(target=self._accept, args=(listener, what), daemon=True).start()
        threading.Thread(target=self._receive, args=(udp,), daemon=True).start()

    def _listen(self, family, kind, address):
        listener = socket.socket(family, kind)
        listener.bind(address)
        if kind == socket.SOCK_STREAM:
            listener.listen()
        self.sockets.append(listener)
        return listener

    def _accept(self, listener, what: str) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            self.heard.append(f"a connection to the {what}")
            connection.close()

    def _receive(self, listener) -> None:
        while True:
            try:
                data, sender = listener.recvfrom(100)
            except OSError:
                return
            if sender is None:  # closed
                return
            self.heard.append(f"a datagram {data!r} at the UDP port from {sender}")

    def close(self) -> None:
        for listener in self.sockets:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()


@pytest.fixture
def listeners(tmp_path):
    """:class:`Listeners` outside the kernel; asserts afterwards that nothing reached them."""
    heard = Listeners(tmp_path / "listeners")
    yield heard
    time.sleep(0.2)  # a datagram sent last is delivered
    heard.close()
    assert heard.heard == [], f"the kernel reached outside its sandbox: {heard.heard}"


def graders_trained_cache() -> Path:
    """The grader's folder of trained networks, holding what grading the cases writes there on the synthetic digits
    (trained if missing, before the case's snapshot): lesson 05's network, and the reference the train check
    measures a student's accuracy against, which this process trains on the check's rows."""
    entry = prepared_entry({**kernel_environment(GradingOptions()), "MNIST_PATH": "synthetic"})
    assert entry is not None, "the grader could not train the reference network: an attack on nothing proves nothing"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_PATH", "synthetic")
        reference_val_accuracy(*lesson_training_rows())
    return entry[0].parent


@pytest.fixture
def outside(tmp_path, listeners):
    """Files outside the kernel's folder that hostile code aims at; asserts afterwards that none changed.

    Yields the targets for :meth:`hostile.Case.notebook`. The real files a case may write (~/.keras/keras.json,
    the released lesson) are put back if they changed, so a failing case can't break the course.
    """
    folder = tmp_path / "outside"
    targets = {
        "gradebook": folder / "grading-output" / "gradebook.csv",
        "other_results": folder / "grading-output" / "results" / "other_student.json",
        "other_submission": folder / "submitted" / "other_student" / "mnist" / "03_build.ipynb",
        "keras_config": REAL_KERAS / "keras.json",
        "lesson_file": LESSONS / "02_reshape.ipynb",
        "course_module": PROJECT_ROOT / "autograder" / "exercises" / "data.py",
        "project_root": PROJECT_ROOT,
        "marker": MARKER,
        "canary": folder / "escaped",
        "trained_cache": graders_trained_cache(),
        **listeners.targets,
    }
    targets["gradebook"].parent.mkdir(parents=True)
    targets["gradebook"].write_text("student,total\nother_student,13\n")
    targets["other_results"].parent.mkdir(parents=True)
    targets["other_results"].write_text(f'{{"{OTHER_STUDENT}": 13, "student": "other_student"}}\n')
    targets["other_submission"].parent.mkdir(parents=True)
    nbformat.write(hostile.submission("03_build", {}), targets["other_submission"])
    for aimed_at in ("lesson_file", "course_module"):  # an attack on a file that isn't there proves nothing
        assert targets[aimed_at].is_file(), f"the {aimed_at} target {targets[aimed_at]} doesn't exist: update it"
    watched = [*WATCHED_TREES, REAL_KERAS, folder, SITE_CUSTOMIZE, targets["trained_cache"]]
    real_files = {
        path: path.read_bytes()
        for path in (targets["keras_config"], targets["lesson_file"], targets["course_module"])
        if path.exists()
    }
    assert not SITE_CUSTOMIZE.exists(), f"{SITE_CUSTOMIZE} exists before the case ran"
    before = snapshot(*watched, contents_only=True)
    yield targets
    assert not targets["canary"].exists(), f"a process outside the sandbox wrote {targets['canary'].read_text()!r}"
    for path, content in real_files.items():
        if path.read_bytes() != content:
            path.write_bytes(content)
            pytest.fail(f"the case changed {path} (now put back)")
    if SITE_CUSTOMIZE.exists():
        SITE_CUSTOMIZE.unlink()
        pytest.fail(f"the case wrote {SITE_CUSTOMIZE} (now removed)")
    assert snapshot(*watched, contents_only=True) == before, "something outside the kernel's folder changed"


def _strays() -> list[psutil.Process]:
    """Running processes a fork bomb started (zombies are dead: they hold no memory, only their pid until reaped)."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if process.info["name"] == MARKER or MARKER in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


@pytest.fixture
def no_strays():
    """Fails the test if a process a case started is still running after grading (and kills it)."""
    yield
    strays = _strays()
    for process in strays:
        try:
            process.kill()
        except psutil.Error:
            pass
    assert strays == [], f"processes left running after grading: {strays}"


# --- the cases ---------------------------------------------------------------------------------------------------


def _params():
    for name, expected in EXPECTED.items():
        marks = []
        if expected.sandbox and LANDLOCK_ABI < 1:
            marks.append(pytest.mark.skip(reason=NO_SANDBOX))
        if name.startswith("signal_the_grader") and LANDLOCK_ABI < 6:
            marks.append(
                pytest.mark.skip(
                    reason=f"Landlock ABI {LANDLOCK_ABI} can't keep the kernel from signalling "
                    "the grader (that needs ABI 6)"
                )
            )
        if expected.isolation and not ISOLATION[expected.isolation]:
            marks.append(
                pytest.mark.skip(
                    reason=f"this machine can't keep a kernel from this ({expected.isolation} is "
                    "missing: install Debian's bubblewrap); the README's table says so"
                )
            )
        if expected.gap:
            marks.append(pytest.mark.xfail(strict=True, reason=expected.gap))
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_hostile_submission(name, tmp_path, outside, no_strays, synthetic_digits):
    """Does the hostile submission get exactly its expected result, changing nothing outside its kernel's folder?"""
    case, expected = hostile.CASES[name], EXPECTED[name]
    path = case.write(tmp_path / "submissions", outside)
    limits = Limits(**{**LIMITS.__dict__, **expected.limits})
    started = time.monotonic()
    grade = grade_notebook(path, release=LESSONS / path.name, env=kernel_environment(GradingOptions()), limits=limits)
    took = time.monotonic() - started
    got = {r.check_id: (r.outcome, r.points, r.message) for r in grade.results}
    assert list(got) == list(SPEC.lessons[case.lesson]), got
    for check_id, (outcome, fragments) in expected.results.items():
        found, points, message = got[check_id]
        assert found is outcome, f"{check_id}: {found.value}, expected {outcome.value}: {message}"
        assert points == (SPEC.points[check_id] if outcome is PASSED else 0), (check_id, points)
        for fragment in fragments:
            assert fragment in message, f"{check_id}: {fragment!r} not in {message!r}"
    for text in expected.absent:
        assert not [line for line in [*(r.message for r in grade.results), *grade.flags] if text in line], text
    assert len(grade.flags) == len(expected.flags), grade.flags
    for fragment in expected.flags:
        assert sum(fragment in flag for flag in grade.flags) == 1, f"{fragment!r} not in exactly one of {grade.flags}"
    # Grading stops at the limits: never much longer than the notebook's time limit.
    assert took < limits.notebook_timeout + 30, took


def test_no_kernel_outlives_its_grading(tmp_path, synthetic_digits):
    """After a runaway case is stopped, are the kernel and everything it started gone?"""
    case = hostile.CASES["fork_bomb__flatten_passes_take_subset_stopped_by_process_cap"]
    targets = {name: tmp_path / name for name in hostile.TARGETS} | {"marker": MARKER}
    path = case.write(tmp_path, targets)
    env = kernel_environment(GradingOptions())
    # Grade an honest notebook first: what the grader keeps running between notebooks (a kernel factory) is
    # then already there, and anything new after the fork bomb is the fork bomb's.
    honest = tmp_path / "honest" / "01_load.ipynb"
    honest.parent.mkdir()
    nbformat.write(hostile.submission("01_load", {}), honest)
    assert all(r.passed for r in grade_notebook(honest, release=LESSONS / honest.name, env=env, limits=LIMITS).results)
    mine = psutil.Process()
    before = {child.pid for child in mine.children(recursive=True)}
    grade_notebook(path, release=LESSONS / path.name, env=env, limits=LIMITS)
    time.sleep(1)
    left = [
        child
        for child in mine.children(recursive=True)
        if child.pid not in before and child.is_running() and child.status() != psutil.STATUS_ZOMBIE
    ]
    strays = _strays()
    for process in left + strays:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except OSError:
            pass
    assert left == [] and strays == [], (left, strays)
