"""Check for lesson 04's ``train``: the History's params, and how well the trained model learned.

The accuracy that scores is the one the grader measures itself, on the model ``train`` trained; the
History's own figures (reported by the student's kernel) only have to agree with it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import numpy as np

from autograder import reference
from autograder.exercises import probes
from autograder.exercises.describe import describe_history
from autograder.exercises.exercise import Exercise
from autograder.exercises.verdict import verdict, wrong_type
from autograder.kernel.serialize import type_name
from autograder.results import CheckResult
from autograder.spec import SPEC, Spec

# How far the History's final val_accuracy may sit from the grader's measurement. fit's last validation
# pass uses the final weights, the ones the grader measures, so the two agree to float precision; the
# slack only absorbs a near-tie between two digits that a different thread count or batch order could
# tip (one validation row, when there are few). Any edit of the numbers worth making is far bigger.
HISTORY_TOLERANCE = 0.005


def history_tolerance(validation_rows: int) -> float:
    """The allowed gap between reported and measured accuracy: 0.5 points, or one row if that is more."""
    return max(HISTORY_TOLERANCE, 1 / validation_rows) if validation_rows else HISTORY_TOLERANCE


def history_problems(description: dict, samples: int, spec: Spec) -> tuple[list[str], list[str]]:
    """What is wrong with the History's params and metrics (epochs, steps, validation), and hints."""
    training = spec.training
    params, metrics = description["params"], description["metrics"]
    problems: list[str] = []
    hints: list[str] = []
    epochs = params.get("epochs")
    if epochs is None:
        problems.append(
            f"Your History's params don't say how many epochs fit ran (a History from model.fit does); "
            f"the spec asks for {training.epochs}."
        )
    elif epochs != training.epochs:
        problems.append(f"Your training ran {epochs} epochs; the spec asks for {training.epochs}.")
    expected_steps = training.steps_per_epoch(samples)
    steps = params.get("steps")
    if steps is None:
        problems.append(
            f"Your History's params don't say how many batches each epoch ran (a History from model.fit on "
            f"arrays does); the spec expects {expected_steps}."
        )
        hints.append(
            f"Pass X and y to model.fit as arrays, with batch_size={training.batch_size} and "
            f"validation_split={training.validation_split}."
        )
    elif steps != expected_steps:
        kept = training.training_samples(samples)
        problems.append(
            f"Each epoch ran {steps} batches; with the {samples} rows the check trained on, {kept} left after the "
            f"{training.validation_split:.0%} "
            f"validation split, and batches of {training.batch_size}, the spec expects {expected_steps}."
        )
        hints.append(
            f"Pass batch_size={training.batch_size} and validation_split={training.validation_split} to model.fit."
        )
    ran = len(metrics.get("loss", []))
    if isinstance(epochs, int) and ran < epochs:
        problems.append(
            f"Your History holds {ran} epochs of loss though fit was set to run {epochs}: training ended early "
            f"(an EarlyStopping callback or initial_epoch, for example); the spec trains all {training.epochs} epochs."
        )
        hints.append("Call model.fit without callbacks that stop training early, and without initial_epoch.")
    elif epochs is not None and ran != epochs:
        problems.append(
            f"The History holds {ran} epochs of loss but says it ran {epochs}; return the History of one fit call."
        )
    missing = [name for name in ("val_loss", "val_accuracy") if name not in metrics]
    if missing == ["val_accuracy"]:  # validation ran; the accuracy metric didn't
        problems.append(
            f"The History has val_loss but no val_accuracy (it holds {', '.join(sorted(metrics))}): the model "
            f"that fit trained had no accuracy metric. train is given a model compiled with "
            f"metrics={list(spec.compile.metrics)}; fit that one."
        )
        hints.append("In train, fit the model train is given and return that fit's History.")
    elif missing:
        problems.append(
            f"The History has no {' or '.join(missing)}; the spec holds out {training.validation_split:.0%} for "
            "validation."
        )
        hints.append(
            f"Pass validation_split={training.validation_split} to model.fit (and metrics=['accuracy'] to compile)."
        )
    elif not metrics["val_accuracy"]:
        problems.append("The History's val_accuracy is empty; expected one value per epoch.")
    return problems, hints


KERAS_DEFAULT_BATCH_SIZE = 32  # what fit uses when batch_size is None (Keras's default, not the spec's)


def _shown(value) -> str:
    """A recorded fit argument as the student would have typed it, cut short if long."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def fit_differences(fit_calls, samples: int, spec: Spec) -> list[str] | None:
    """How ``train``'s calls of ``model.fit`` differ from the spec's settings, one sentence each.

    Args:
        fit_calls: What the kernel recorded of each ``model.fit`` call train made on the model it was given
            (:func:`autograder.exercises.describe_fit_call`); None when nothing was recorded.
        samples: How many rows train was given.
        spec: The course spec.

    Returns:
        The sentences ([] when the one call used the spec's settings on the X it was given), or None when the
        calls are unknown or there were none. Epochs are left to the History's own check, which reports them already.
    """
    if not isinstance(fit_calls, list) or not all(isinstance(call, dict) for call in fit_calls):
        return None
    training = spec.training
    if not fit_calls:  # fit bypassed (keras.Model.fit(model, ...)) or never called: accuracy_problems tells
        return None
    found = []
    if len(fit_calls) > 1:
        found.append(
            f"train called model.fit {len(fit_calls)} times; the spec trains with one call of {training.epochs} epochs."
        )
    call = fit_calls[-1]
    if call.get("unreadable"):
        return found or None
    if call.get("validation_data") is not None:
        found.append(
            f"You called fit with validation_data ({str(call['validation_data'])[:80]}); the spec trains with "
            f"validation_split={training.validation_split}: fit holds out the last {training.validation_split:.0%} "
            "of the rows train is given, and the grader measures the model you trained on those rows."
        )
    elif call.get("validation_split") != training.validation_split:
        found.append(
            f"You called fit with validation_split={_shown(call.get('validation_split'))}; the spec asks for "
            f"validation_split={training.validation_split}."
        )
    batch_size = call.get("batch_size")
    if (KERAS_DEFAULT_BATCH_SIZE if batch_size is None else batch_size) != training.batch_size:
        found.append(
            f"You called fit with batch_size={_shown(batch_size)}; the spec asks for batch_size={training.batch_size}."
        )
    callbacks = call.get("callbacks")
    if isinstance(callbacks, list) and callbacks:
        found.append(
            f"You called fit with callbacks ({', '.join(str(name)[:40] for name in callbacks[:5])}); the spec's "
            "fit has none: a callback can stop training early, or leave the model with other weights than "
            "its last epoch's, the ones the History's last figures are measured on."
        )
    rows = call.get("rows")
    if rows is not None and rows != samples:
        found.append(
            f"You called fit on {_shown(rows)} rows; train should fit all {samples} rows of the X it is given."
        )
    elif rows is not None and not call.get("given_x"):
        found.append(f"You called fit on {samples} rows whose values differ from the X train is given; fit X as it is.")
    return found


def accuracy_problems(
    description: dict,
    samples: int,
    measured: float,
    reference: float,
    spec: Spec,
    settings: list[str] | None = None,
    fit_calls=None,
) -> tuple[list[str], list[str]]:
    """Whether the History's final val_accuracy matches the measured one, and the measured one is high enough.

    ``settings`` are :func:`fit_differences` of ``fit_calls``: when fit's settings differ from the spec, a mismatch
    is their doing and says so; only when they match, or fit was never called on the model, is it the History
    itself that isn't this training's; when they are unknown the message says it may be either.
    """
    training = spec.training
    problems: list[str] = []
    hints: list[str] = []
    rows = samples - training.training_samples(samples)
    reported = (description["metrics"].get("val_accuracy") or [None])[-1]
    tolerance = history_tolerance(rows)
    if reported is not None and abs(reported - measured) > tolerance:
        figures = (
            f"it reports a final val_accuracy of {reported:.1%}, but the model you trained classifies {measured:.1%} "
            f"of the {rows} validation rows (the last {training.validation_split:.0%} of X) right, as the grader "
            f"measured it; the two agree within {tolerance * 100:.1f} percentage points when fit runs as the spec says"
        )
        if fit_calls == []:
            problems.append(
                f"train never called model.fit on the model it was given, so the History it returned doesn't "
                f"come from training that model: {figures}."
            )
            hints.append("Return the History of the fit that trained the model train is given, unchanged.")
        elif settings:
            problems.append(
                "Because your fit settings differ from the spec's, your History's validation figures aren't the "
                f"grader's: {figures}."
            )
            hints.append(
                f"Call model.fit(X, y, epochs={training.epochs}, batch_size={training.batch_size}, "
                f"validation_split={training.validation_split}) once, on the X and y train is given, "
                "and return its History."
            )
        elif settings is None:
            problems.append(
                f"Your History's figures don't match what the grader measured on the model you trained: {figures}. "
                f"Either fit ran with other settings or rows than the spec's (validation_data instead of "
                f"validation_split={training.validation_split}, for example), or the History isn't the one that fit "
                "returned."
            )
            hints.append("Return the History of the fit that trained the model train is given, unchanged.")
        else:
            problems.append(
                f"Your fit call used the spec's settings, yet the History train returned doesn't match the model it "
                f"trained: {figures}. That History was changed after fit returned it, or comes from another training."
            )
            hints.append("Return the History of the fit that trained the model train is given, unchanged.")
    floor = reference - training.accuracy_margin
    if measured < floor:
        problems.append(
            f"The model you trained classifies {measured:.1%} of the {rows} validation rows right (measured by the "
            "grader); "
            f"the reference model reaches {reference:.1%} on the same digits, and the spec allows "
            f"{training.accuracy_margin:.0%} less ({floor:.1%})."
        )
        hints.append(
            "Check that train fits the model it is given, the inputs are scaled to [0, 1], "
            "and the compile settings match the spec."
        )
    return problems, hints


def _numbers(value) -> np.ndarray | None:
    """``value`` as an array of numbers, or None if it isn't one."""
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - whatever can't be an array differs from the lesson's
        return None
    return array if array.dtype.kind in "biuf" else None


def _difference(name: str, lesson_name: str, sent, expected: np.ndarray) -> str | None:
    """How ``sent`` differs from the lesson's ``expected`` array, in one clause; None if it doesn't."""
    found = _numbers(sent)
    if found is None:
        return f"{name} is a {type_name(sent)}, not an array of numbers"
    if found.shape != expected.shape:
        return f"{name} has shape {found.shape}, the lesson's {lesson_name} {expected.shape}"
    if found.dtype != expected.dtype:
        return f"{name} has dtype {found.dtype}, the lesson's {lesson_name} {expected.dtype}"
    if np.array_equal(found, expected):
        return None
    rows = int(np.sum(np.any((found != expected).reshape(len(found), -1), axis=1))) if found.ndim else 1
    spread = ""
    if found.size and found.ndim == 2:
        spread = (
            f" (yours run from {found.min():g} to {found.max():g}, the lesson's from {expected.min():g} to "
            f"{expected.max():g})"
        )
    return f"{rows} of the {len(expected)} rows of {name} differ from the lesson's {lesson_name}{spread}"


def different_training_rows(sent_X, sent_y, X: np.ndarray, y: np.ndarray, *, spec: Spec = SPEC) -> CheckResult | None:
    """Fails the train check when the rows it trained on aren't the lesson's.

    The train check trains on the first rows of the ``X_train``, ``y_train`` that lesson 04's check cell
    passes. The grader rebuilds those rows itself and measures the trained model on them; a model trained
    on other rows (``X_train`` reassigned, or rows a patched kernel made up) can't be scored on them.

    Args:
        sent_X, sent_y: The rows the kernel says the model was trained on.
        X, y: The lesson's rows, rebuilt by the grader.
        spec: The course spec.

    Returns:
        None when the rows are the lesson's, else the failed result saying how they differ.
    """
    differences = [
        found for found in (_difference("X", "X_train", sent_X, X), _difference("y", "y_train", sent_y, y)) if found
    ]
    if not differences:
        return None
    return verdict(
        "train",
        [
            f"The digits your check cell passed are not the lesson's: the check trains on the first {len(X)} rows of "
            f"X_train and y_train as the set-up cell makes them, but {'; '.join(differences)}. The grader measures the "
            "model on the lesson's digits, so it can't score a model trained on others."
        ],
        success="",
        hints=[
            "Don't reassign or change X_train and y_train in your own cells; run the notebook from the top so the "
            "check cell gets the set-up cell's arrays."
        ],
        spec=spec,
    )


def check_train(
    description: dict,
    samples: int,
    reference_val_accuracy: float,
    measured_val_accuracy: float | None,
    measurement_problem: str = "",
    fit_calls=None,
    *,
    spec: Spec = SPEC,
) -> CheckResult:
    """Checks what ``train(model, X, y)`` returned, and the model it trained.

    Args:
        description: ``describe_history(train(model, X, y))``: what the student's kernel reported.
        samples: How many rows X had.
        reference_val_accuracy: The final validation accuracy of the reference model trained on the
            same X and y with the same seed, in the grader's process.
        measured_val_accuracy: The accuracy of the model ``train`` trained on the validation rows (the
            last ``validation_split`` of X), measured in the grader's process; None if it couldn't be.
        measurement_problem: Why it couldn't be measured.
        fit_calls: What the kernel recorded of train's ``model.fit`` calls (None: not recorded). They only say
            what a failure is due to (:func:`fit_differences`); they never fail, or pass, the check by themselves.
        spec: The course spec.
    """
    training = spec.training
    if not description["is_history"]:
        return wrong_type(
            "train",
            f"train returned a {description['class_name']}",
            "the History that model.fit returns",
            hint="End train with `return model.fit(...)`.",
            spec=spec,
        )
    problems, hints = history_problems(description, samples, spec)
    settings = fit_differences(fit_calls, samples, spec)
    if measured_val_accuracy is None:
        problems.append(f"The grader could not measure the accuracy of the model you trained ({measurement_problem}).")
        hints.append("train must fit the model it is given, in place, and return the History.")
    else:
        found, more_hints = accuracy_problems(
            description, samples, measured_val_accuracy, reference_val_accuracy, spec, settings, fit_calls
        )
        problems += found
        hints += more_hints
    if problems and settings:  # what the failure is due to, first
        problems = settings + problems
    return verdict(
        "train",
        problems,
        success=f"On {samples} rows, train ran {training.epochs} epochs of {training.steps_per_epoch(samples)} "
        f"batches of {training.batch_size} with a {training.validation_split:.0%} validation split; "
        f"the grader measured the model you trained at {measured_val_accuracy or 0:.1%} on the validation rows "
        f"(reference {reference_val_accuracy:.1%}).",
        hints=hints
        or ["Return model.fit(X, y, epochs=..., batch_size=..., validation_split=...) with the spec's values."],
        spec=spec,
    )


# The student's side: what each exercise's answer is run on and what is kept of it (in the kernel when grading).


def observe_train(train: Callable, X: np.ndarray, y: np.ndarray, *, spec: Spec = SPEC) -> dict:
    """Trains the reference network, compiled the reference way, with the student's ``train``, on the first
    :data:`~autograder.exercises.probes.TRAINING_ROWS` rows of ``X`` and ``y``.

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
    return {
        "history": describe_history(history),
        "model": model,
        "X": np.asarray(X),
        "y": np.asarray(y),
        "fit_calls": fit_calls,
    }


def _plain(value):
    """A fit argument as plain data: numbers, strings, None and booleans as they are, anything else by its
    type's name."""
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
    arguments = {
        **{
            name: parameter.default
            for name, parameter in inspect.signature(fit).parameters.items()
            if parameter.default is not inspect.Parameter.empty
        },
        **bound.arguments,
    }
    x, validation_data, callbacks = arguments.get("x"), arguments.get("validation_data"), arguments.get("callbacks")
    if callbacks is not None:
        callbacks = (
            [type_name(callback) for callback in callbacks]
            if isinstance(callbacks, list | tuple)
            else [type_name(callbacks)]
        )
    if validation_data is not None:
        parts = validation_data if isinstance(validation_data, tuple | list) else (validation_data,)
        rows = [_rows(part) for part in parts]
        validation_data = (
            f"a {type_name(validation_data)} of arrays with {rows[0]} rows"
            if rows and rows[0] is not None
            else f"a {type_name(validation_data)}"
        )
    try:
        given_x = x is X or bool(np.array_equal(np.asarray(x), X))
    except Exception:  # noqa: BLE001 - a dataset or generator isn't X as given
        given_x = False
    return {
        "epochs": _plain(arguments.get("epochs")),
        "batch_size": _plain(arguments.get("batch_size")),
        "validation_split": _plain(arguments.get("validation_split")),
        "validation_data": validation_data,
        "rows": _rows(x),
        "given_x": given_x,
        "callbacks": callbacks or [],
    }


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
    :data:`~autograder.exercises.probes.TRAINING_ROWS` rows. ``flatten`` works row by row, so the subset is cut
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
    """The rows ``model.fit(..., validation_split=...)`` held out: the last ones, in order (Keras doesn't
    shuffle them)."""
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
        "description": history,
        "samples": len(X),
        "measured_val_accuracy": measured,
        "measurement_problem": problem,
        "reference_val_accuracy": reference.reference_val_accuracy(X, y, spec),
        "fit_calls": fit_calls,
    }


def training_rows_differ(observation: dict, inputs: dict, *, spec: Spec = SPEC) -> CheckResult | None:
    """:func:`different_training_rows` between the rows the kernel sent back and the lesson's, rebuilt here."""
    return different_training_rows(observation.get("X"), observation.get("y"), inputs["X"], inputs["y"], spec=spec)


def hint_train(spec: Spec) -> str:
    """The first hint for ``train``: the idea to try, with the spec's numbers."""
    return (
        f"model.fit takes the data, then the training settings as keyword arguments: {spec.training.epochs} epochs, "
        f"batches of {spec.training.batch_size}, a validation split of {spec.training.validation_split:g}. "
        "Whatever fit returns is the History: return it."
    )


EXERCISES = (
    Exercise(
        "train",
        "train(model, X, y)",
        observe=observe_train,
        prepare=prepare_train,
        check=check_train,
        hint=hint_train,
        inputs=train_inputs,
        inputs_differ=training_rows_differ,
    ),
)
