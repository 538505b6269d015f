"""The kernel factory's process: imports the heavy libraries once, then forks a fresh kernel per notebook.

Importing TensorFlow takes a kernel about 3.5 s, five times per student. This process pays it once per
grading worker: it imports NumPy, Matplotlib, Keras (and TensorFlow) and ipykernel, then waits on a
Unix socket. For each notebook the grader sends ``{"argv", "env", "cwd"}``; the factory forks, and the
child, a copy of this pristine process that no student code has touched:

1. starts its own session (so the grader can kill it and everything it starts as one group);
2. takes the notebook's environment, working folder and course library (``PYTHONPATH``);
3. enters the sandbox (:mod:`autograder.sandbox`, loaded by path);
4. runs ipykernel, which reads its connection file from ``argv``.

One notebook's state can't reach another's: each kernel is a separate fork of the same untouched
parent, and the parent never runs student code. This file is run by path and imports nothing from
the course packages, which each kernel imports from its own lesson's copy.

Usage: ``python kernel_factory_server.py SOCKET_PATH SANDBOX_PY``; it prints ``ready`` when it accepts.
"""

import ctypes
import json
import os
import runpy
import signal
import socket
import sys

PRELOADED = ("numpy", "matplotlib.pyplot", "keras", "ipykernel.kernelapp")
_PR_SET_PDEATHSIG = 1


def preload() -> None:
    """Imports what every lesson's kernel imports, so the forks find it already loaded."""
    import importlib

    import matplotlib

    matplotlib.use("Agg")
    for name in PRELOADED:
        importlib.import_module(name)


def read_request(connection: socket.socket) -> dict:
    """One JSON request, terminated by a newline."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return json.loads(data)


def forget_cached_locations() -> None:
    """Makes the preloaded libraries look up the temporary folder again, under this notebook's TMPDIR.

    (Matplotlib has read its configuration and fonts already; it writes nothing the lessons need.)
    """
    import tempfile

    tempfile.tempdir = None


def become_kernel(request: dict, restrict_filesystem) -> None:
    """In the forked child: take the notebook's environment and sandbox, then run ipykernel (never returns)."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    environment = dict(request["env"])
    rules = environment.pop("AUTOGRADER_SANDBOX", None)  # absent: no sandbox
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(request["cwd"])
    sys.path[:0] = [path for path in environment.get("PYTHONPATH", "").split(os.pathsep) if path]
    forget_cached_locations()
    if rules is not None:
        restrict_filesystem(**json.loads(rules))
    sys.argv = ["ipykernel_launcher", *request["argv"]]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def serve(socket_path: str, sandbox_path: str) -> None:
    """Preloads, then forks one kernel per request until the grader goes away."""
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # the factory dies with its grader
    if os.getppid() == 1:
        return
    restrict_filesystem = runpy.run_path(sandbox_path)["restrict_filesystem"]
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped without a wait()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen()
    print("ready", flush=True)
    while True:
        connection, _ = server.accept()
        with connection:
            try:
                request = read_request(connection)
            except ValueError:
                continue
            pid = os.fork()
            if pid == 0:
                server.close()
                connection.close()
                try:
                    become_kernel(request, restrict_filesystem)
                    os._exit(0)
                except SystemExit as stop:  # the kernel shut down
                    os._exit(stop.code if isinstance(stop.code, int) else 0)
                except BaseException as error:  # noqa: BLE001 - the child must never return into this loop
                    print(f"kernel factory: the kernel could not start: {type(error).__name__}: {error}", file=sys.stderr)
                    os._exit(1)
            connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")


if __name__ == "__main__":
    del sys.path[0]  # this file's folder: the kernels import the course packages from their own copy
    serve(sys.argv[1], sys.argv[2])
