"""A corpus of hostile submissions: released lessons whose answer cells hold what a hostile student wrote.

Every case starts from a released lesson (``lessons/mnist``), so its notebook carries exactly the metadata and
nbgrader checksums a real student's would. Each answer cell gets the reference answer (the code between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` in ``solutions/mnist``) unless the case gives that cell's source;
the hostile code sits in the answer cells, next to a right or a deliberately wrong answer, written as a student
would write it. A few cases also tamper with grader-owned cells (``edit``). Each case is named by what it does and
the result it should get, ``<what it does>__<expected result>``, and is written to
``<folder>/<case name>/<lesson>.ipynb`` (the grader tells the lesson by the file name).

Paths outside the kernel's folder that a case aims at (another student's files, the gradebook, the repository,
the grader's ``~/.keras``) are placeholders, ``$gradebook`` and so on, filled in with the real paths by
:meth:`Case.notebook` (see :data:`TARGETS`).

Write the whole corpus somewhere to look at it (from the project's folder)::

    PYTHONPATH=tests .venv/bin/python -m support.hostile /tmp/hostile
"""

from __future__ import annotations

import copy
import string
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from support.paths import LESSONS, PROJECT_ROOT, SOLUTIONS

# What the placeholders in the cases' code stand for; each is filled in with the repr() of a path.
TARGETS = (
    "gradebook",  # a gradebook.csv of the class, outside the kernel's folder
    "other_results",  # another student's results/<student>.json
    "other_submission",  # another student's submitted 03_build.ipynb (right answers)
    "keras_config",  # the grading user's real ~/.keras/keras.json
    "lesson_file",  # the repository's released lessons/mnist/02_reshape.ipynb
    "course_module",  # the repository's autograder/exercises/data.py, which the grader imports
    "project_root",  # the repository (where solutions/ and autograder/ are)
    "marker",  # a name (15 characters at most) given to the processes a fork bomb starts
    "canary",  # a file outside the kernel's folder that an escaped process would write
    "unix_socket",  # a Unix socket listening outside the kernel's folder (stands in for /var/run/docker.sock)
    "abstract_socket",  # the name of an abstract Unix socket listening outside the sandbox
    "tcp_port",  # a TCP port listening on the loopback, outside the sandbox
    "udp_port",  # a UDP port listening on the loopback, outside the sandbox
    "trained_cache",  # the grader's folder of trained reference networks (autograder.kernel.reference_cache)
)


def grade_id(cell) -> str | None:
    """The nbgrader grade_id of a cell, or None."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_answer_cell(cell) -> bool:
    """A cell where the student writes an answer (nbgrader ``solution``)."""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def reference_answers(lesson: str) -> dict[str, str]:
    """grade_id -> the solution cell's source without the BEGIN/END SOLUTION marker lines: a right answer."""
    notebook = nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4)
    return {
        grade_id(cell): "\n".join(
            line
            for line in cell.source.splitlines()
            if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
        )
        + "\n"
        for cell in notebook.cells
        if is_answer_cell(cell)
    }


def cell_of(notebook: nbformat.NotebookNode, identity: str) -> nbformat.NotebookNode:
    """The cell with this grade_id."""
    return next(cell for cell in notebook.cells if grade_id(cell) == identity)


def submission(
    lesson: str, answers: dict[str, str], edit: Callable[[nbformat.NotebookNode], None] | None = None
) -> nbformat.NotebookNode:
    """The released lesson with every answer cell answered: ``answers[grade_id]`` where given, else the reference
    answer.

    Args:
        lesson: The lesson's file stem, e.g. ``"02_reshape"``.
        answers: grade_id -> the source the student wrote in that answer cell.
        edit: Changes the student made to the rest of the notebook (applied last).
    """
    notebook = nbformat.read(LESSONS / f"{lesson}.ipynb", as_version=4)
    given = {**reference_answers(lesson), **answers}
    unknown = set(answers) - {grade_id(cell) for cell in notebook.cells if is_answer_cell(cell)}
    if unknown:
        raise ValueError(f"{lesson} has no answer cells {sorted(unknown)}")
    for cell in notebook.cells:
        if is_answer_cell(cell):
            cell.source = given[grade_id(cell)]
    if edit is not None:
        edit(notebook)
    return notebook


@dataclass(frozen=True)
class Case:
    """One hostile submission.

    Attributes:
        name: ``<what it does>__<expected result>``; the folder the notebook is written to.
        lesson: The released lesson it starts from.
        answers: grade_id -> what the student wrote in that answer cell (``$target`` placeholders allowed).
        edit: Changes to grader-owned cells or the list of cells, if any.
    """

    name: str
    lesson: str
    answers: dict[str, str]
    edit: Callable[[nbformat.NotebookNode], None] | None = None

    def notebook(self, targets: dict[str, str | Path]) -> nbformat.NotebookNode:
        """The submission, with each ``$target`` in the answers replaced by the repr() of its path."""
        values = {name: repr(str(value)) for name, value in targets.items()}
        answers = {key: string.Template(source).safe_substitute(values) for key, source in self.answers.items()}
        return submission(self.lesson, answers, self.edit)

    def write(self, folder: Path, targets: dict[str, str | Path]) -> Path:
        """Writes the submission to ``folder/<name>/<lesson>.ipynb`` and returns that path."""
        path = Path(folder) / self.name / f"{self.lesson}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(self.notebook(targets), path)
        return path


# ---------------------------------------------------------------------------------------------------------------
# Answers: right ones, wrong ones, and the pieces hostile students add to them.

RIGHT = {
    lesson: reference_answers(lesson) for lesson in ("01_load", "02_reshape", "03_build", "04_train", "05_predict")
}

# Wrong answers: with these, any check that passes was cheated.
FLATTEN_UNSCALED = '''def flatten(images):
    """Rows of 784 pixels (I forgot to scale them to [0, 1])."""
    return images.reshape(len(images), 28 * 28).astype("float32")
'''
BUILD_MODEL_25 = RIGHT["03_build"]["build_model"].replace("Dense(30, ", "Dense(25, ")
assert BUILD_MODEL_25 != RIGHT["03_build"]["build_model"]
TRAIN_FAKE_HISTORY = '''def train(model, X, y):
    """No training at all: a History with perfect numbers."""
    history = keras.callbacks.History()
    history.set_model(model)
    history.params = {"epochs": 20, "steps": 75, "verbose": 0}
    history.epoch = list(range(20))
    history.history = {"loss": [0.0] * 20, "accuracy": [1.0] * 20, "val_loss": [0.0] * 20, "val_accuracy": [1.0] * 20}
    return history
'''


def before(hostile: str, answer: str) -> str:
    """A cell that runs ``hostile`` first, then defines the answer."""
    return hostile.rstrip("\n") + "\n\n" + answer


def after(answer: str, hostile: str) -> str:
    """A cell that defines the answer, then runs ``hostile``."""
    return answer.rstrip("\n") + "\n\n" + hostile


FLATTEN, TAKE_SUBSET = RIGHT["02_reshape"]["flatten"], RIGHT["02_reshape"]["take_subset"]

# --- runaway code ---------------------------------------------------------------------------------------------

INFINITE_LOOP = "while True:  # waiting for something that never happens\n    pass\n"
SLEEP_FOREVER = "import time\n\ntime.sleep(10**6)\n"
LOOP_IGNORING_INTERRUPTS = """import time

while True:  # nothing stops me, not even the stop button
    try:
        time.sleep(1)
    except BaseException:
        pass
"""
MEMORY_BOMB = """import time
import numpy

chunks = []
for _ in range(12):  # 12 x 400 MB, every byte written; far over the grader's cap, and still safe on the machine
    chunks.append(numpy.ones(50_000_000))
time.sleep(5)
"""
DISK_FILLER = """import time

with open("filler.bin", "wb") as filler:
    for _ in range(200):  # 200 MB, 1 MB at a time, far over the test's 20 MB cap, then wait to be stopped
        filler.write(b"x" * 2**20)
        filler.flush()
time.sleep(10)
"""
STDERR_FLOOD = """import os
import sys
import time

# ipykernel shows what is written to file descriptor 2 in the notebook, and copies it to the standard error the
# kernel started with (until now the kernel factory's log, which outlives the notebook). Write 200 MB straight there.
started_with = sys.stderr._original_stdstream_copy
for _ in range(200):
    os.write(started_with, b"x" * 2**20)
time.sleep(10)
"""
MANY_FILES = """import os
import time

os.makedirs("many", exist_ok=True)
for number in range(20_000):  # empty files take no blocks, but each is an inode
    open(f"many/{number}", "w").close()
time.sleep(10)
"""
OS_EXIT = "import os\n\nos._exit(1)\n"
SYS_EXIT = "import sys\n\nsys.exit()\n"
SEGFAULT = "import ctypes\n\nctypes.string_at(0)  # reads address 0: a segmentation fault\n"
KILL_MYSELF = "import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)\n"
FORK_BOMB = """import ctypes
import os
import time

children = []
for _ in range(40):  # bounded: 40 children sleeping a minute each, far over the grader's process cap
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(15, $marker.encode(), 0, 0, 0)  # PR_SET_NAME, so the tests can find strays
        time.sleep(60)
        os._exit(0)
    children.append(pid)
    time.sleep(0.05)
for pid in children:
    os.waitpid(pid, 0)
"""
PRINT_100_MB = """line = "all work and no play makes jack a dull boy " * 23_000  # about 1 MB
for _ in range(100):
    print(line)
"""
IMAGE_50_MB = """import base64
import os

from IPython.display import display

display({"image/png": base64.b64encode(os.urandom(50_000_000)).decode()}, raw=True)
"""
SIGNAL_GRADER = """import os
import signal

os.kill(os.getppid(), signal.SIGURG)  # the process that started this kernel: the grader \
(SIGURG: harmless if it arrives)
"""

# --- cheating ---------------------------------------------------------------------------------------------------

TRANSFORMER_BLANKS_CHECKS = '''def hide_checks(lines):
    """From now on, every cell that would check me runs as an empty cell."""
    text = "".join(lines)
    if "check" in text or "__autograder" in text:
        return []
    return lines


get_ipython().input_transformers_post.append(hide_checks)
'''
TRANSFORMER_FAKES_CHECKS = '''def fake_checks(lines):
    """From now on, every cell that would check me only prints that it passed."""
    text = "".join(lines)
    if "check" in text or "__autograder" in text:
        return ['print("flatten: passed (2/2 points)")\\n', 'print("take_subset: passed (1/1 points)")\\n']
    return lines


get_ipython().input_transformers_post.append(fake_checks)
'''
PATCH_CHECKS = """import dataclasses

import autograder.exercises.data
import autograder.exercises
import autograder.exercises.registry
import autograder.notebook
import autograder.kernel.recorder
from autograder.results import CheckResult, Outcome


def always_passes(*args, **kwargs):
    return CheckResult("flatten", Outcome.PASSED, 2, 2, "flatten: passed")


autograder.exercises.data.check_flatten = always_passes
autograder.exercises.judge = autograder.exercises.registry.judge = \
lambda check_id, observation, **kwargs: always_passes()
autograder.exercises.run_check = autograder.exercises.registry.run_check = \
lambda check_id, *answers, **kwargs: always_passes()
autograder.exercises.EXERCISES["flatten"] = dataclasses.replace(autograder.exercises.EXERCISES["flatten"], \
check=always_passes)
autograder.notebook.check = lambda check_id, *answers, **kwargs: print(f"{check_id}: passed")
autograder.notebook.run_check = autograder.exercises.run_check
check = autograder.notebook.check
"""
PATCH_PROBES = """import numpy
import autograder.exercises.probes

# The check's own test images, all black: an unscaled flatten can't go over 1 on them.
autograder.exercises.probes.flatten_images = lambda spec=None: numpy.zeros((5, 28, 28), dtype=numpy.uint8)
"""
PATCH_RECORDER = '''import numpy
import autograder.exercises
import autograder.exercises.registry
import autograder.kernel.recorder

_observe = autograder.exercises.observe


def observe(check_id, *answers, **kwargs):
    """Hand the grader black images and what flatten should give for them."""
    if check_id == "flatten":
        return {"images": numpy.zeros((5, 28, 28), dtype=numpy.uint8), "flat": numpy.zeros((5, 784), dtype="float32")}
    return _observe(check_id, *answers, **kwargs)


autograder.kernel.recorder.observe = observe
autograder.exercises.observe = autograder.exercises.registry.observe = observe
'''
PATCH_NUMPY_TESTING = """import builtins

import numpy
import numpy.testing

numpy.testing.assert_allclose = lambda *args, **kwargs: None
numpy.testing.assert_array_equal = lambda *args, **kwargs: None
numpy.allclose = lambda *args, **kwargs: True
numpy.array_equal = lambda *args, **kwargs: True


class NeverRaised(Exception):
    pass


builtins.AssertionError = NeverRaised
"""
PATCH_BUILTINS = """import builtins

builtins.isinstance = lambda value, kind: True
builtins.len = lambda value: 784
"""
PATCH_TRACEBACKS = """from IPython.core.interactiveshell import InteractiveShell

get_ipython()._showtraceback = lambda *args, **kwargs: None
InteractiveShell.showtraceback = lambda *args, **kwargs: None
"""
PATCH_COUNT_PARAMS = """keras.Model.count_params = lambda self: 81_840  # what the spec's network has
keras.Sequential.count_params = keras.Model.count_params
"""
PATCH_DENSE_CONFIG = '''_get_config = keras.layers.Dense.get_config
SPEC_UNITS = {"layer1": 100, "layer2": 30, "layer3": 10}


def get_config(self):
    """Report the spec's units, whatever the layer really has."""
    config = _get_config(self)
    config["units"] = SPEC_UNITS.get(config.get("name"), config["units"])
    return config


keras.layers.Dense.get_config = get_config
'''
PATCH_DENSE_INIT = '''_init = keras.layers.Dense.__init__
SPEC_UNITS = {"layer1": 100, "layer2": 30, "layer3": 10}


def __init__(self, units, *args, **kwargs):
    """Whatever units I ask for, make the layer the spec's."""
    _init(self, SPEC_UNITS.get(kwargs.get("name"), units), *args, **kwargs)


keras.layers.Dense.__init__ = __init__
'''
PRINT_FAKE_RESULTS = """print("flatten: \\u2714 passed (2/2 points)")
print("take_subset: \\u2714 passed (1/1 points)")
print("build_model: 3/3 passed")
print("[autograder] recorded flatten")
"""
WRITE_FAKE_RESULTS = """import json
from pathlib import Path

import numpy

# Results that look like the grader's, in my working folder and in the grader's folder next to it.
fake = {"status": "passed", "points": 2, "max_points": 2, "message": "flatten: passed"}
for folder in (Path("."), Path("observations/flatten"), Path("../observations/flatten"), Path("../results")):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps({"flatten": fake}))
(Path("../observations/flatten") / "observation.json").write_text(json.dumps(
    {"__dict__": {"images": {"__array__": "a0"}, "flat": {"__array__": "a1"}}}))
numpy.savez("../observations/flatten/arrays.npz", a0=numpy.zeros((5, 28, 28), "uint8"), \
a1=numpy.zeros((5, 784), "float32"))
Path("gradebook.csv").write_text("student,02_reshape\\nme,3\\n")
"""
FORGE_OBSERVATION_AFTER_CHECK = """from pathlib import Path

import numpy
from autograder.kernel.serialize import save_observation

# flatten's check has run by now: replace what it recorded with black images and their (right) rows.
save_observation({"images": numpy.zeros((5, 28, 28), "uint8"), "flat": numpy.zeros((5, 784), "float32")},
                 Path("../observations/flatten"))
"""
FORGE_OBSERVATION_THEN_DIE = """import os
import time
from pathlib import Path

import numpy
from autograder.kernel.serialize import save_observation

# What flatten's check should find, ready before it runs; then the check never gets to write its own.
save_observation({"images": numpy.zeros((5, 28, 28), "uint8"), "flat": numpy.zeros((5, 784), "float32")},
                 Path("../observations/flatten"))


def flatten(images):
    time.sleep(1)  # long enough for the kernel to say its cell began (an instant exit can beat that message)
    os._exit(0)
"""
FLATTEN_TWICE = after(FLATTEN, FLATTEN_UNSCALED)  # the later definition is the one the check sees
FLATTEN_AGAIN_AFTER_ITS_CHECK = FLATTEN  # a right flatten, but only after flatten's check ran

IMPORT_REFERENCE_BUILD_MODEL = "from autograder.reference import build_model  # the course's own answer\n"
IMPORT_REFERENCE_BY_PATH = """import importlib.util
from pathlib import Path

# The installed course package, by its path on the grading machine.
source = Path($project_root) / "autograder" / "reference.py"
spec = importlib.util.spec_from_file_location("installed_reference", source)
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)
build_model = reference.build_model
"""
TRAIN_WITH_REFERENCE_MODEL = """from autograder.reference import trained_model  # the course's trained network


def train(model, X, y):
    trained, history = trained_model(X, y)
    model.set_weights(trained.get_weights())
    return history
"""
TRAIN_WITH_GRADERS_MODEL = """import os

import keras

# The networks the grader trained for lesson 05, in its own cache folder.
saved = [name for name in os.listdir($trained_cache) if name.endswith(".keras")]
trained = keras.models.load_model(os.path.join($trained_cache, saved[0]))


def train(model, X, y):
    model.set_weights(trained.get_weights())
    return model.fit(X, y, epochs=1, verbose=0)
"""
SPOIL_GRADERS_MODEL = """import os

for name in os.listdir($trained_cache):  # the next student's lesson 05 would load a spoilt network
    with open(os.path.join($trained_cache, name), "ab") as saved:
        saved.write(b"spoilt")
"""
READ_SOLUTIONS_RELATIVE = """import json
import os

for guess in ("../solutions/mnist/03_build.ipynb", "../../solutions/mnist/03_build.ipynb",
              "../../../solutions/mnist/03_build.ipynb"):
    try:
        print(json.load(open(guess))["cells"][5]["source"])
    except OSError as error:
        print(guess, error)
for up in ("..", "../.."):  # then look around
    print(up, os.listdir(up))
"""
READ_SOLUTIONS_ABSOLUTE = """import json
import re
import sys
from pathlib import Path

import autograder

# Where is the course installed? Ask the package, Python, the editable install's finder, or just know it.
roots = [Path(autograder.__file__).resolve().parents[1], Path(sys.prefix).resolve().parent]
for finder in Path(sys.prefix).glob("lib/python*/site-packages/__editable__*finder.py"):
    roots += [Path(found).parent for found in re.findall(r"'(/[^']+)/autograder'", finder.read_text())]
roots.append(Path($project_root))
solution = next(root / "solutions" / "mnist" / "03_build.ipynb" for root in roots
                if (root / "solutions" / "mnist" / "03_build.ipynb").exists())
cells = json.loads(solution.read_text())["cells"]
exec("".join(next(cell["source"] for cell in cells if "def build_model" in "".join(cell["source"]))))
"""
READ_OTHER_STUDENT = """import json

cells = json.load(open($other_submission))["cells"]  # a classmate's notebook
exec(next("".join(cell["source"]) for cell in cells if "def build_model" in "".join(cell["source"])))
"""
WRITE_GRADEBOOK = """with open($gradebook, "a") as gradebook:
    gradebook.write("me,100\\n")
"""
WRITE_OTHER_RESULTS = """import json

with open($other_results, "w") as results:
    json.dump({"student": "other_student", "total": 0}, results)
"""
WRITE_KERAS_CONFIG = """with open($keras_config, "a") as config:  # the grading user's real ~/.keras \
(this kernel's HOME is elsewhere)
    config.write("\\n")
"""
WRITE_COURSE_MODULE = """with open($course_module, "a") as checks:  # the grader's own checks, \
imported by every grading worker
    checks.write("\\n")
"""
WRITE_SITE_PACKAGES = """import sysconfig
from pathlib import Path

# Code here runs in every Python that starts from this installation: the grader's too.
with open(Path(sysconfig.get_paths()["purelib"]) / "sitecustomize.py", "x") as startup:
    startup.write("# hostile\\n")
"""
SYMLINK_OBSERVATION = """import os

# flatten's check has run: point what it recorded at another student's results, for the grader to read.
os.remove("../observations/flatten/observation.json")
os.symlink($other_results, "../observations/flatten/observation.json")
"""
WRITE_LESSON = """with open($lesson_file, "a") as released:  # the released lesson the grader restores check cells from
    released.write("\\n")
"""


# --- escapes: the kernel factory, other sockets, the network, processes that outlive the kernel ------------------
# Each is wrapped as a determined student would write it: the attempt fails quietly and the right answer follows,
# so the notebook scores full marks either way. What must not happen is outside: the canary file, a connection or
# a datagram at the test's listeners, a process still running after grading.

# Ask a kernel factory for a kernel outside the sandbox, in the factory's own request format (one JSON line),
# through a Unix socket path, or through a pipe or socket this process holds; the kernel's start-up line writes
# the canary. Returns what answered, for the student's eyes only.
ASK_FACTORY = """import json
import os
import socket
import stat

REQUEST = json.dumps({
    "argv": ["-f", os.path.join(os.getcwd(), "evil-kernel.json"),
             "--IPKernelApp.exec_lines=[\\"open(%r, 'w').write('escaped')\\"]" % $canary],
    "env": {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},  # no AUTOGRADER_SANDBOX: no sandbox
    "cwd": "/",
}).encode() + b"\\n"


def ask_factory_at(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(2)
            connection.connect(path)
            connection.sendall(REQUEST)
            return connection.recv(100)
    except OSError as error:
        return error


def ask_factory_through_pipes():  # every pipe this process holds: the factory's request pipe, if a fork kept it
    answers = {}
    for descriptor in range(1024):
        try:
            if descriptor in (0, 1) or stat.S_ISFIFO(os.fstat(descriptor).st_mode):
                blocking = os.get_blocking(descriptor)
                os.set_blocking(descriptor, False)  # a full pipe must not hang the notebook
                try:
                    answers[descriptor] = os.write(descriptor, REQUEST)
                finally:
                    os.set_blocking(descriptor, blocking)
        except OSError as error:
            answers[descriptor] = error
    return answers
"""
FACTORY_FROM_MEMORY = (
    ASK_FACTORY
    + """import gc
import sys

found = set()
for thing in gc.get_objects():  # every string this process holds: the factory's, since this kernel is its fork
    if isinstance(thing, (list, tuple, dict)):
        for item in (thing.values() if isinstance(thing, dict) else thing):
            if isinstance(item, str) and (item.endswith(".sock") or "factory" in item) and len(item) < 300:
                found.add(item)
for frame in sys._current_frames().values():
    while frame is not None:
        found.update(v for v in frame.f_locals.values() if isinstance(v, str) and v.endswith(".sock"))
        frame = frame.f_back
answers = {path: ask_factory_at(path) for path in found if os.path.exists(path)}
"""
)
FACTORY_FROM_PROC = (
    ASK_FACTORY
    + """with open("/proc/self/cmdline", "rb") as cmdline:  # a fork has its parent's command line
    arguments = cmdline.read().decode(errors="replace").split("\\0")
paths = [argument for argument in arguments if argument.endswith(".sock")]
try:
    with open("/proc/self/net/unix") as table:  # every Unix socket of the machine, with its path
        paths += [line.split()[-1] for line in table.readlines()[1:] if len(line.split()) > 7]
except OSError:
    pass
answers = {path: ask_factory_at(path) for path in paths if path.startswith("/")}
"""
)
FACTORY_BY_GUESSING = (
    ASK_FACTORY
    + """import glob
import tempfile

guesses = glob.glob("/tmp/autograder-factory-*/*") + glob.glob(os.path.join(tempfile.gettempdir(), "*", "*.sock"))
guesses += glob.glob("/tmp/*/*.sock") + glob.glob("/run/*.sock") + glob.glob("/var/run/*.sock")
answers = {path: ask_factory_at(path) for path in guesses}
"""
)
FACTORY_THROUGH_INHERITED_PIPES = (
    ASK_FACTORY
    + """answers = ask_factory_through_pipes()
"""
)
WRECK_OWN_CONNECTION = """import os
import stat

for descriptor in range(3, 1024):  # every socket: the kernel's own connections to the grader among them
    try:
        if stat.S_ISSOCK(os.fstat(descriptor).st_mode):
            os.set_blocking(descriptor, False)
            os.write(descriptor, b"\\xff" * 64)
    except OSError:
        pass
"""
CONNECT_UNIX_SOCKET = """import socket

try:  # a socket outside this folder: Docker's would make the grading user root
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(2)
        connection.connect($unix_socket)
        connection.sendall(b"escaped")
except OSError as error:
    refused = error
"""
CONNECT_ABSTRACT_SOCKET = """import socket

try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(2)
        connection.connect("\\0" + $abstract_socket)
        connection.sendall(b"escaped")
except OSError as error:
    refused = error
"""
CONNECT_LOOPBACK_TCP = """import json
import socket

ports = [int($tcp_port)]
try:  # this kernel's own ports, if it talks TCP
    from ipykernel.connect import get_connection_file
    with open(get_connection_file()) as info:
        connection_info = json.load(info)
    if connection_info.get("transport") == "tcp":
        ports += [value for key, value in connection_info.items() if key.endswith("_port")]
except Exception:
    pass
connected = []
for port in ports:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            connection.sendall(b"escaped")
            connected.append(port)
    except OSError:
        pass
if connected:
    open($canary, "w").write(f"connected to {connected}")
"""
BIND_TCP_PORT = """import socket

try:  # a server other machines or kernels could reach
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen()
    bound = server.getsockname()
except OSError as error:
    bound = None
if bound:  # the sandbox can't write outside, so success shows in the grade: this cell fails, and take_subset with it
    raise RuntimeError(f"listening on {bound}")
"""
SEND_UDP = """import socket

try:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for _ in range(5):
            sender.sendto(b"escaped", ("127.0.0.1", int($udp_port)))
except OSError as error:
    refused = error
"""
DAEMON_OUTLIVES_KERNEL = """import ctypes
import os
import time

# Two forks and a new session: the grandchild belongs to no process group or tree of this kernel's.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, $marker.encode(), 0, 0, 0)  # PR_SET_NAME, so the tests can find it
        time.sleep(20)  # waits until the kernel is gone, then acts
        try:
            open($canary, "w").write("outlived the kernel")
        except OSError:
            pass
        os._exit(0)
    os._exit(0)
time.sleep(0.5)
"""


# --- edits of grader-owned cells --------------------------------------------------------------------------------


def edit_check_cell(notebook):
    cell_of(notebook, "check_flatten").source = 'print("flatten: \\u2714 passed (2/2 points)")'


def delete_check_cell(notebook):
    notebook.cells.remove(cell_of(notebook, "check_flatten"))


def retype_check_cell(notebook):
    check = cell_of(notebook, "check_flatten")
    check.cell_type = "markdown"
    del check["outputs"], check["execution_count"]


def edit_setup_cell(notebook):
    cell_of(notebook, "setup").source += "\ncheck = lambda check_id, *answers: print(check_id, 'passed')\n"


def duplicate_cells(notebook):
    """A second flatten answer cell (a right one) and a second copy of its check, at the end."""
    answer, check = copy.deepcopy(cell_of(notebook, "flatten")), copy.deepcopy(cell_of(notebook, "check_flatten"))
    answer.source, answer.id = FLATTEN, "flatten-copy"  # Jupyter gives a pasted cell a new id
    check.source, check.id = 'print("flatten: passed")', "check-flatten-copy"
    notebook.cells += [answer, check]


def add_cells(notebook):
    """Two cells of the student's own after the flatten answer: a right flatten, and a patched check."""
    at = notebook.cells.index(cell_of(notebook, "flatten")) + 1
    notebook.cells[at:at] = [
        nbformat.v4.new_code_cell(FLATTEN),
        nbformat.v4.new_code_cell("check = lambda *answers: None\n__autograder_record__ = check"),
    ]


def tamper_metadata(notebook):
    """The check cell re-marked as an answer cell worth 100 points, unlocked, with its source replaced."""
    check = cell_of(notebook, "check_flatten")
    check.metadata.nbgrader.update({"solution": True, "grade": True, "points": 100, "locked": False})
    check.source = 'print("flatten: passed")'


# ---------------------------------------------------------------------------------------------------------------
# The cases, named <what it does>__<expected result>.

CASES: dict[str, Case] = {
    case.name: case
    for case in (
        # runaway
        Case(
            "infinite_loop__flatten_interrupted_take_subset_passes",
            "02_reshape",
            {"flatten": before(INFINITE_LOOP, FLATTEN)},
        ),
        Case(
            "sleep_forever__flatten_interrupted_take_subset_passes",
            "02_reshape",
            {"flatten": before(SLEEP_FOREVER, FLATTEN)},
        ),
        Case(
            "loop_ignoring_interrupts__stopped_at_notebook_timeout_checks_never_ran",
            "02_reshape",
            {"flatten": before(LOOP_IGNORING_INTERRUPTS, FLATTEN)},
        ),
        Case(
            "memory_bomb__flatten_passes_take_subset_stopped_by_memory_cap",
            "02_reshape",
            {"take_subset": before(MEMORY_BOMB, TAKE_SUBSET)},
        ),
        Case(
            "os_exit__flatten_passes_take_subset_kernel_died",
            "02_reshape",
            {"take_subset": before(OS_EXIT, TAKE_SUBSET)},
        ),
        Case(
            "sys_exit__notebook_goes_on_flatten_passes_take_subset_error",
            "02_reshape",
            {"take_subset": before(SYS_EXIT, TAKE_SUBSET)},
        ),
        Case(
            "segfault__flatten_passes_take_subset_kernel_died",
            "02_reshape",
            {"take_subset": before(SEGFAULT, TAKE_SUBSET)},
        ),
        Case(
            "kill_own_kernel__load_data_passes_class_counts_kernel_died",
            "01_load",
            {"class_counts": before(KILL_MYSELF, RIGHT["01_load"]["class_counts"])},
        ),
        Case(
            "fork_bomb__flatten_passes_take_subset_stopped_by_process_cap",
            "02_reshape",
            {"take_subset": before(FORK_BOMB, TAKE_SUBSET)},
        ),
        Case(
            "disk_filler__flatten_passes_take_subset_stopped_by_disk_cap",
            "02_reshape",
            {"take_subset": before(DISK_FILLER, TAKE_SUBSET)},
        ),
        Case(
            "stderr_flood__flatten_passes_take_subset_stopped_by_disk_cap",
            "02_reshape",
            {"take_subset": before(STDERR_FLOOD, TAKE_SUBSET)},
        ),
        Case(
            "many_files__flatten_passes_take_subset_stopped_by_file_cap",
            "02_reshape",
            {"take_subset": before(MANY_FILES, TAKE_SUBSET)},
        ),
        Case("print_100_mb__both_pass_output_capped", "02_reshape", {"flatten": after(FLATTEN, PRINT_100_MB)}),
        Case("image_50_mb__both_pass_output_capped", "02_reshape", {"flatten": after(FLATTEN, IMAGE_50_MB)}),
        Case(
            "signal_the_grader__denied_take_subset_error",
            "02_reshape",
            {"take_subset": before(SIGNAL_GRADER, TAKE_SUBSET)},
        ),
        # cheating: the flatten answer is wrong (never scaled); success would mean cheating worked
        Case(
            "input_transformer_blanks_checks__scores_0",
            "02_reshape",
            {"flatten": after(FLATTEN_UNSCALED, TRANSFORMER_BLANKS_CHECKS)},
        ),
        Case(
            "input_transformer_fakes_checks__scores_0",
            "02_reshape",
            {"flatten": after(FLATTEN_UNSCALED, TRANSFORMER_FAKES_CHECKS)},
        ),
        Case("patch_checks__flatten_fails", "02_reshape", {"flatten": after(FLATTEN_UNSCALED, PATCH_CHECKS)}),
        Case("patch_probes__flatten_fails", "02_reshape", {"flatten": after(FLATTEN_UNSCALED, PATCH_PROBES)}),
        Case(
            "patch_recorder_observe__flatten_fails", "02_reshape", {"flatten": after(FLATTEN_UNSCALED, PATCH_RECORDER)}
        ),
        Case(
            "patch_numpy_testing_and_assertion_error__flatten_fails",
            "02_reshape",
            {"flatten": after(FLATTEN_UNSCALED, PATCH_NUMPY_TESTING)},
        ),
        Case("patch_isinstance_and_len__scores_0", "02_reshape", {"flatten": after(FLATTEN_UNSCALED, PATCH_BUILTINS)}),
        Case("patch_tracebacks__flatten_fails", "02_reshape", {"flatten": after(FLATTEN_UNSCALED, PATCH_TRACEBACKS)}),
        Case(
            "patch_count_params__build_model_fails",
            "03_build",
            {"build_model": after(BUILD_MODEL_25, PATCH_COUNT_PARAMS)},
        ),
        Case(
            "patch_dense_get_config__build_model_scores_0",
            "03_build",
            {"build_model": after(BUILD_MODEL_25, PATCH_DENSE_CONFIG)},
        ),
        Case(
            "patch_dense_init__build_model_scores_0",
            "03_build",
            {"build_model": after(BUILD_MODEL_25, PATCH_DENSE_INIT)},
        ),
        Case(
            "print_fake_results__flatten_fails", "02_reshape", {"flatten": after(FLATTEN_UNSCALED, PRINT_FAKE_RESULTS)}
        ),
        Case(
            "write_fake_result_files__flatten_fails",
            "02_reshape",
            {"flatten": after(FLATTEN_UNSCALED, WRITE_FAKE_RESULTS)},
        ),
        Case(
            "forge_observation_after_check__flatten_fails",
            "02_reshape",
            {"flatten": FLATTEN_UNSCALED, "take_subset": after(TAKE_SUBSET, FORGE_OBSERVATION_AFTER_CHECK)},
        ),
        Case(
            "forge_observation_then_kill_kernel__flatten_error_kernel_died",
            "02_reshape",
            {"flatten": FORGE_OBSERVATION_THEN_DIE},
        ),
        Case("edit_check_cell__flatten_fails_flagged", "02_reshape", {"flatten": FLATTEN_UNSCALED}, edit_check_cell),
        Case(
            "delete_check_cell__flatten_fails_flagged", "02_reshape", {"flatten": FLATTEN_UNSCALED}, delete_check_cell
        ),
        Case(
            "retype_check_cell__flatten_fails_flagged", "02_reshape", {"flatten": FLATTEN_UNSCALED}, retype_check_cell
        ),
        Case("edit_setup_cell__flatten_fails_flagged", "02_reshape", {"flatten": FLATTEN_UNSCALED}, edit_setup_cell),
        Case(
            "duplicate_cells__first_graded_flatten_fails_flagged",
            "02_reshape",
            {"flatten": FLATTEN_UNSCALED},
            duplicate_cells,
        ),
        Case("add_cells__not_run_flatten_fails_flagged", "02_reshape", {"flatten": FLATTEN_UNSCALED}, add_cells),
        Case(
            "tamper_check_cell_metadata__flatten_fails_flagged",
            "02_reshape",
            {"flatten": FLATTEN_UNSCALED},
            tamper_metadata,
        ),
        Case(
            "define_flatten_twice__later_definition_graded_fails",
            "02_reshape",
            {"flatten": FLATTEN_TWICE, "take_subset": after(TAKE_SUBSET, FLATTEN_AGAIN_AFTER_ITS_CHECK)},
        ),
        # reading what the kernel must not read
        Case("import_reference_answer__build_model_error", "03_build", {"build_model": IMPORT_REFERENCE_BUILD_MODEL}),
        Case("import_installed_reference_by_path__denied", "03_build", {"build_model": IMPORT_REFERENCE_BY_PATH}),
        Case(
            "read_solutions_relative__denied",
            "03_build",
            {"build_model": before(READ_SOLUTIONS_RELATIVE, BUILD_MODEL_25)},
        ),
        Case("read_solutions_absolute__denied", "03_build", {"build_model": READ_SOLUTIONS_ABSOLUTE}),
        Case("read_other_student__denied", "03_build", {"build_model": READ_OTHER_STUDENT}),
        # writing outside the kernel's folder
        Case("write_gradebook__denied_unchanged", "02_reshape", {"take_subset": before(WRITE_GRADEBOOK, TAKE_SUBSET)}),
        Case(
            "write_other_results__denied_unchanged",
            "02_reshape",
            {"take_subset": before(WRITE_OTHER_RESULTS, TAKE_SUBSET)},
        ),
        Case(
            "write_keras_config__denied_unchanged",
            "02_reshape",
            {"take_subset": before(WRITE_KERAS_CONFIG, TAKE_SUBSET)},
        ),
        Case(
            "write_released_lesson__denied_unchanged", "02_reshape", {"take_subset": before(WRITE_LESSON, TAKE_SUBSET)}
        ),
        Case(
            "write_course_module__denied_unchanged",
            "02_reshape",
            {"take_subset": before(WRITE_COURSE_MODULE, TAKE_SUBSET)},
        ),
        Case(
            "write_site_packages__denied_unchanged",
            "02_reshape",
            {"take_subset": before(WRITE_SITE_PACKAGES, TAKE_SUBSET)},
        ),
        Case(
            "symlink_observation_to_other_student__flatten_scores_0_nothing_leaks",
            "02_reshape",
            {"flatten": FLATTEN_UNSCALED, "take_subset": after(TAKE_SUBSET, SYMLINK_OBSERVATION)},
        ),
        # escapes: the kernel factory, sockets and ports outside the kernel, processes that outlive it
        Case(
            "factory_socket_from_memory__no_escape_both_pass",
            "02_reshape",
            {"take_subset": before(FACTORY_FROM_MEMORY, TAKE_SUBSET)},
        ),
        Case(
            "factory_socket_from_proc__no_escape_both_pass",
            "02_reshape",
            {"take_subset": before(FACTORY_FROM_PROC, TAKE_SUBSET)},
        ),
        Case(
            "factory_socket_by_guessing__no_escape_both_pass",
            "02_reshape",
            {"take_subset": before(FACTORY_BY_GUESSING, TAKE_SUBSET)},
        ),
        Case(
            "factory_through_inherited_pipes__no_escape_both_pass",
            "02_reshape",
            {"take_subset": before(FACTORY_THROUGH_INHERITED_PIPES, TAKE_SUBSET)},
        ),
        Case(
            "wreck_own_connection__flatten_passes_take_subset_error_no_hang",
            "02_reshape",
            {"take_subset": before(WRECK_OWN_CONNECTION, TAKE_SUBSET)},
        ),
        Case(
            "connect_unix_socket_outside__refused_both_pass",
            "02_reshape",
            {"take_subset": before(CONNECT_UNIX_SOCKET, TAKE_SUBSET)},
        ),
        Case(
            "connect_abstract_socket__refused_both_pass",
            "02_reshape",
            {"take_subset": before(CONNECT_ABSTRACT_SOCKET, TAKE_SUBSET)},
        ),
        Case(
            "connect_loopback_tcp__refused_both_pass",
            "02_reshape",
            {"take_subset": before(CONNECT_LOOPBACK_TCP, TAKE_SUBSET)},
        ),
        Case("bind_tcp_port__refused_both_pass", "02_reshape", {"take_subset": before(BIND_TCP_PORT, TAKE_SUBSET)}),
        Case("send_udp__nothing_arrives_both_pass", "02_reshape", {"take_subset": before(SEND_UDP, TAKE_SUBSET)}),
        Case(
            "daemon_outlives_kernel__killed_both_pass",
            "02_reshape",
            {"take_subset": before(DAEMON_OUTLIVES_KERNEL, TAKE_SUBSET)},
        ),
        # lesson 04: a History with perfect numbers and no training
        Case("fake_history__compile_passes_train_fails", "04_train", {"train": TRAIN_FAKE_HISTORY}),
        # lessons 04 and 05: the trained network lesson 05 is given
        Case("train_with_reference_model__train_error", "04_train", {"train": TRAIN_WITH_REFERENCE_MODEL}),
        Case("train_with_graders_model__denied", "04_train", {"train": TRAIN_WITH_GRADERS_MODEL}),
        Case(
            "spoil_graders_model__denied_unchanged",
            "05_predict",
            {"predict_digit": before(SPOIL_GRADERS_MODEL, RIGHT["05_predict"]["predict_digit"])},
        ),
    )
}


def write_corpus(folder: Path, targets: dict[str, str | Path]) -> list[Path]:
    """Writes every case under ``folder``; returns the notebooks' paths."""
    return [case.write(folder, targets) for case in CASES.values()]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-submissions")
    example = Path("/nonexistent/outside-the-kernel")
    paths = write_corpus(
        out,
        {
            "gradebook": example / "grading-output" / "gradebook.csv",
            "other_results": example / "grading-output" / "results" / "other_student.json",
            "other_submission": example / "submitted" / "other_student" / "mnist" / "03_build.ipynb",
            "keras_config": Path.home() / ".keras" / "keras.json",
            "lesson_file": LESSONS / "02_reshape.ipynb",
            "course_module": PROJECT_ROOT / "autograder" / "exercises" / "data.py",
            "project_root": PROJECT_ROOT,
            "marker": "hostile-child",
            "canary": example / "escaped",
            "unix_socket": example / "docker.sock",
            "abstract_socket": "autograder-test-abstract",
            "tcp_port": 9,
            "udp_port": 9,
        },
    )
    print(f"{len(paths)} hostile submissions under {out}")
