"""Tests of autograder.exercises: observe -> round trip -> prepare -> check, and the registry of exercises."""

import matplotlib

matplotlib.use("Agg")

import keras
import numpy as np
import pytest
from support.training import fabricated_train

from autograder import reference
from autograder.exercises import EXERCISES, grader_inputs, judge, observe, run_check
from autograder.kernel.serialize import load_observation, save_observation
from autograder.results import CheckResult, Outcome
from autograder.spec import DEFAULT_SPEC_PATH, SPEC, load_spec


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
    assert SPEC.points == {
        "load_data": 1,
        "class_counts": 1,
        "flatten": 2,
        "take_subset": 1,
        "build_model": 3,
        "compile_model": 2,
        "train": 2,
        "predict_digit": 2,
        "plot_predictions": 2,
    }
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
        return keras.Sequential(
            [
                keras.Input(shape=(784,)),
                keras.layers.Dense(100, activation="relu", name="layer1"),
                keras.layers.Dense(25, activation="relu", name="layer2"),
                keras.layers.Dense(10, activation="sigmoid", name="layer3"),
            ]
        )

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


# The train exercise: the grader measures the trained model itself, in memory and from disk alike
# (small_digits is the conftest's fixture; fabricated_train never calls fit).


@pytest.mark.slow  # trains the network
def test_train_observation_keeps_the_trained_model(small_digits):
    """Does observe keep the model train was given, trained, beside the History's description and X and y?"""
    observation = observe("train", reference.train, *small_digits)
    assert set(observation) == {"history", "model", "X", "y", "fit_calls"}
    assert observation["fit_calls"] == [
        {
            "epochs": SPEC.training.epochs,
            "batch_size": SPEC.training.batch_size,
            "validation_split": SPEC.training.validation_split,
            "validation_data": None,
            "rows": len(small_digits[0]),
            "given_x": True,
            "callbacks": [],
        }
    ]
    keras.utils.set_random_seed(SPEC.data.seed)
    untrained = reference.build_model()
    changed = [
        not np.array_equal(kept, fresh)
        for kept, fresh in zip(observation["model"].get_weights(), untrained.get_weights(), strict=True)
    ]
    assert all(changed)


@pytest.mark.slow  # trains the network
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
        assert "train never called model.fit on the model it was given" in from_disk.message


def test_prepare_train_measures_instead_of_reading_the_history(small_digits):
    """Does prepare_train's accuracy come from the model, whatever the History's description says?"""
    observation = observe("train", fabricated_train, *small_digits)
    prepared = EXERCISES["train"].prepare(**observation, spec=SPEC)
    assert observation["history"]["metrics"]["val_accuracy"][-1] == 1.0
    assert prepared["measured_val_accuracy"] < 0.3
    assert prepared["measurement_problem"] == ""


# Inputs the kernel sends back: the batch grader (rebuild_inputs=True) judges against its own.


def unscaled_flatten(images):
    """A wrong flatten: float32 rows, never divided by 255."""
    return images.reshape(len(images), 784).astype("float32")


def counts_assuming_every_digit(y):
    """A wrong class_counts: np.unique skips a digit that never occurs."""
    return np.unique(y, return_counts=True)[1]


def transposed_flatten(images):
    """A wrong flatten: reads each image column by column."""
    return images.transpose(0, 2, 1).reshape(len(images), 784).astype("float32") / 255


def symmetric_images():
    """The grader's images made symmetric: a transposed flatten reads them right."""
    images = grader_inputs("flatten")["images"].astype(np.uint16)
    return {"images": ((images + images.transpose(0, 2, 1)) // 2).astype(np.uint8)}


def misaligned_subset(x, y, n=SPEC.data.subset_size):
    """A wrong take_subset: each label is the next row's."""
    return x[:n], y[1 : n + 1]


def forged(answer, check_id, **inputs):
    """The observation a patched kernel sends: ``answer`` run on inputs of its own choosing, sent with them."""
    if check_id == "flatten":
        return {**inputs, "flat": answer(inputs["images"])}
    if check_id == "class_counts":
        return {**inputs, "counts": answer(inputs["labels"])}
    return {
        **inputs,
        "subset": answer(inputs["x"], inputs["y"], n=inputs["n"]),
        "default_subset": answer(inputs["default_x"], inputs["default_y"]),
    }


def forged_subset_inputs():
    """The grader's x's with labels all 0: a misaligned subset then matches its own labels."""
    inputs = grader_inputs("take_subset")
    return {**inputs, "y": np.zeros_like(inputs["y"]), "default_y": np.zeros_like(inputs["default_y"])}


# check id, wrong answer, inputs that make it look right, what the rebuilt check says
FORGERIES = {
    "flatten-black-images": (
        "flatten",
        unscaled_flatten,
        lambda: {"images": np.zeros((5, 28, 28), np.uint8)},
        "flatten's values don't match the images' pixels",
    ),
    "flatten-symmetric-images": (
        "flatten",
        transposed_flatten,
        symmetric_images,
        "flatten's values don't match the images' pixels",
    ),
    "class_counts-every-digit": (
        "class_counts",
        counts_assuming_every_digit,
        lambda: {"labels": np.arange(523, dtype=np.uint8) % 10},
        "class_counts gave wrong counts for",
    ),
    "take_subset-constant-labels": (
        "take_subset",
        misaligned_subset,
        forged_subset_inputs,
        "take_subset(x, y, n=11) didn't return the first 11 rows",
    ),
}


@pytest.mark.parametrize("check_id, answer, inputs, message", list(FORGERIES.values()), ids=list(FORGERIES))
def test_forged_inputs_fail_when_the_grader_rebuilds_them(check_id, answer, inputs, message, tmp_path):
    """Does a wrong answer sent with inputs that make it look right pass on the kernel's inputs (the gap
    rebuild_inputs closes) and fail on the grader's own, as it does when nothing is forged?"""
    save_observation(forged(answer, check_id, **inputs()), tmp_path)
    observation = load_observation(tmp_path)
    assert judge(check_id, observation).passed
    rebuilt = judge(check_id, observation, rebuild_inputs=True)
    assert (rebuilt.outcome, rebuilt.points) == (Outcome.FAILED, 0)
    assert message in rebuilt.message and rebuilt.hint
    assert not run_check(check_id, answer).passed


RIGHT_WITH_INPUTS = {
    "class_counts": (lambda y: np.bincount(y, minlength=10),),
    "flatten": (reference.flatten,),
    "take_subset": (reference.take_subset,),
}


@pytest.mark.parametrize("check_id", list(RIGHT_WITH_INPUTS))
def test_right_answer_passes_on_rebuilt_inputs(check_id, tmp_path):
    """Does the right answer's real observation, saved and loaded back, pass on the grader's rebuilt inputs?"""
    save_observation(observe(check_id, *RIGHT_WITH_INPUTS[check_id]), tmp_path)
    assert judge(check_id, load_observation(tmp_path), rebuild_inputs=True).passed


def test_grader_inputs_are_the_observed_inputs():
    """Are the rebuilt inputs exactly those the observe step passes (probes), and empty where there are none?"""
    for check_id, answers in RIGHT_WITH_INPUTS.items():
        observation, inputs = observe(check_id, *answers), grader_inputs(check_id)
        assert set(inputs) < set(observation)
        for name, value in inputs.items():
            assert (
                np.array_equal(value, observation[name])
                and np.asarray(value).dtype == np.asarray(observation[name]).dtype
            )
    for check_id in ("load_data", "build_model", "compile_model", "predict_digit", "plot_predictions"):
        assert grader_inputs(check_id) == {}


OUTPUTS_OF_OTHER_SHAPES = {
    "flatten": {"images": np.zeros((3, 28, 28), np.uint8), "flat": np.zeros((3, 784), np.float32)},
    "class_counts": {"labels": np.zeros(4, np.uint8), "counts": np.array([4])},
    "take_subset": forged(
        reference.take_subset,
        "take_subset",
        x=np.zeros((2, 784), np.float32),
        y=np.zeros(2, np.uint8),
        n=1,
        default_x=np.zeros((2, 784), np.float32),
        default_y=np.zeros(2, np.uint8),
    ),
}


@pytest.mark.parametrize("check_id", list(OUTPUTS_OF_OTHER_SHAPES))
def test_outputs_for_other_inputs_fail_cleanly(check_id):
    """Are outputs made for inputs of another shape a plain failure on the rebuilt inputs, not a crash?"""
    result = judge(check_id, OUTPUTS_OF_OTHER_SHAPES[check_id], rebuild_inputs=True)
    assert (result.outcome, result.points) == (Outcome.FAILED, 0)
    assert result.message and result.hint


# The train check's inputs: lesson 04's rows, rebuilt by the grader from mnist.load_data().


@pytest.fixture
def lesson_rows(synthetic_digits):
    """X_train, y_train as lesson 04's set-up cell makes them (from the synthetic digits)."""
    from digits import mnist
    from digits.errors import SyntheticDigitsWarning

    with pytest.warns(SyntheticDigitsWarning):
        (x_train, y_train), _ = mnist.load_data()
    return reference.take_subset(reference.flatten(x_train), y_train)


def test_grader_training_rows_are_the_lessons(lesson_rows):
    """Are the train check's rebuilt X, y the first rows of the lesson's X_train, y_train, dtypes included?"""
    inputs = grader_inputs("train")
    X, y = (observe("train", fabricated_train, *lesson_rows)[name] for name in ("X", "y"))
    assert np.array_equal(inputs["X"], X) and inputs["X"].dtype == X.dtype == np.float32
    assert np.array_equal(inputs["y"], y) and inputs["y"].dtype == y.dtype


@pytest.mark.slow  # trains the network
@pytest.mark.parametrize("train", [fabricated_train, reference.train], ids=["fabricated", "reference"])
def test_real_train_observation_is_judged_the_same_on_rebuilt_rows(train, lesson_rows, tmp_path):
    """Is a real train observation (the lesson's rows) judged the same with the grader's rows as with its own?"""
    save_observation(observe("train", train, *lesson_rows), tmp_path)
    observation = load_observation(tmp_path)
    rebuilt = judge("train", observation, rebuild_inputs=True)
    assert rebuilt == judge("train", observation)
    assert rebuilt.passed is (train is reference.train)


def separable_rows(rows: int = 60):
    """A tiny data set anyone can learn: the label is written in the first pixel."""
    y = (np.arange(rows) % 10).astype(np.uint8)
    X = np.zeros((rows, 784), np.float32)
    X[:, 0] = y / 9
    X[np.arange(rows), 1 + y] = 1.0
    return X, y


@pytest.mark.slow  # trains the network
def test_model_trained_on_other_rows_fails(lesson_rows, tmp_path):
    """Does a model trained on made-up, easy rows pass when judged on those rows (the gap), and fail with
    the rebuilt ones, saying the check cell's digits aren't the lesson's?"""
    save_observation(observe("train", reference.train, *separable_rows()), tmp_path)
    observation = load_observation(tmp_path)
    assert judge("train", observation).passed
    rebuilt = judge("train", observation, rebuild_inputs=True)
    assert (rebuilt.outcome, rebuilt.points) == (Outcome.FAILED, 0)
    assert "The digits your check cell passed are not the lesson's" in rebuilt.message
    assert "X has shape (60, 784), the lesson's X_train (800, 784)" in rebuilt.message
    assert "X_train" in rebuilt.hint


def test_reassigned_x_train_fails_saying_so(lesson_rows):
    """Does an X_train the student rescaled fail with rebuilt rows, naming what differs, before any training?"""
    X, y = lesson_rows
    observation = observe("train", fabricated_train, X * 255, y)
    rebuilt = judge("train", observation, rebuild_inputs=True)
    assert (rebuilt.outcome, rebuilt.points) == (Outcome.FAILED, 0)
    assert "800 of the 800 rows of X differ from the lesson's X_train (yours run from 0 to 255" in rebuilt.message
    assert "rows of y" not in rebuilt.message and "y has" not in rebuilt.message
