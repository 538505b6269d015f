"""The reference network, trained the spec's way, kept on disk so that each machine trains it once.

Lesson 05's set-up cell needs a trained network to predict with: the one lessons 03 and 04 built, trained on the
lesson's digits. Training it takes about 6 s on two cores, every time the lesson is opened and every time it is
graded; :func:`autograder.reference.trained_model` trains it once and afterwards loads it (well under a second).

An entry is keyed by everything its numbers depend on: the spec file, the digits and labels, the Keras and
TensorFlow versions, and TensorFlow's thread count (``TF_NUM_INTRAOP_THREADS``; sums over more threads may round
differently). A changed spec or other data gets an entry of its own; nothing stale is ever loaded.

The folder is ``$MNIST_COURSE_CACHE``, else ``$XDG_CACHE_HOME/mnist-course``, else ``~/.cache/mnist-course``.
While a class is graded, the grader fills its own folder in a process of its own and gives each kernel that may
load the entry a copy (:mod:`autograder.kernel.reference_cache`): no submission can put a model there for another
to load.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import numpy as np

from autograder.protocol import CACHE_VARIABLE
from autograder.spec import SPEC, Spec


def cache_folder(env: Mapping[str, str] = os.environ) -> Path:
    """Where trained models are kept: ``$MNIST_COURSE_CACHE``, else the user's cache folder's ``mnist-course``."""
    if env.get(CACHE_VARIABLE):
        return Path(env[CACHE_VARIABLE])
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or str(Path.home()), ".cache")
    return Path(base) / "mnist-course"


def cache_key(X: np.ndarray, y: np.ndarray, spec: Spec = SPEC, env: Mapping[str, str] = os.environ) -> str:
    """The entry's name: a digest of the spec, the data, the library versions and the thread count."""
    digest = hashlib.sha256()
    for part in (
        spec.fingerprint,
        metadata.version("keras"),
        metadata.version("tensorflow"),
        env.get("TF_NUM_INTRAOP_THREADS", "default"),
        data_fingerprint(X, y),
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:24]


def data_fingerprint(*arrays: np.ndarray) -> str:
    """SHA-256 of the arrays' shapes, dtypes and bytes."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(str((array.shape, array.dtype.str)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def entry_paths(folder: Path, key: str) -> tuple[Path, Path]:
    """The entry's model file (Keras's ``.keras`` format: weights, compile settings, optimizer state) and its
    History (JSON)."""
    return folder / f"reference-{key}.keras", folder / f"reference-{key}.history.json"


def load(folder: Path, key: str):
    """The cached ``(model, history)``, or None when there is no entry.

    An entry that cannot be read (a truncated file, say) counts as none, with a warning naming the file: the
    caller trains again and replaces it.
    """
    import keras

    model_path, history_path = entry_paths(folder, key)
    if not (model_path.exists() and history_path.exists()):
        return None
    try:
        saved = json.loads(history_path.read_text(encoding="utf-8"))
        model = keras.models.load_model(model_path)
    except Exception as error:  # noqa: BLE001 - any unreadable entry is retrained, never fatal
        warnings.warn(
            f"The saved trained model {model_path} could not be read ({type(error).__name__}: {error}); "
            "training it again.",
            stacklevel=2,
        )
        return None
    history = keras.callbacks.History()
    history.history, history.epoch, history.params = saved["history"], saved["epoch"], saved["params"]
    history.set_model(model)
    return model, history


def save(folder: Path, key: str, model, history) -> bool:
    """Writes the entry (each file to a temporary name, then renamed into place); False if the folder is not
    writable, as in a graded kernel."""
    model_path, history_path = entry_paths(folder, key)
    partial = f".partial-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary_model = model_path.with_name(model_path.stem + partial + ".keras")
        model.save(temporary_model)
        temporary_history = history_path.with_name(history_path.name + partial)
        saved = {"history": history.history, "epoch": list(history.epoch), "params": dict(history.params)}
        temporary_history.write_text(json.dumps(saved), encoding="utf-8")
        os.replace(temporary_history, history_path)
        os.replace(temporary_model, model_path)
    except OSError:
        return False
    return True


def main() -> None:
    """``python -m autograder.trained_cache``: makes sure the cache holds the reference network for this
    environment's data (``MNIST_PATH``), training it as lesson 05's set-up would if it does not (a check that it
    does takes a second: TensorFlow is imported only to train); prints the entry's two files."""
    from autograder.reference import flatten, take_subset
    from digits import mnist
    from digits.errors import SyntheticDigitsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntheticDigitsWarning)
        (x_train, y_train), _ = mnist.load_data()
    X, y = take_subset(flatten(x_train), y_train)
    entry = entry_paths(cache_folder(), cache_key(X, y))
    if not all(path.is_file() for path in entry):
        from autograder.quiet import import_tensorflow_quietly
        from autograder.reference import trained_model

        import_tensorflow_quietly()
        trained_model(X, y)
    for path in entry:
        print(path)


if __name__ == "__main__":
    main()
