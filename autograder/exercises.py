"""The course's exercises: how to observe a student's answer, prepare it, and which check judges it.

Three steps, kept apart so the batch grader can run the first in the student's kernel and the other
two in its own process:

1. **observe** runs the student's code on the grader's inputs (:mod:`autograder.probes`) and keeps
   what came back: arrays, plain values, Keras models, and figures already read into data.
2. **prepare** (grader side) reads the models with :mod:`autograder.describe` and computes the
   expected values (the reference model's accuracy, the reference weights' predictions).
3. **check** compares the two (:mod:`autograder.checks`).

:func:`run_check` does all three in one process, for the notebook and pytest front ends.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from autograder import probes, reference
from autograder.checks.compiling import check_compile_model
from autograder.checks.data import check_class_counts, check_flatten, check_load_data, check_take_subset
from autograder.checks.model import check_build_model
from autograder.checks.predictions import check_plot_predictions, check_predict_digit
from autograder.checks.training import check_train, different_training_rows
from autograder.checks.verdict import errored, not_attempted
from autograder.describe import describe_compile, describe_figure, describe_history, describe_independence, describe_model
from autograder.results import CheckResult
from autograder.serialize import round_trip, type_name
from autograder.spec import SPEC, Spec


class NeedsEarlierLesson(Exception):
    """What a check needs from an earlier exercise isn't there; the message says what."""


def observe_load_data(x_train, y_train, x_test, y_test, *, spec: Spec = SPEC) -> dict:
    if all(array is None for array in (x_train, y_train, x_test, y_test)):
        raise NotImplementedError("the arrays are still None")
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def class_counts_inputs(spec: Spec = SPEC) -> dict:
    """The labels ``class_counts`` is called on (:func:`autograder.probes.class_count_labels`)."""
    return {"labels": probes.class_count_labels(spec)}


def observe_class_counts(class_counts: Callable, *, spec: Spec = SPEC) -> dict:
    labels = class_counts_inputs(spec)["labels"]
    return {"labels": labels, "counts": class_counts(labels.copy())}


def flatten_inputs(spec: Spec = SPEC) -> dict:
    """The images ``flatten`` is called on (:func:`autograder.probes.flatten_images`)."""
    return {"images": probes.flatten_images(spec)}


def observe_flatten(flatten: Callable, *, spec: Spec = SPEC) -> dict:
    images = flatten_inputs(spec)["images"]
    return {"images": images, "flat": flatten(images.copy())}


def take_subset_inputs(spec: Spec = SPEC) -> dict:
    """The two calls' inputs: ``x``, ``y`` with ``n``, and ``default_x``, ``default_y`` (longer than the default n)."""
    x, y = probes.subset_arrays(3 * probes.SUBSET_N, spec)
    default_x, default_y = probes.subset_arrays(spec.data.subset_size + 100, spec)
    return {"x": x, "y": y, "n": probes.SUBSET_N, "default_x": default_x, "default_y": default_y}


def observe_take_subset(take_subset: Callable, *, spec: Spec = SPEC) -> dict:
    inputs = take_subset_inputs(spec)
    x, y, n, default_x, default_y = (inputs[name] for name in ("x", "y", "n", "default_x", "default_y"))
    return {
        **inputs,
        "subset": take_subset(x.copy(), y.copy(), n=n),
        "default_subset": take_subset(default_x.copy(), default_y.copy()),
    }


def observe_build_model(build_model: Callable, *, spec: Spec = SPEC) -> dict:
    first, second = build_model(), build_model()
    return {"model": first, "independence": describe_independence(first, second)}


def prepare_build_model(model, independence: dict, *, spec: Spec = SPEC) -> dict:
    return {"description": describe_model(model), "independence": independence}


def observe_compile_model(compile_model: Callable, build_model: Callable, *, spec: Spec = SPEC) -> dict:
    import keras

    model = build_model()
    returned = compile_model(model)
    return {"model": returned if isinstance(returned, keras.Model) else model}


def prepare_compile_model(model, *, spec: Spec = SPEC) -> dict:
    return {"description": describe_compile(model)}


def observe_train(train: Callable, X: np.ndarray, y: np.ndarray, *, spec: Spec = SPEC) -> dict:
    """Trains the reference network, compiled the reference way, with the student's ``train``, on the first
    :data:`~autograder.probes.TRAINING_ROWS` rows of ``X`` and ``y``.

    Seeded the same way as :func:`autograder.reference.reference_val_accuracy`, so a right answer
    reproduces the reference's accuracy, and a compile mistake (checked elsewhere) can't fail this.
    Keeps the model ``train`` was given (trained, if it did its job) as well as what it returned, so
    the grader can measure the model itself instead of trusting the History's numbers, and the settings of each
    ``model.fit`` call on it (``fit_calls``, :func:`describe_fit_call`), so a History that disagrees with the
    measurement can be put down to the setting that differs from the spec. They only choose the message: a kernel
    that forges them can't change a score.
    """
    X, y = probes.training_rows(np.asarray(X), np.asarray(y))
    model = reference.training_start(spec)
    fit_calls: list[dict] = []
    fit = model.fit

    def recorded_fit(*args, **kwargs):
        try:
            fit_calls.append(describe_fit_call(fit, args, kwargs, X))
        except Exception:  # noqa: BLE001 - recording must never change what fit does
            fit_calls.append({"unreadable": True})
        return fit(*args, **kwargs)

    model.fit = recorded_fit
    try:
        history = train(model, X, y)
    finally:
        model.__dict__.pop("fit", None)  # model.fit is Keras's own again
    return {"history": describe_history(history), "model": model, "X": np.asarray(X), "y": np.asarray(y),
            "fit_calls": fit_calls}


def _plain(value):
    """A fit argument as plain data: numbers, strings, None and booleans as they are, anything else by its type's name."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return f"a {type_name(value)}"


def _rows(value) -> int | None:
    shape = getattr(value, "shape", None)
    try:
        return int(shape[0]) if shape is not None and len(shape) else None
    except (TypeError, ValueError):
        return None


def describe_fit_call(fit: Callable, args: tuple, kwargs: dict, X: np.ndarray) -> dict:
    """The settings one ``model.fit(...)`` call inside ``train`` used, as plain data (the train check names them
    when the History doesn't agree with the grader's measurement).

    Returns:
        ``{"epochs", "batch_size", "validation_split"}`` (fit's defaults where not passed), ``"validation_data"``
        (None, or a description of what was passed), ``"rows"`` (rows of ``x``, None if unknown), ``"given_x"``
        (whether ``x`` holds the same values as the ``X`` train was given) and ``"callbacks"`` (their class names).
    """
    import inspect

    try:
        bound = inspect.signature(fit).bind(*args, **kwargs)
    except TypeError:
        return {"unreadable": True}
    arguments = {**{name: parameter.default for name, parameter in inspect.signature(fit).parameters.items()
                    if parameter.default is not inspect.Parameter.empty}, **bound.arguments}
    x, validation_data, callbacks = arguments.get("x"), arguments.get("validation_data"), arguments.get("callbacks")
    if callbacks is not None:
        callbacks = [type_name(callback) for callback in callbacks] if isinstance(callbacks, list | tuple) else [type_name(callbacks)]
    if validation_data is not None:
        parts = validation_data if isinstance(validation_data, tuple | list) else (validation_data,)
        rows = [_rows(part) for part in parts]
        validation_data = (f"a {type_name(validation_data)} of arrays with {rows[0]} rows"
                           if rows and rows[0] is not None else f"a {type_name(validation_data)}")
    try:
        given_x = x is X or bool(np.array_equal(np.asarray(x), X))
    except Exception:  # noqa: BLE001 - a dataset or generator isn't X as given
        given_x = False
    return {"epochs": _plain(arguments.get("epochs")), "batch_size": _plain(arguments.get("batch_size")),
            "validation_split": _plain(arguments.get("validation_split")), "validation_data": validation_data,
            "rows": _rows(x), "given_x": given_x, "callbacks": callbacks or []}


_GRADER_DIGITS: dict[str, tuple] = {}
_LESSON_TRAINING_ROWS: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}


def grader_digits() -> tuple:
    """``mnist.load_data()`` from the grader's own data source (``MNIST_PATH``), loaded once per process and
    source: the train check's rows and the report's held-out digits both come from here."""
    from digits import mnist
    from digits.errors import SyntheticDigitsWarning

    source = os.environ.get("MNIST_PATH", "").strip()
    if source not in _GRADER_DIGITS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntheticDigitsWarning)  # the kernels have told the student already
            _GRADER_DIGITS[source] = mnist.load_data()
    return _GRADER_DIGITS[source]


def build_lesson_training_rows(spec: Spec = SPEC) -> tuple[np.ndarray, np.ndarray]:
    """The rows lesson 04's check cell trains on, built here the way its set-up cell builds them.

    The set-up cell runs ``X_train, y_train = take_subset(flatten(x_train), y_train)`` on
    ``mnist.load_data()``, and ``check("train", train, X_train, y_train)`` trains on their first
    :data:`~autograder.probes.TRAINING_ROWS` rows. ``flatten`` works row by row, so the subset is cut
    before flattening: the same rows, without flattening all of ``x_train``.
    """
    (x_train, y_train), _ = grader_digits()
    x_subset, y_subset = reference.take_subset(x_train, y_train, spec.data.subset_size)
    X, y = probes.training_rows(reference.flatten(x_subset, spec), y_subset)
    X, y = np.array(X), np.array(y)
    for array in (X, y):
        array.setflags(write=False)  # shared by every check of this process
    return X, y


def lesson_training_rows(spec: Spec = SPEC) -> tuple[np.ndarray, np.ndarray]:
    """:func:`build_lesson_training_rows`, remembered per spec and data source (``MNIST_PATH``) in this process."""
    key = (spec.fingerprint, os.environ.get("MNIST_PATH", "").strip())
    if key not in _LESSON_TRAINING_ROWS:
        _LESSON_TRAINING_ROWS[key] = build_lesson_training_rows(spec)
    return _LESSON_TRAINING_ROWS[key]


def train_inputs(spec: Spec = SPEC) -> dict:
    """The ``X`` and ``y`` the train check trains on: :func:`lesson_training_rows`."""
    X, y = lesson_training_rows(spec)
    return {"X": X, "y": y}


def validation_rows(X: np.ndarray, y: np.ndarray, spec: Spec = SPEC) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``model.fit(..., validation_split=...)`` held out: the last ones, in order (Keras doesn't shuffle them)."""
    kept = spec.training.training_samples(len(X))
    return X[kept:], y[kept:]


def measure_val_accuracy(model, X: np.ndarray, y: np.ndarray, spec: Spec = SPEC) -> tuple[float | None, str]:
    """The share of the held-out validation rows that ``model`` classifies right, measured here.

    Uses the model's own predictions (the argmax of ``model.predict``) compared with the labels: that is
    what Keras's ``accuracy`` metric computes for integer labels, and unlike ``model.evaluate`` it doesn't
    depend on the compile settings saved with the model.

    Returns:
        ``(accuracy, "")``, or ``(None, why it could not be measured)``.
    """
    import keras

    if not isinstance(model, keras.Model):
        return None, f"the grader got back a {type_name(model)}, not a Keras model"
    X_val, y_val = validation_rows(np.asarray(X), np.asarray(y), spec)
    if len(X_val) == 0:
        return None, f"X has {len(X)} rows, too few to hold any out for validation"
    try:
        predicted = np.asarray(model.predict(X_val, verbose=0)).argmax(axis=-1)
        return float(np.mean(predicted.reshape(-1) == y_val.reshape(-1))), ""
    except Exception as error:  # noqa: BLE001 - a model that won't predict is reported, not fatal
        return None, f"{type(error).__name__}: {error}"


def prepare_train(history: dict, model, X: np.ndarray, y: np.ndarray, fit_calls=None, *, spec: Spec = SPEC) -> dict:
    """Measures the trained model's validation accuracy in the grader's process, and the reference's."""
    measured, problem = measure_val_accuracy(model, X, y, spec)
    return {
        "description": history, "samples": len(X), "measured_val_accuracy": measured, "measurement_problem": problem,
        "reference_val_accuracy": reference.reference_val_accuracy(X, y, spec), "fit_calls": fit_calls,
    }


def model_with_reference_weights(build_model: Callable, spec: Spec):
    """``build_model()``'s network holding the reference weights, so predictions are known."""
    model = build_model()
    try:
        model.set_weights(reference.reference_weights(spec))
    except Exception as error:  # noqa: BLE001 - any mismatch means the architecture differs
        raise NeedsEarlierLesson(
            "This check loads fixed weights into build_model()'s network, and they don't fit "
            f"({type(error).__name__}: {error}). It needs the spec's architecture from lesson 03."
        ) from None
    return model


def observe_predict_digit(predict_digit: Callable, build_model: Callable, *, spec: Spec = SPEC) -> dict:
    model = model_with_reference_weights(build_model, spec)
    digits, _ = probes.prediction_digits(spec=spec)
    return {"answers": [predict_digit(model, digit.copy()) for digit in digits]}


def prepare_predict_digit(answers: list, *, spec: Spec = SPEC) -> dict:
    digits, _ = probes.prediction_digits(spec=spec)
    return {"answers": answers, "expected_probabilities": reference.forward(reference.reference_weights(spec), digits, spec)}


def observe_plot_predictions(plot_predictions: Callable, build_model: Callable, *, spec: Spec = SPEC) -> dict:
    import matplotlib.pyplot as plt

    model = model_with_reference_weights(build_model, spec)
    digits, labels = probes.prediction_digits(spec=spec)
    figure = plot_predictions(model, digits.copy(), labels.copy(), n=spec.predictions.panels, seed=spec.data.seed)
    description = describe_figure(figure)
    if description["is_figure"]:
        plt.close(figure)
    return {"figure": description}


def prepare_plot_predictions(figure: dict, *, spec: Spec = SPEC) -> dict:
    digits, labels = probes.prediction_digits(spec=spec)
    return {
        "figure": figure, "digits": digits, "labels": labels,
        "expected_probabilities": reference.forward(reference.reference_weights(spec), digits, spec),
    }


def unchanged(*, spec: Spec = SPEC, **observation) -> dict:
    """The prepare step of checks whose observation is already what the check takes."""
    return observation


def no_inputs(spec: Spec = SPEC) -> dict:
    """The grader inputs of checks that have none in their observation (or rebuild them in prepare)."""
    return {}


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    Attributes:
        check_id: Its id in the spec.
        title: How the student knows it, e.g. ``"build_model()"``.
        observe: Runs the student's answer on the grader's inputs; returns what came back.
        prepare: Turns an observation into the check's keyword arguments, in the grader's process.
        check: Judges those arguments against the spec.
        inputs: Rebuilds, in the grader's process, the observation's fields that are the grader's own
            inputs (not the answer's outputs); see :func:`grader_inputs`.
    """

    check_id: str
    title: str
    observe: Callable[..., dict]
    prepare: Callable[..., dict]
    check: Callable[..., CheckResult]
    inputs: Callable[[Spec], dict] = no_inputs


EXERCISES: dict[str, Exercise] = {
    exercise.check_id: exercise
    for exercise in (
        Exercise("load_data", "mnist.load_data()", observe_load_data, unchanged, check_load_data),
        Exercise("class_counts", "class_counts(y)", observe_class_counts, unchanged, check_class_counts, class_counts_inputs),
        Exercise("flatten", "flatten(images)", observe_flatten, unchanged, check_flatten, flatten_inputs),
        Exercise("take_subset", "take_subset(x, y, n)", observe_take_subset, unchanged, check_take_subset, take_subset_inputs),
        Exercise("build_model", "build_model()", observe_build_model, prepare_build_model, check_build_model),
        Exercise("compile_model", "compile_model(model)", observe_compile_model, prepare_compile_model, check_compile_model),
        Exercise("train", "train(model, X, y)", observe_train, prepare_train, check_train, train_inputs),
        Exercise("predict_digit", "predict_digit(model, image)", observe_predict_digit, prepare_predict_digit, check_predict_digit),
        Exercise("plot_predictions", "plot_predictions(model, X, y, n, seed)", observe_plot_predictions,
                 prepare_plot_predictions, check_plot_predictions),
    )
}


def observe(check_id: str, *answers, spec: Spec = SPEC) -> dict | CheckResult:
    """Runs the observe step, turning an unfinished or crashing answer into its result.

    Returns:
        The observation, or the not-attempted / error result when there is nothing to check.
    """
    exercise = EXERCISES[check_id]
    try:
        return exercise.observe(*answers, spec=spec)
    except NotImplementedError:
        return not_attempted(check_id, exercise.title, spec=spec)
    except NeedsEarlierLesson as error:
        return errored(check_id, str(error), "Run the lesson's set-up cell again to get the given build_model.", spec=spec)
    except Exception as error:  # noqa: BLE001 - any crash in the student's code becomes feedback
        return errored(
            check_id, f"Calling {exercise.title} raised {type(error).__name__}: {error}",
            f"Run {exercise.title} yourself in a new cell to see the full error.", spec=spec,
        )


def grader_inputs(check_id: str, *, spec: Spec = SPEC) -> dict:
    """The observation fields that are the grader's own inputs, rebuilt in this process from the spec.

    A kernel can send back other inputs than the ones it was given (images that make a wrong answer look
    right); the batch grader judges the answer's outputs against these instead.

    Args:
        check_id: Which exercise, e.g. ``"flatten"``.
        spec: The course spec.

    Returns:
        class_counts: ``labels``; flatten: ``images``; take_subset: ``x``, ``y``, ``n``, ``default_x``,
        ``default_y``; train: ``X``, ``y`` (lesson 04's training rows); other checks: ``{}`` (they have
        no inputs in their observation, or rebuild them in prepare).
    """
    return EXERCISES[check_id].inputs(spec)


def judge(check_id: str, observation: dict, *, spec: Spec = SPEC, rebuild_inputs: bool = False) -> CheckResult:
    """Runs the prepare and check steps on an observation.

    Args:
        check_id: Which exercise.
        observation: What the observe step returned (or what a kernel saved).
        spec: The course spec.
        rebuild_inputs: Judge against :func:`grader_inputs` instead of the inputs in the observation. The
            batch grader sets it: its observations come from the student's kernel, which may have changed
            them. For train, whose model the kernel trained on the rows it sends, rows that differ from the
            lesson's fail with their own message (:func:`~autograder.checks.training.different_training_rows`).
            The in-notebook front end (:func:`run_check`) leaves it off: there the inputs never left the process.
    """
    exercise = EXERCISES[check_id]
    if rebuild_inputs:
        inputs = grader_inputs(check_id, spec=spec)
        if check_id == "train":
            different = different_training_rows(observation.get("X"), observation.get("y"), inputs["X"], inputs["y"], spec=spec)
            if different is not None:
                return different
        observation = {**observation, **inputs}
    return exercise.check(**exercise.prepare(**observation, spec=spec), spec=spec)


def run_check(check_id: str, *answers, spec: Spec = SPEC) -> CheckResult:
    """Observes the student's answers and checks them.

    Args:
        check_id: Which exercise, e.g. ``"build_model"``.
        *answers: What the exercise's observer takes: the student's function(s) or values.
        spec: The course spec.

    Returns:
        The result; an unfinished exercise is *not attempted*, a crash is an *error* with its message.
    """
    observation = observe(check_id, *answers, spec=spec)
    if isinstance(observation, CheckResult):
        return observation
    return judge(check_id, round_trip(observation), spec=spec)
