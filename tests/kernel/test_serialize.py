"""Tests of autograder.kernel.serialize: observations leave the kernel as data, never as pickles."""

import json
import math

import keras
import numpy as np
import pytest

from autograder import reference
from autograder.exercises.describe import describe_model
from autograder.kernel.serialize import Opaque, load_observation, round_trip, save_observation, type_name


class Gadget:
    """An object the serializer has never heard of."""


def plain_observation():
    """An observation with every kind of plain value the serializer keeps."""
    return {
        "images": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        "floats": np.linspace(0, 1, 5, dtype=np.float32),
        "pair": (np.array([1, 2]), "label"),
        "nested": {"ints": [1, 2, 3], "none": None, "flag": True, "text": "hi"},
        "count": 7,
        "rate": 0.25,
        "nan": float("nan"),
        "inf": float("-inf"),
        "numpy_int": np.int64(5),
        "numpy_float": np.float32(0.5),
        "empty": [],
    }


def assert_same_plain(got, original):
    """got equals the plain observation, with NumPy scalars turned into Python numbers."""
    assert set(got) == set(original)
    assert got["images"].dtype == np.uint8 and np.array_equal(got["images"], original["images"])
    assert got["floats"].dtype == np.float32 and np.array_equal(got["floats"], original["floats"])
    assert isinstance(got["pair"], tuple) and np.array_equal(got["pair"][0], [1, 2]) and got["pair"][1] == "label"
    assert got["nested"] == original["nested"]
    assert got["count"] == 7 and type(got["count"]) is int
    assert got["rate"] == 0.25
    assert math.isnan(got["nan"])
    assert got["inf"] == float("-inf")
    assert got["numpy_int"] == 5 and type(got["numpy_int"]) is int
    assert got["numpy_float"] == 0.5 and type(got["numpy_float"]) is float
    assert got["empty"] == []


def test_round_trip_keeps_plain_values():
    """Does round_trip keep arrays (with their dtypes), tuples, dicts, ints, floats incl. nan and inf, and None?"""
    original = plain_observation()
    assert_same_plain(round_trip(original), original)


def test_save_and_load_keep_plain_values(tmp_path):
    """Do save_observation and load_observation keep the same values as round_trip?"""
    original = plain_observation()
    save_observation(original, tmp_path / "obs")
    assert sorted(p.name for p in (tmp_path / "obs").iterdir()) == ["arrays.npz", "observation.json"]
    assert_same_plain(load_observation(tmp_path / "obs"), original)


def test_unknown_objects_become_opaque(tmp_path):
    """Do unknown objects, dicts with non-string keys and object arrays become Opaque with their type's name?"""
    original = {"gadget": Gadget(), "int_keys": {1: 2}, "objects": np.array([1, "a"], dtype=object), "fn": len}
    expected = {
        "gadget": Opaque("Gadget"),
        "int_keys": Opaque("dict"),
        "objects": Opaque("ndarray"),
        "fn": Opaque("builtin_function_or_method"),
    }
    assert round_trip(original) == expected
    save_observation(original, tmp_path)
    assert load_observation(tmp_path) == expected
    assert type_name(Opaque("Gadget")) == "Gadget" and type_name(3) == "int"


class ArrayLike:
    """Not an ndarray, but convertible to one, like a pandas Series or a TensorFlow tensor."""

    def __array__(self, dtype=None, copy=None):
        return np.array([[1, 2], [3, 4]], dtype=dtype)


def test_array_likes_become_arrays(tmp_path):
    """Is an object with __array__ kept as a plain ndarray, in memory and on disk?"""
    in_memory = round_trip({"m": ArrayLike()})["m"]
    save_observation({"m": ArrayLike()}, tmp_path)
    from_disk = load_observation(tmp_path)["m"]
    for got in (in_memory, from_disk):
        assert type(got) is np.ndarray and np.array_equal(got, [[1, 2], [3, 4]])


def test_keras_model_survives_save_and_load(tmp_path):
    """Does a compiled Keras model come back from disk with the same describe_model() and weights?"""
    model = reference.build_model()
    reference.compile_model(model)
    save_observation({"model": model, "note": "x"}, tmp_path)
    assert (tmp_path / "model0.keras").exists()
    loaded = load_observation(tmp_path)["model"]
    assert loaded is not model
    assert describe_model(loaded) == describe_model(model)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True))


def test_round_trip_keeps_the_model_object():
    """Does the in-memory round trip hand back the very model object, not a copy?"""
    model = reference.build_model()
    assert round_trip({"model": model})["model"] is model


def test_observation_file_is_json_without_pickles(tmp_path):
    """Is observation.json plain JSON and arrays.npz loadable with allow_pickle=False?"""
    save_observation(plain_observation(), tmp_path)
    structure = json.loads((tmp_path / "observation.json").read_text(encoding="utf-8"))
    assert structure["__dict__"]["nan"] == {"__float__": "nan"}
    with np.load(tmp_path / "arrays.npz", allow_pickle=False) as stored:
        assert len(stored.files) == 3


def test_object_array_in_npz_is_refused(tmp_path):
    """Does an arrays.npz holding an object array raise ValueError instead of unpickling it?"""
    save_observation({"a": np.arange(3)}, tmp_path)
    np.savez(tmp_path / "arrays.npz", a0=np.array([Gadget()], dtype=object))
    with pytest.raises(ValueError, match="malformed"):
        load_observation(tmp_path)


def test_missing_files_raise_value_error(tmp_path):
    """Does a folder without observation.json raise ValueError?"""
    with pytest.raises(ValueError, match="missing or malformed"):
        load_observation(tmp_path)


def test_unknown_entry_raises_value_error(tmp_path):
    """Does an observation.json with an entry the decoder doesn't know raise ValueError?"""
    save_observation({"a": 1}, tmp_path)
    (tmp_path / "observation.json").write_text(json.dumps({"__eval__": "__import__('os')"}), encoding="utf-8")
    with pytest.raises(ValueError, match="Unknown entry"):
        load_observation(tmp_path)


def test_lambda_layer_model_is_refused(tmp_path):
    """Does a saved model with a Python lambda inside raise ValueError (Keras's safe_mode) rather than load it?"""
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(lambda t: t * 2)])
    save_observation({"model": model}, tmp_path)
    with pytest.raises(ValueError, match="safe_mode"):
        load_observation(tmp_path)


def test_missing_array_raises_value_error(tmp_path):
    """Does an observation.json referencing an array that arrays.npz lacks raise ValueError?"""
    save_observation({"a": np.arange(3)}, tmp_path)
    (tmp_path / "observation.json").write_text(json.dumps({"__dict__": {"a": {"__array__": "a7"}}}), encoding="utf-8")
    with pytest.raises(ValueError):
        load_observation(tmp_path)
