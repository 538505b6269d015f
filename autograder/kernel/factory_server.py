"""The kernel factory's process: imports the heavy libraries once, then forks a fresh kernel per notebook.

Importing TensorFlow takes a kernel about 3.5 s, five times per student. This process pays it once per
grading worker: it imports NumPy, Matplotlib, Keras (and TensorFlow) and ipykernel, then reads requests
from its standard input, one JSON line per notebook: ``{"argv", "env", "cwd"}``. It forks, answers
``{"pid": ...}`` on its standard output, and the child, a copy of this pristine process that no student
code has touched:

1. lets go of the factory's pipes (standard input and output become ``/dev/null``), so nothing the kernel
   runs can send the factory a request or forge an answer, and dies with the factory;
2. starts its own session (so the grader can kill it and everything it starts as one group);
3. takes the notebook's environment, working folder and course library (``PYTHONPATH``);
4. enters the sandbox (:mod:`autograder.kernel.sandbox`, loaded by path);
5. runs ipykernel, which reads its connection file from ``argv``.

Only the grader that started the factory holds the other ends of its pipes, so only it can ask for a
kernel: there is no socket to find, guess or connect to. The factory is a child subreaper: a process a
kernel starts and orphans (two forks and a new session) becomes the factory's child, not init's, so the
grader finds and kills it after the notebook. One notebook's state can't reach another's: each kernel is
a separate fork of the same untouched parent, and the parent never runs student code. This file is run by
path and imports nothing from the ``autograder`` package, which each kernel imports from its own lesson's copy
(without the answers). It does import the course's data package, ``digits``, which holds no answers, and keeps the
data of this factory's ``MNIST_PATH`` in memory (:func:`keep_digits`): each lesson that loads MNIST then gets a copy
instead of reading, checking or rendering it again.

Usage: ``python kernel_factory_server.py SANDBOX_PY QUIET_PY SANDBOX_VARIABLE DIGITS_PARENT``; it prints
``ready PID`` when it takes requests.
"""

import contextlib
import ctypes
import json
import os
import runpy
import signal
import sys
import warnings

# ipykernel.debugger (debugpy, about 130 modules and 60 ms) is imported by every kernel as it starts.
PRELOADED = ("numpy", "matplotlib.pyplot", "keras", "ipykernel.kernelapp", "ipykernel.debugger")
_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36


def preload(quiet_path: str) -> None:
    """Imports what every lesson's kernel imports, so the forks find it already loaded: TensorFlow first, with
    ``import_tensorflow_quietly`` from ``quiet_path`` (:mod:`autograder.quiet`, loaded by path), so the factory's
    log keeps only what went wrong."""
    import importlib

    runpy.run_path(quiet_path)["import_tensorflow_quietly"]()
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # else debugpy's import warns, in the log, of breakpoints
    import matplotlib

    matplotlib.use("Agg")
    for name in PRELOADED:
        importlib.import_module(name)


def keep_digits(digits_parent: str) -> None:
    """Imports ``digits`` from ``digits_parent`` (the folder holding the package) and keeps this factory's MNIST in
    memory (``digits.mnist.keep_in_memory``), so every kernel forked from here has both: its ``from digits import
    mnist`` finds the module loaded, and its ``mnist.load_data()`` returns a copy of the kept arrays. If the data
    cannot be loaded, nothing is kept, and a kernel that loads them gets the error itself, in its notebook. Without
    ``MNIST_PATH`` (the grader sets it whenever it has data) nothing is loaded: Keras would try to download them.
    Whatever loading prints goes to the log, never to standard output, the grader's answer pipe.

    It also renders the fonts' glyphs that synthetic digits are made from, once: the checks of lesson 05 run the
    student's answers on a few synthetic digits, whatever the data."""
    sys.path.insert(0, digits_parent)
    try:
        from digits import mnist, synthetic

        with contextlib.redirect_stdout(sys.stderr):
            synthetic.make_digits(1)
            if os.environ.get(mnist.MNIST_PATH_ENV):
                mnist.keep_in_memory()
    except Exception:  # noqa: BLE001 - the kernels load the data themselves and show why it failed
        pass
    finally:
        sys.path.remove(digits_parent)


def forget_cached_locations() -> None:
    """Makes the preloaded libraries look up the temporary folder again, under this notebook's TMPDIR.

    (Matplotlib has read its configuration and fonts already; it writes nothing the lessons need.)
    """
    import tempfile

    tempfile.tempdir = None


def become_kernel(request: dict, restrict_filesystem, factory: int, sandbox_variable: str) -> None:
    """In the forked child: take the notebook's environment and sandbox, then run ipykernel (never returns)."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    nothing = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1):  # the factory's request and answer pipes
        os.dup2(nothing, descriptor)
    os.close(nothing)
    sys.stdin, sys.stdout = open(0, closefd=False), open(1, "w", closefd=False)
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # the kernel dies with its factory
    if os.getppid() != factory:  # the factory died before that
        os._exit(1)
    os.setsid()
    environment = dict(request["env"])
    rules = environment.pop(sandbox_variable, None)  # absent: no sandbox
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(request["cwd"])
    sys.path[:0] = [path for path in environment.get("PYTHONPATH", "").split(os.pathsep) if path]
    forget_cached_locations()
    if rules is not None:
        restrict_filesystem(**json.loads(rules))
    # ipykernel's pipe for output from a kernel's forked children binds a TCP port, which the sandbox refuses;
    # that pipe is then off (such output is not shown), and its warning would only be noise in every notebook.
    warnings.filterwarnings("ignore", message="Couldn't bind IOPub Pipe")
    # What the kernel writes to its standard error goes to a file in its own folder, where it counts against the
    # notebook's disk limit, instead of into the factory's log, which outlives the notebook.
    stderr = os.open(
        os.path.join(os.path.dirname(request["cwd"]), "stderr.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
    )
    os.dup2(stderr, 2)
    os.close(stderr)
    sys.argv = ["ipykernel_launcher", *request["argv"]]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def serve(sandbox_path: str, quiet_path: str, sandbox_variable: str, digits_parent: str) -> None:
    """Preloads, then forks one kernel per request on standard input until the grader closes it."""
    libc = ctypes.CDLL(None)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # the factory dies with its grader
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1)  # orphans of the kernels become this process's children
    restrict_filesystem = runpy.run_path(sandbox_path)["restrict_filesystem"]
    preload(quiet_path)
    keep_digits(digits_parent)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels and their orphans are reaped without a wait()
    requests, answers, factory = sys.stdin.buffer, sys.stdout, os.getpid()
    print("ready", os.getpid(), file=answers, flush=True)
    for line in requests:
        try:
            request = json.loads(line)
        except ValueError:
            print(json.dumps({"error": "not a JSON request"}), file=answers, flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            try:
                become_kernel(request, restrict_filesystem, factory, sandbox_variable)
                os._exit(0)
            except SystemExit as stop:  # the kernel shut down
                os._exit(stop.code if isinstance(stop.code, int) else 0)
            except BaseException as error:  # noqa: BLE001 - the child must never return into this loop
                print(f"kernel factory: the kernel could not start: {type(error).__name__}: {error}", file=sys.stderr)
                os._exit(1)
        print(json.dumps({"pid": pid}), file=answers, flush=True)


if __name__ == "__main__":
    del sys.path[0]  # this file's folder: the kernels import autograder from their own copy, digits from argv[4]
    serve(*sys.argv[1:5])
