"""Tests of autograder.exercises: observe -> round trip -> prepare -> check, and the registry of exercises."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autograder import reference  # noqa: E402
from autograder.exercises import EXERCISES, judge, observe, run_check  # noqa: E402
from autograder.results import CheckResult, Outcome  # noqa: E402
from autograder.serialize import load_observation, save_observation  # noqa: E402
from autograder.spec import DEFAULT_SPEC_PATH, SPEC, load_spec  # noqa: E402


def unfinished(*args, **kwargs):
    """An exercise as the lesson hands it out."""
    raise NotImplementedError()


X_SMALL = np.zeros((10, 784), dtype=np.float32)
Y_SMALL = np.zeros(10, dtype=np.uint8)

NOT_ATTEMPTED_ANSWERS = {
    "load_data": (None, None, None, None),
    "class_counts": (unfinished,),
    "flatten": (unfinished,),
    "take_subset": (unfinished,),
    "build_model": (unfinished,),
    "compile_model": (unfinished, reference.build_model),
    "train": (unfinished, X_SMALL, Y_SMALL),
    "predict_digit": (unfinished, reference.build_model),
    "plot_predictions": (unfinished, reference.build_model),
}


def test_exercises_match_the_spec():
    """Is there exactly one exercise per check in the spec, in the lessons' order?"""
    assert list(EXERCISES) == list(SPEC.points)
    assert set(NOT_ATTEMPTED_ANSWERS) == set(SPEC.points)
    assert all(exercise.check_id == check_id for check_id, exercise in EXERCISES.items())


def test_spec_points_total():
    """Do the spec's points add up per lesson as written in spec.toml?"""
    assert SPEC.points == {"load_data": 1, "class_counts": 1, "flatten": 2, "take_subset": 1, "build_model": 3,
                           "compile_model": 2, "train": 2, "predict_digit": 2, "plot_predictions": 2}
    assert SPEC.total_points == 16


@pytest.mark.parametrize("check_id", list(NOT_ATTEMPTED_ANSWERS))
def test_unfinished_exercise_is_not_attempted(check_id):
    """Is each exercise, still raising NotImplementedError, not attempted with 0 of the spec's points?"""
    result = run_check(check_id, *NOT_ATTEMPTED_ANSWERS[check_id])
    assert result.check_id == check_id
    assert result.outcome is Outcome.NOT_ATTEMPTED
    assert result.points == 0
    assert result.max_points == SPEC.points[check_id]
    assert "not attempted yet" in result.message
    assert EXERCISES[check_id].title in result.message
    assert "NotImplementedError" in result.hint


def test_crash_is_error_with_its_text():
    """Is an exception in the student's code an ERROR whose message names the exercise and the exception?"""
    def build_model():
        return keras.Sequential([keras.layers.Dense(-1)])

    result = run_check("build_model", build_model)
    assert result.outcome is Outcome.ERROR
    assert (result.points, result.max_points) == (0, SPEC.points["build_model"])
    assert result.message.startswith("Calling build_model() raised ")


def test_observe_returns_the_result_when_there_is_nothing_to_check():
    """Does observe hand back a CheckResult for an unfinished answer, and a dict of plain data otherwise?"""
    assert isinstance(observe("flatten", unfinished), CheckResult)
    observation = observe("flatten", reference.flatten)
    assert set(observation) == {"images", "flat"}


RIGHT_ANSWERS = {
    "flatten": (reference.flatten,),
    "take_subset": (reference.take_subset,),
    "build_model": (reference.build_model,),
    "compile_model": (reference.compile_model, reference.build_model),
}


@pytest.mark.parametrize("check_id", list(RIGHT_ANSWERS))
def test_saved_observation_gives_the_same_result(check_id, tmp_path):
    """Does judging an observation saved to disk and loaded back give the same result as run_check?"""
    answers = RIGHT_ANSWERS[check_id]
    save_observation(observe(check_id, *answers), tmp_path)
    from_disk = judge(check_id, load_observation(tmp_path))
    assert from_disk == run_check(check_id, *answers)
    assert from_disk.outcome is Outcome.PASSED


def test_saved_wrong_model_gives_the_same_failure(tmp_path):
    """Is a wrong model judged the same from disk as in memory, every mismatch included?"""
    def build_model():
        return keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(100, activation="relu", name="layer1"),
                                 keras.layers.Dense(25, activation="relu", name="layer2"),
                                 keras.layers.Dense(10, activation="sigmoid", name="layer3")])

    save_observation(observe("build_model", build_model), tmp_path)
    from_disk = judge("build_model", load_observation(tmp_path))
    assert from_disk == run_check("build_model", build_model)
    assert "25 units" in from_disk.message and "sigmoid" in from_disk.message


def test_points_follow_the_spec_file(tmp_path):
    """With a spec that gives flatten 5 points and take_subset a default of 1000, do the checks follow it?"""
    text = DEFAULT_SPEC_PATH.read_text(encoding="utf-8")
    text = text.replace("flatten = 2", "flatten = 5").replace("subset_size = 3000", "subset_size = 1000")
    custom = load_spec(_write(tmp_path / "spec.toml", text))
    assert custom.points["flatten"] == 5

    passed = run_check("flatten", reference.flatten, spec=custom)
    assert (passed.outcome, passed.points, passed.max_points) == (Outcome.PASSED, 5, 5)
    failed = run_check("flatten", lambda images: images.reshape(len(images), 784), spec=custom)
    assert (failed.outcome, failed.points, failed.max_points) == (Outcome.FAILED, 0, 5)

    def take_subset(x, y, n=1000):
        return x[:n], y[:n]

    assert run_check("take_subset", take_subset, spec=custom).passed
    assert not run_check("take_subset", take_subset).passed


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# The train exercise: the grader measures the trained model itself, in memory and from disk alike.


@pytest.fixture(scope="module")
def small_digits():
    """300 synthetic digits, flattened and scaled, and their labels: enough to train in a few seconds."""
    from digits.synthetic import make_digits

    images, labels = make_digits(300, seed=0)
    return reference.flatten(images), labels


def fabricated_train(model, X, y):
    """A train that doesn't train: it hands back a History with perfect numbers, set by hand."""
    epochs = SPEC.training.epochs
    history = keras.callbacks.History()
    history.params = {"verbose": 0, "epochs": epochs, "steps": SPEC.training.steps_per_epoch(len(X))}
    history.history = {name: [1.0] * epochs for name in ("loss", "accuracy", "val_loss", "val_accuracy")}
    return history


def test_train_observation_keeps_the_trained_model(small_digits):
    """Does observe keep the model train was given, trained, beside the History's description and X and y?"""
    observation = observe("train", reference.train, *small_digits)
    assert set(observation) == {"history", "model", "X", "y"}
    keras.utils.set_random_seed(SPEC.data.seed)
    untrained = reference.build_model()
    changed = [not np.array_equal(kept, fresh) for kept, fresh in zip(observation["model"].get_weights(),
                                                                      untrained.get_weights(), strict=True)]
    assert all(changed)


@pytest.mark.parametrize("train", [reference.train, fabricated_train], ids=["reference", "fabricated"])
def test_saved_train_observation_is_measured_the_same(train, small_digits, tmp_path):
    """Is a train observation judged the same from disk (model as .keras, safe mode) as in memory, and does
    the reference pass while a fabricated History fails?"""
    save_observation(observe("train", train, *small_digits), tmp_path)
    assert (tmp_path / "model0.keras").exists()
    from_disk = judge("train", load_observation(tmp_path))
    assert from_disk == run_check("train", train, *small_digits)
    assert from_disk.passed is (train is reference.train)
    if not from_disk.passed:
        assert "don't match what the grader measured on the model you trained" in from_disk.message


def test_prepare_train_measures_instead_of_reading_the_history(small_digits):
    """Does prepare_train's accuracy come from the model, whatever the History's description says?"""
    observation = observe("train", fabricated_train, *small_digits)
    prepared = EXERCISES["train"].prepare(**observation, spec=SPEC)
    assert observation["history"]["metrics"]["val_accuracy"][-1] == 1.0
    assert prepared["measured_val_accuracy"] < 0.3
    assert prepared["measurement_problem"] == ""
