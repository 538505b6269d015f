"""The course's drop-in replacement for ``keras.datasets.mnist``.

Lessons do::

    from digits import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

and get what ``keras.datasets.mnist.load_data()`` returns. Where the data come
from is chosen by the environment variable ``MNIST_PATH`` (see `load_data`).
Everything is checked: official MD5s, ``MD5SUMS``/``SHA256SUMS`` files beside
the data, IDX headers, shapes, dtypes and label values.
"""

from __future__ import annotations

import os
import warnings
import zlib
from pathlib import Path

import numpy as np

from digits.errors import MnistDataError, MnistUnavailableError, SyntheticDigitsWarning
from digits.idx import read_idx_images, read_idx_labels, read_sums_file, verify_checksums
from digits.synthetic import load_synthetic

__all__ = [
    "MNIST_PATH_ENV",
    "IDX_FILES",
    "OFFICIAL_MD5",
    "load_data",
    "keep_in_memory",
    "load_from",
    "load_npz",
    "load_idx_folder",
    "load_idx_pair",
    "validate_split",
    "shared_mnist_dir",
]

MNIST_PATH_ENV = "MNIST_PATH"

# The checksums the MNIST distribution publishes for its four files.
OFFICIAL_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
IDX_FILES = tuple(OFFICIAL_MD5)
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
SUMS_FILES = {"MD5SUMS": "md5", "SHA256SUMS": "sha256"}

SYNTHETIC_MESSAGE = (
    "Using synthetic digits rendered from fonts (MNIST_PATH=synthetic), not real handwriting: "
    "fine for demos and tests, not for real results. load_data() returns 6,000 training and "
    "1,000 test digits; unset MNIST_PATH to use the real MNIST."
)

_FIXES = (
    "Either (1) set the environment variable MNIST_PATH to a Keras mnist.npz file or to a "
    "folder holding the four official IDX files ({files}) -- or MNIST_PATH=synthetic for "
    "demo digits rendered from fonts -- or (2) connect to the internet once and call "
    "load_data() again: Keras downloads mnist.npz (11 MB) and caches it for offline use."
)

Split = tuple[np.ndarray, np.ndarray]

# What keep_in_memory() loaded: (MNIST_PATH, load_data's path) -> the arrays, read-only.
_KEPT: dict[tuple[str, str], tuple[Split, Split]] = {}


def load_data(path: str = "mnist.npz") -> tuple[Split, Split]:
    """Load MNIST, like ``keras.datasets.mnist.load_data``.

    Where the data come from depends on the environment variable ``MNIST_PATH``:

    * ``synthetic``: 6,000 training and 1,000 test digits rendered from fonts
      (`digits.synthetic.load_synthetic`), with a `SyntheticDigitsWarning`.
      For demos and tests only: these are not handwritten digits.
    * a path to a Keras-format ``.npz`` file (arrays x_train, y_train, x_test,
      y_test): that file, see `load_npz`.
    * a path to a folder holding the official IDX files
      ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
      ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``: those
      files, checked against the official MD5s, see `load_idx_folder`.
    * unset or empty: Keras's own ``keras.datasets.mnist.load_data(path)``, which
      uses the cached ``~/.keras/datasets/mnist.npz`` (``$KERAS_HOME/datasets``)
      or downloads it and checks its hash. Synthetic digits are never used
      unless asked for.

    Args:
        path: File name of the Keras cache, relative to ``~/.keras/datasets``;
            used only when ``MNIST_PATH`` is unset.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        (count, 28, 28) with values 0-255 and uint8 labels 0-9 of shape (count,).
        The real MNIST has 60,000 training and 10,000 test digits.

    Raises:
        MnistUnavailableError: If ``MNIST_PATH`` names a missing path, a file of
            an unknown type or a folder without the four IDX files, or, with
            ``MNIST_PATH`` unset, if Keras has no cached copy and cannot download one.
        MnistDataError: If the data are corrupt or not MNIST-shaped.
    """
    source = os.environ.get(MNIST_PATH_ENV, "").strip()
    synthetic = source.lower() == "synthetic"
    if synthetic:
        warnings.warn(SYNTHETIC_MESSAGE, SyntheticDigitsWarning, stacklevel=2)
    kept = _KEPT.get((source, path))
    if kept is not None:
        (x_train, y_train), (x_test, y_test) = kept
        return (x_train.copy(), y_train.copy()), (x_test.copy(), y_test.copy())
    if synthetic:
        return load_synthetic()
    if source:
        return load_from(source)
    return _load_with_keras(path)


def keep_in_memory(path: str = "mnist.npz") -> None:
    """Loads what ``load_data(path)`` returns now and keeps it in this process: from then on, while ``MNIST_PATH``
    is what it is now, ``load_data(path)`` here and in every process forked from this one returns a copy of it
    instead of reading and checking the files again (or rendering synthetic digits again, about a second).

    The kernel factory (``autograder/kernel/factory_server.py``) calls it before it forks any kernel, so each
    graded lesson that loads MNIST gets its copy in milliseconds. Each call still returns arrays of its own:
    changing them changes nothing kept.

    Raises:
        What ``load_data`` raises; nothing is kept then.
    """
    source = os.environ.get(MNIST_PATH_ENV, "").strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntheticDigitsWarning)
        data = load_data(path)
    for split in data:
        for array in split:
            array.setflags(write=False)
    _KEPT[source, path] = data


def load_from(source: str | os.PathLike) -> tuple[Split, Split]:
    """Load MNIST from a ``.npz`` file or a folder of IDX files (what ``MNIST_PATH`` may name).

    Args:
        source: Path to a Keras-format ``.npz`` file or to a folder with the four
            official IDX ``.gz`` files; ``~`` and ``$VARIABLES`` are expanded.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as in `load_data`.

    Raises:
        MnistUnavailableError: If the path does not exist, is neither a folder
            nor a ``.npz`` file, or the folder lacks some of the IDX files.
        MnistDataError: If the data are corrupt or not MNIST-shaped.
    """
    path = Path(os.path.expandvars(os.path.expanduser(os.fspath(source))))
    if path.is_dir():
        return load_idx_folder(path)
    if path.is_file() and path.suffix.lower() == ".npz":
        return load_npz(path)
    problem = "does not exist" if not path.exists() else "is neither a folder nor a .npz file"
    raise MnistUnavailableError(
        f"{MNIST_PATH_ENV}={os.fspath(source)!r}: {path} {problem}. Set {MNIST_PATH_ENV} to a "
        f"Keras mnist.npz file, to a folder holding the four official IDX files "
        f"({', '.join(IDX_FILES)}), or to 'synthetic' for demo digits; or unset it so that "
        f"Keras loads its cached mnist.npz (downloading it once when online)."
    )


def load_npz(path: str | os.PathLike) -> tuple[Split, Split]:
    """Load a Keras-format ``mnist.npz`` and check it.

    If a file ``<path>.sha256`` exists beside it (``<hex digest>`` or
    ``<hex digest>  <name>``), the file's SHA-256 must match it.

    Args:
        path: The ``.npz`` file, holding arrays x_train, y_train, x_test, y_test.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as in `load_data`.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        MnistDataError: If the checksum differs, the file is not a readable
            ``.npz``, arrays are missing, or they fail `validate_split`.
    """
    path = Path(path)
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file():
        verify_checksums(path, [("sha256", _read_sidecar(sidecar), str(sidecar))])
    arrays = _read_npz_arrays(path)
    return (
        validate_split(arrays["x_train"], arrays["y_train"], f"{path} (x_train, y_train)"),
        validate_split(arrays["x_test"], arrays["y_test"], f"{path} (x_test, y_test)"),
    )


def load_idx_folder(folder: str | os.PathLike, *, check_official_md5: bool = True) -> tuple[Split, Split]:
    """Load MNIST from a folder holding the four official IDX ``.gz`` files.

    Each file is checked against the official MD5 (`OFFICIAL_MD5`) and against
    ``MD5SUMS`` / ``SHA256SUMS`` files in the folder, if present.

    Args:
        folder: Folder with ``train-images-idx3-ubyte.gz``,
            ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
            ``t10k-labels-idx1-ubyte.gz``.
        check_official_md5: Check files against `OFFICIAL_MD5`. Turn off only
            for small stand-in files (tests); the SUMS files are checked either way.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as in `load_data`.

    Raises:
        MnistUnavailableError: If any of the four files is missing; the message
            names them.
        MnistDataError: If a checksum differs or a file is corrupt or not MNIST-shaped.
    """
    folder = Path(folder)
    missing = [name for name in IDX_FILES if not (folder / name).is_file()]
    if missing:
        only_test = all(name.startswith("train-") for name in missing)
        hint = (
            (" It has only the test files: to use those alone, call digits.mnist.load_idx_pair(folder, prefix='t10k').")
            if only_test
            else ""
        )
        raise MnistUnavailableError(
            f"{folder} lacks {', '.join(missing)}; loading MNIST from a folder needs all four "
            f"official IDX files ({', '.join(IDX_FILES)}).{hint} Add the missing files from the "
            f"official MNIST distribution, or set {MNIST_PATH_ENV} to a Keras mnist.npz file "
            f"(or to 'synthetic' for demo digits), or unset {MNIST_PATH_ENV} and let Keras "
            f"download and cache mnist.npz when online."
        )
    return (
        load_idx_pair(folder, "train", check_official_md5=check_official_md5),
        load_idx_pair(folder, "t10k", check_official_md5=check_official_md5),
    )


def load_idx_pair(folder: str | os.PathLike, prefix: str = "t10k", *, check_official_md5: bool = True) -> Split:
    """Read and check one images/labels pair of IDX files, e.g. the 10,000 test digits.

    Reads ``<prefix>-images-idx3-ubyte.gz`` and ``<prefix>-labels-idx1-ubyte.gz``,
    after checking them against `OFFICIAL_MD5` (for the official names) and
    against ``MD5SUMS`` / ``SHA256SUMS`` in the folder, if present.

    Args:
        folder: The folder holding the pair, e.g. `shared_mnist_dir()`.
        prefix: ``"t10k"`` for the test set, ``"train"`` for the training set.
        check_official_md5: Check files against `OFFICIAL_MD5`. Turn off only
            for small stand-in files (tests); the SUMS files are checked either way.

    Returns:
        ``(images, labels)``: uint8 (count, 28, 28) and uint8 (count,) with values 0-9.

    Raises:
        MnistUnavailableError: If either file is missing.
        MnistDataError: If a checksum differs or a file is corrupt or not MNIST-shaped.
    """
    folder = Path(folder)
    names = (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise MnistUnavailableError(
            f"{folder} lacks {', '.join(missing)}; put the official MNIST file(s) there or "
            f"pass the folder that holds them."
        )
    sums = {
        file: (algorithm, read_sums_file(folder / file))
        for file, algorithm in SUMS_FILES.items()
        if (folder / file).is_file()
    }
    for name in names:
        checks = []
        if check_official_md5 and name in OFFICIAL_MD5:
            checks.append(("md5", OFFICIAL_MD5[name], "the official MNIST MD5"))
        for file, (algorithm, listed) in sums.items():
            if name in listed:
                checks.append((algorithm, listed[name], str(folder / file)))
        verify_checksums(folder / name, checks)
    images_path, labels_path = (folder / name for name in names)
    return validate_split(
        read_idx_images(images_path), read_idx_labels(labels_path), f"{images_path} / {labels_path.name}"
    )


def validate_split(images: np.ndarray, labels: np.ndarray, source: str = "the data") -> Split:
    """Check that images and labels look like an MNIST split.

    Args:
        images: Should be uint8 of shape (count, 28, 28).
        labels: Should be integers 0-9 of shape (count,).
        source: Where they come from, for the error messages.

    Returns:
        ``(images, labels)`` with labels as uint8.

    Raises:
        MnistDataError: If the images are not uint8 28x28, the labels not integers
            0-9 in one dimension, or the counts differ.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    fix = "replace the data with the original MNIST files"
    if images.dtype != np.uint8:
        raise MnistDataError(
            f"{source}: images have dtype {images.dtype}, expected uint8 "
            f"(pixel values 0-255, as in MNIST); convert them or {fix}"
        )
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise MnistDataError(
            f"{source}: images have shape {images.shape}, expected "
            f"(count, 28, 28): MNIST images are 28x28 pixels; {fix}"
        )
    if labels.ndim != 1 or not (np.issubdtype(labels.dtype, np.integer) and labels.dtype != bool):
        raise MnistDataError(
            f"{source}: labels have dtype {labels.dtype} and shape "
            f"{labels.shape}, expected integers of shape (count,); {fix}"
        )
    if len(images) != len(labels):
        raise MnistDataError(
            f"{source}: image and label counts differ: {len(images)} images "
            f"but {len(labels)} labels; every image needs one label -- {fix}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise MnistDataError(
            f"{source}: labels must be digits 0-9, found values from {labels.min()} to {labels.max()}; {fix}"
        )
    return images, labels.astype(np.uint8, copy=False)


def shared_mnist_dir(project_root: str | os.PathLike | None = None) -> Path | None:
    """Find the official MNIST test files kept beside the project, if present.

    Args:
        project_root: The project folder; by default the one holding the
            ``digits`` package.

    Returns:
        ``<project root>/../shared/data/mnist`` if it holds
        ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``, else None.
    """
    root = Path(project_root) if project_root is not None else Path(__file__).resolve().parents[1]
    folder = (root / ".." / "shared" / "data" / "mnist").resolve()
    present = all((folder / name).is_file() for name in IDX_FILES if name.startswith("t10k"))
    return folder if present else None


def _load_with_keras(path: str) -> tuple[Split, Split]:
    keras_home = os.path.expanduser(os.environ.get("KERAS_HOME", os.path.join("~", ".keras")))
    cached = os.path.join(keras_home, "datasets", path)
    try:
        from keras.datasets import mnist as keras_mnist

        (x_train, y_train), (x_test, y_test) = keras_mnist.load_data(path=path)
    except Exception as exc:
        raise MnistUnavailableError(
            f"MNIST is not available: {MNIST_PATH_ENV} is not set, and Keras has no cached "
            f"{cached} and could not download it ({exc}). " + _FIXES.format(files=", ".join(IDX_FILES))
        ) from exc
    return (
        validate_split(x_train, y_train, f"{cached} (x_train, y_train)"),
        validate_split(x_test, y_test, f"{cached} (x_test, y_test)"),
    )


def _read_npz_arrays(path: Path) -> dict[str, np.ndarray]:
    import zipfile

    unreadable = (zipfile.BadZipFile, EOFError, ValueError, zlib.error, OSError)
    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except unreadable as exc:
        raise MnistDataError(
            f"{path}: not a readable .npz file ({exc}); it is corrupt, truncated or another "
            f"format. Replace it with a copy of Keras's mnist.npz."
        ) from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise MnistDataError(
            f"{path}: holds a single array (.npy format), not an .npz archive of named arrays; "
            f"save it with np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)."
        )
    with npz:
        missing = [key for key in NPZ_KEYS if key not in npz.files]
        if missing:
            raise MnistDataError(
                f"{path}: missing the array(s) {', '.join(missing)}; a Keras-format MNIST "
                f".npz holds {', '.join(NPZ_KEYS)} but this one has "
                f"{', '.join(npz.files) or 'none'}. Save it with "
                f"np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)."
            )
        try:
            return {key: npz[key] for key in NPZ_KEYS}
        except unreadable as exc:
            raise MnistDataError(
                f"{path}: an array in the .npz cannot be read ({exc}); the file is corrupt or "
                f"truncated. Replace it with a copy of Keras's mnist.npz."
            ) from exc


def _read_sidecar(sidecar: Path) -> str:
    fields = sidecar.read_text().split()
    digest = fields[0].lower() if fields else ""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise MnistDataError(
            f"{sidecar}: expected a SHA-256 hex digest (64 hex digits), "
            f"optionally followed by the file name; fix or delete this file"
        )
    return digest
