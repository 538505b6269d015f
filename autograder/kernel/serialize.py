"""Moves observations out of a student's kernel as data, never as pickles.

An observation (see :mod:`autograder.exercises`) holds arrays, plain values, tuples, lists, dicts and
Keras models. :func:`save_observation` writes it as ``observation.json`` (the structure),
``arrays.npz`` (loaded with ``allow_pickle=False``) and one ``.keras`` file per model (loaded with
Keras's ``safe_mode``); anything else is kept only as the name of its type. Nothing the kernel
writes can run code in the grader's process.

:func:`round_trip` applies the same conversion in memory, so the in-notebook check sees exactly
what the batch grader sees.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.protocol import ARRAYS_FILE, OBSERVATION_FILE


@dataclass(frozen=True)
class Opaque:
    """Stands in for a value that can't leave the kernel as data; keeps its type's name."""

    type_name: str


def type_name(value) -> str:
    """The name of a value's type, seeing through :class:`Opaque`."""
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def _is_keras_model(value) -> bool:
    try:
        import keras
    except ImportError:  # pragma: no cover - keras is a dependency
        return False
    return isinstance(value, keras.Model)


class _Encoder:
    def __init__(self, folder: Path | None):
        self.folder = folder
        self.arrays: dict[str, np.ndarray] = {}
        self.models: dict[str, object] = {}

    def encode(self, value):
        if isinstance(value, np.ndarray) and value.dtype != object:
            key = f"a{len(self.arrays)}"
            self.arrays[key] = value
            return {"__array__": key}
        if isinstance(value, np.generic):
            return self.encode(value.item())
        if isinstance(value, bool | int | str) or value is None:
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(item) for item in value]}
        if isinstance(value, list):
            return [self.encode(item) for item in value]
        if isinstance(value, dict) and all(isinstance(key, str) for key in value):
            return {"__dict__": {key: self.encode(item) for key, item in value.items()}}
        if _is_keras_model(value):
            key = f"model{len(self.models)}"
            if self.folder is None:
                self.models[key] = value
            else:
                try:
                    value.save(self.folder / f"{key}.keras")
                except Exception as error:  # noqa: BLE001 - an unsavable model is reported, not fatal
                    return {"__unsavable__": f"{type(value).__name__} ({type(error).__name__}: {error})"}
            return {"__model__": key}
        if hasattr(value, "__array__") and not isinstance(value, type):
            try:
                return self.encode(np.asarray(value))
            except Exception:  # noqa: BLE001 - an __array__ that fails: kept by its type's name below
                pass
        return {"__object__": type(value).__name__}


def _decode(value, arrays, load_model):
    if isinstance(value, list):
        return [_decode(item, arrays, load_model) for item in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return arrays[value["__array__"]]
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(_decode(item, arrays, load_model) for item in value["__tuple__"])
    if "__dict__" in value:
        return {key: _decode(item, arrays, load_model) for key, item in value["__dict__"].items()}
    if "__model__" in value:
        return load_model(value["__model__"])
    if "__unsavable__" in value:
        return Opaque(f"model that could not be saved: {value['__unsavable__']}")
    if "__object__" in value:
        return Opaque(value["__object__"])
    raise ValueError(f"Unknown entry in an observation: {value!r}")


def round_trip(observation: dict) -> dict:
    """The observation as the grader would read it back, without touching the disk."""
    encoder = _Encoder(folder=None)
    structure = encoder.encode(observation)
    return _decode(structure, encoder.arrays, encoder.models.__getitem__)


def save_observation(observation: dict, folder: Path) -> None:
    """Writes an observation into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    encoder = _Encoder(folder)
    structure = encoder.encode(observation)
    # numpy's stubs fear a key named allow_pickle; the keys are a0, a1, ...
    np.savez(folder / ARRAYS_FILE, **encoder.arrays)  # type: ignore[arg-type]
    (folder / OBSERVATION_FILE).write_text(json.dumps(structure), encoding="utf-8")


def load_observation(folder: Path) -> dict:
    """Reads an observation that :func:`save_observation` wrote, safely.

    Raises:
        ValueError: When the files are missing or malformed.
    """
    import keras

    def load_model(key: str):
        with warnings.catch_warnings():
            # The optimizer's state isn't needed (nothing is trained here); Keras warns that it skips it.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return keras.models.load_model(folder / f"{key}.keras", safe_mode=True)

    try:
        structure = json.loads((folder / OBSERVATION_FILE).read_text(encoding="utf-8"))
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        return _decode(structure, arrays, load_model)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"The observation in {folder} is missing or malformed: {error!r}") from error
