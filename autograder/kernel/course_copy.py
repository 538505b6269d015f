"""What a student's kernel can import while it is graded: a copy of the course library without the answers.

The lessons' set-up cells import the course library (``autograder.notebook``, ``autograder.spec``,
``digits``) and the given answers of earlier lessons (``from autograder.reference import build_model``).
While a lesson is graded, its kernel imports a copy of those packages instead of the installed ones, and
in that copy :mod:`autograder.reference` holds only the answers of the lessons *before* it: an answer
that imports the reference's ``build_model`` in lesson 03 gets an ``ImportError``, not full marks. (A kernel forked
from the kernel factory finds ``digits``, which holds no answers, loaded already, with the data in memory:
:func:`autograder.kernel.factory_server.keep_digits`; its copy here is for a factory that could not load it.)
The sandbox (:mod:`autograder.kernel.sandbox`) keeps the installed packages and ``solutions/`` unreadable.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import digits
from autograder.protocol import TRAINING_COMPILE_FILE
from autograder.spec import SPEC, Spec

PACKAGES = {"autograder": Path(__file__).resolve().parent.parent, "digits": Path(digits.__file__).resolve().parent}


def data_source() -> str | None:
    """Where the kernels' ``mnist.load_data()`` reads from: MNIST_PATH, else Keras's cached mnist.npz."""
    if os.environ.get("MNIST_PATH"):
        return os.environ["MNIST_PATH"]
    cached = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"
    return str(cached) if cached.exists() else None


# Reference functions that hand out an answer's result: hidden wherever that answer is.
GIVES_THE_RESULT_OF = {"trained_model": "train"}


def answers_hidden_from(lesson: str, spec: Spec = SPEC) -> set[str]:
    """The reference's functions a graded ``lesson``'s kernel must not have: those named by the check ids of
    ``lesson`` and every later lesson, and those that give one of their results (:data:`GIVES_THE_RESULT_OF`)."""
    lessons = list(spec.lessons)
    hidden = {check for later in lessons[lessons.index(lesson) :] for check in spec.lessons[later]}
    return hidden | {name for name, answer in GIVES_THE_RESULT_OF.items() if answer in hidden}


def without_functions(source: str, names: set[str]) -> str:
    """``source`` with its top-level functions called one of ``names`` removed."""
    tree = ast.parse(source)
    tree.body = [node for node in tree.body if not (isinstance(node, ast.FunctionDef) and node.name in names)]
    return ast.unparse(tree) + "\n"


# The train check's network, in a kernel whose reference has no compile_model: compiled from the settings
# the grader saved beside it, so the kernel never holds the compile_model answer as code.
TRAINING_START_FROM_SETTINGS = '''
def training_start(spec=SPEC):
    """The reference network, seeded, compiled with the settings the grader saved (grading copy)."""
    import json
    from pathlib import Path
    import keras
    keras.utils.set_random_seed(spec.data.seed)
    model = build_model(spec)
    model.compile_from_config(json.loads(Path(__file__).with_name("training_compile.json").read_text()))
    return model
'''


def reference_for(lesson: str, source: str, spec: Spec = SPEC) -> tuple[str, dict | None]:
    """The kernel's ``reference.py`` for ``lesson``, and the compile settings it needs saved (or None)."""
    hidden = answers_hidden_from(lesson, spec)
    if "build_model" in hidden:
        return without_functions(source, hidden | {"training_start"}), None
    if "compile_model" in hidden:
        from autograder import reference

        settings = reference.training_start(spec).get_compile_config()
        return without_functions(source, hidden | {"training_start"}) + TRAINING_START_FROM_SETTINGS, settings
    return without_functions(source, hidden), None


def write_kernel_library(folder: Path, lesson: str, spec: Spec = SPEC) -> Path:
    """Writes the packages a graded ``lesson``'s kernel imports into ``folder``, and returns ``folder``."""
    for name, package in PACKAGES.items():
        shutil.copytree(package, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    reference = folder / "autograder" / "reference.py"
    source, settings = reference_for(lesson, reference.read_text(encoding="utf-8"), spec)
    reference.write_text(source, encoding="utf-8")
    if settings is not None:
        (folder / "autograder" / TRAINING_COMPILE_FILE).write_text(json.dumps(settings), encoding="utf-8")
    return folder
