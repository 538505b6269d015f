"""The trained reference network that lesson 05's set-up loads: trained once, then loaded, never stale."""

from __future__ import annotations

import numpy as np
import pytest
from support.training import small_digits

from autograder import reference, trained_cache
from autograder.protocol import CACHE_VARIABLE


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of the test's own (``$MNIST_COURSE_CACHE``)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_VARIABLE, str(folder))
    return folder


@pytest.fixture(scope="module")
def digits():
    """100 synthetic digits: a training takes about a second."""
    X, y = small_digits()
    return X[:100], y[:100]


@pytest.mark.slow  # trains
def test_first_call_trains_and_keeps_it_later_calls_load_that_network(cache, digits, monkeypatch):
    """Is the second call's network the first one's (weights, optimizer state, History), loaded without training?"""
    model, history = reference.trained_model(*digits)
    kept = sorted(path.name for path in cache.iterdir())
    assert len(kept) == 2 and kept[0].endswith(".history.json") and kept[1].endswith(".keras"), kept

    def no_training(*args, **kwargs):
        raise AssertionError("trained_model trained again instead of loading")

    monkeypatch.setattr(reference, "train", no_training)
    loaded, loaded_history = reference.trained_model(*digits)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True))
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) > 0
    assert loaded_history.history == history.history and loaded_history.params == history.params
    assert loaded_history.epoch == history.epoch and loaded_history.model is loaded
    X, y = digits
    assert np.allclose(loaded.evaluate(X, y, verbose=0), model.evaluate(X, y, verbose=0))  # compiled as trained


@pytest.mark.slow  # trains
def test_seed_is_the_specs_afterwards_whether_trained_or_loaded(cache, digits):
    """Does code after the call draw the same random numbers when the network was loaded as when it was trained?"""
    import keras

    reference.trained_model(*digits)
    after_training = (np.random.random(), keras.random.uniform((1,)).numpy())
    reference.trained_model(*digits)
    after_loading = (np.random.random(), keras.random.uniform((1,)).numpy())
    assert after_training == after_loading


def test_other_data_or_threads_get_an_entry_of_their_own(digits):
    """Is an entry keyed by the data and the thread count, so that nothing stale is loaded?"""
    X, y = digits
    key = trained_cache.cache_key(X, y, env={})
    assert trained_cache.cache_key(X, y, env={}) == key
    assert trained_cache.cache_key(X, np.roll(y, 1), env={}) != key
    assert trained_cache.cache_key(X[:-1], y[:-1], env={}) != key
    assert trained_cache.cache_key(X, y, env={"TF_NUM_INTRAOP_THREADS": "1"}) != key


@pytest.mark.slow  # trains
def test_unreadable_entry_is_named_in_a_warning_and_trained_again(cache, digits):
    """A truncated model file: does the student hear which file, and get a trained network all the same?"""
    _, history = reference.trained_model(*digits)
    model_file = next(cache.glob("*.keras"))
    model_file.write_bytes(model_file.read_bytes()[:100])
    with pytest.warns(UserWarning, match=f"{model_file}.*could not be read.*training it again"):
        _, again = reference.trained_model(*digits)
    assert again.history == history.history
    assert trained_cache.load(cache, model_file.name.removeprefix("reference-").removesuffix(".keras")) is not None


@pytest.mark.slow  # trains
def test_a_folder_that_cannot_be_written_still_gives_the_trained_network(tmp_path, monkeypatch, digits):
    """As in a graded kernel that may not write: is the network trained and returned, with no error?"""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_VARIABLE, str(blocker / "cache"))  # below a file: no folder can be made there
    model, history = reference.trained_model(*digits)
    assert len(history.history["val_accuracy"]) == reference.SPEC.training.epochs
    assert model.count_params() > 0


def test_folder_is_the_variable_else_the_users_cache(tmp_path):
    """$MNIST_COURSE_CACHE, else $XDG_CACHE_HOME/mnist-course, else ~/.cache/mnist-course."""
    folder = trained_cache.cache_folder
    assert folder({CACHE_VARIABLE: "/a", "XDG_CACHE_HOME": "/b", "HOME": "/c"}) == trained_cache.Path("/a")
    assert folder({"XDG_CACHE_HOME": "/b", "HOME": "/c"}) == trained_cache.Path("/b/mnist-course")
    assert folder({"HOME": "/c"}) == trained_cache.Path("/c/.cache/mnist-course")


@pytest.mark.slow  # trains
def test_reference_accuracy_the_train_check_compares_with_is_trained_once_per_machine(cache, digits, monkeypatch):
    """Does a second grading process (here: the in-process memory cleared) load the reference's accuracy from the
    cache instead of training again, and get the same number?"""
    first = reference.reference_val_accuracy(*digits)
    assert len(list(cache.glob("*.keras"))) == 1
    monkeypatch.setattr(reference, "_VAL_ACCURACY", {})

    def no_training(*args, **kwargs):
        raise AssertionError("reference_val_accuracy trained again instead of loading")

    monkeypatch.setattr(reference, "train", no_training)
    assert reference.reference_val_accuracy(*digits) == first
