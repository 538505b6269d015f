"""Checks for lesson 05: ``predict_digit`` and the ``plot_predictions`` figure.

Both run the student's code on a model that holds fixed reference weights, so they don't depend on
how well the student's own model trained: the expected predictions are a NumPy forward pass with the
same weights.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from autograder import reference
from autograder.exercises import probes
from autograder.exercises.describe import describe_figure
from autograder.exercises.exercise import Exercise, NeedsEarlierLesson, grid_text
from autograder.exercises.verdict import verdict, wrong_type
from autograder.kernel.serialize import type_name
from autograder.results import CheckResult
from autograder.spec import SPEC, Spec

# A title names each label with a word that starts with a capital P (or T), an optional ':' or '=', then the label:
# "P: 3  T: 5", "Pred=3, True=5", "Predicted 3 / Truth 5". The label must be a whole integer: not the start of
# "0.87" or "87%". A key followed by anything else is quoted back to the student.
_KEY = r"\b{letter}\w*\s*[:=]?\s*"
_INTEGER = r"(\d+)(?![\d%]|[.,]\d)"
_TOKEN = r"([^\s,;|/()\[\]]+)"
# The key word is kept whole when quoting ("Panel" alone is not a P followed by "l").
LABELS = {
    letter: (
        re.compile(_KEY.format(letter=letter) + _INTEGER),
        re.compile(_KEY.format(letter=letter).replace(r"\w*", r"\w*\b", 1) + _TOKEN),
    )
    for letter in "PT"
}
PROBABILITY = re.compile(r"^(?:0?\.\d+|[01]\.\d*|\d+(?:\.\d+)?%)$")


def check_predict_digit(answers: list, expected_probabilities: np.ndarray, *, spec: Spec = SPEC) -> CheckResult:
    """Checks ``predict_digit(model, image)`` on a fixed slice of digits.

    Args:
        answers: What ``predict_digit`` returned for each digit.
        expected_probabilities: (k, 10) softmax outputs of the reference weights for those digits.
        spec: The course spec.
    """
    classes = spec.data.num_classes
    found: dict[str, tuple[str, int]] = {}  # kind of mistake -> (message for its first digit, digits affected)

    def note(kind: str, message: str) -> None:
        first, count = found.get(kind, (message, 0))
        found[kind] = (first, count + 1)

    for index, answer in enumerate(answers):
        where = f"For digit {index} of the check's slice"
        if not (isinstance(answer, tuple | list) and len(answer) == 2):
            note(
                "pair",
                f"{where}, predict_digit returned a {type_name(answer)}; expected a pair (label, probabilities).",
            )
            continue
        label, probabilities = answer
        label_is_int = isinstance(label, int | np.integer) and not isinstance(label, bool)
        if not label_is_int:
            note("label", f"{where}, the label is a {type_name(label)}; expected a Python int (use int(...)).")
        try:
            probabilities = np.asarray(probabilities, dtype=float)
        except (TypeError, ValueError):
            note("shape", f"{where}, the probabilities are a {type_name(probabilities)}; expected {classes} numbers.")
            continue
        if probabilities.shape != (classes,):
            note(
                "shape",
                f"{where}, the probabilities have shape {probabilities.shape}; expected ({classes},): one per digit.",
            )
            continue
        if not np.isclose(probabilities.sum(), 1.0, atol=1e-3):
            note("sum", f"{where}, the probabilities sum to {probabilities.sum():.3f}; expected 1.")
        elif not np.allclose(probabilities, expected_probabilities[index], atol=1e-4):
            gap = np.abs(probabilities - expected_probabilities[index]).max()
            note("match", f"{where}, your probabilities differ from the model's own output (largest gap {gap:.3f}).")
        if label_is_int and int(label) != int(np.argmax(probabilities)):
            note(
                "argmax",
                f"{where}, the label is {label} but the most probable digit is {int(np.argmax(probabilities))}; "
                "expected the argmax.",
            )
    problems = [
        message + (f" The same happens for {count - 1} more of the {len(answers)} digits." if count > 1 else "")
        for message, count in found.values()
    ]
    return verdict(
        "predict_digit",
        problems,
        success=f"predict_digit returns an int label and {classes} probabilities that match the model's output.",
        hints=[
            "Give the model a batch of one, image[np.newaxis], take row 0 of its output, and return "
            "(int(np.argmax(p)), p)."
        ],
        spec=spec,
    )


def match_panel(image: np.ndarray, digits: np.ndarray, pixel_max: int) -> int | None:
    """Finds which digit a panel shows, allowing for 0-1 or 0-255 pixel scales. None if none matches."""
    flat = np.asarray(image, dtype=float).reshape(-1)
    if flat.size != digits.shape[1]:
        return None
    if flat.max() > 1:
        flat = flat / pixel_max
    distances = np.abs(digits - flat).max(axis=1)
    best = int(np.argmin(distances))
    return best if distances[best] < 1e-3 else None


def read_label(title: str, letter: str) -> int | str | None:
    """The label a panel title gives after ``letter`` ("P" or "T").

    Returns:
        The label as an int when it is a whole integer; else the text that follows the key (quoted back to the
        student: "0.87", "seven"); None when the title has no such key at all.
    """
    integer, token = LABELS[letter]
    found = integer.search(title)
    if found:
        return int(found.group(1))
    found = token.search(title)
    return found.group(1) if found else None


def title_problem(number: int, title: str, read: dict, spec: Spec) -> str:
    """What is wrong with a panel's title whose P or T can't be read as a digit, quoting the title."""
    if all(found is None for found in read.values()):
        return (
            f"Panel {number} is titled {title!r}; expected the predicted and true label, "
            "like 'P: 3  T: 3' (a capital P and T, each followed by the digit)."
        )
    digit = f"an integer 0-{spec.data.num_classes - 1}"
    meaning = {"P": "the predicted digit", "T": "the true label"}
    wrong = []
    for letter, found in read.items():
        if found is None:
            wrong.append(f"it has no {letter} ({meaning[letter]})")
        elif isinstance(found, str) and letter == "P" and PROBABILITY.match(found):
            wrong.append(f"P should be {meaning[letter]} ({digit}), not a probability")
        elif isinstance(found, str):
            wrong.append(f"{letter} should be {meaning[letter]} ({digit}), not {found!r}")
    return f"Panel {number} is titled {title!r}: {'; '.join(wrong)}. Expected a title like 'P: 3  T: 3'."


def check_plot_predictions(
    figure: dict, digits: np.ndarray, labels: np.ndarray, expected_probabilities: np.ndarray, *, spec: Spec = SPEC
) -> CheckResult:
    """Checks the figure ``plot_predictions(model, digits, labels, n=8)`` drew.

    Args:
        figure: ``describe_figure(...)`` of the returned figure.
        digits: The (k, 784) digits passed in, scaled to [0, 1].
        labels: Their true labels.
        expected_probabilities: (k, 10) reference-weight outputs for them.
        spec: The course spec.
    """
    if not figure["is_figure"]:
        grid_rows, grid_cols = spec.predictions.grid
        return wrong_type(
            "plot_predictions",
            f"plot_predictions returned a {figure['class_name']}",
            "a matplotlib Figure",
            hint=f"Create it with fig, axes = plt.subplots({grid_rows}, {grid_cols}) and `return fig`.",
            spec=spec,
        )
    panels = figure["panels"]
    wanted = spec.predictions.panels
    rows, cols = spec.data.image_shape
    problems: list[str] = []
    hints: list[str] = []
    if len(panels) != wanted:
        problems.append(f"Your figure has {len(panels)} image panels; the spec asks for {wanted}.")
    grids = {tuple(panel["grid"]) for panel in panels if panel["grid"]}
    if panels and grids != {tuple(spec.predictions.grid)}:
        problems.append(
            f"Your panels sit in a {' / '.join('x'.join(map(str, g)) for g in grids) or 'free'} layout; "
            f"the spec asks for a {spec.predictions.grid[0]}x{spec.predictions.grid[1]} grid."
        )
    predicted = expected_probabilities.argmax(axis=1)
    for number, panel in enumerate(panels, start=1):
        image = np.asarray(panel["image"])
        if image.shape[:2] != (rows, cols):
            problems.append(f"Panel {number} shows an image of shape {image.shape}; expected a {rows}x{cols} digit.")
            hints.append(f"Reshape each row back with .reshape({rows}, {cols}) before imshow.")
            continue
        index = match_panel(image, digits, spec.data.pixel_max)
        if index is None:
            problems.append(f"Panel {number} shows an image that isn't one of the digits passed in.")
            continue
        title = panel["title"]
        read = {letter: read_label(title, letter) for letter in "PT"}
        unreadable = [found for found in read.values() if isinstance(found, str)]
        if unreadable or None in read.values():
            problems.append(title_problem(number, title, read, spec))
            hints.append("Title each panel like f'P: {predicted}  T: {true}', with both digits as integers.")
            continue
        if read["P"] != predicted[index]:
            problems.append(
                f"Panel {number} says P: {read['P']}, but the model predicts {predicted[index]} for that digit."
            )
            hints.append(
                "Predict the digit you show, not another one: use the same index for the image, its prediction and its "
                "label."
            )
        if read["T"] != labels[index]:
            problems.append(f"Panel {number} says T: {read['T']}, but that digit's true label is {labels[index]}.")
            hints.append("Take T from y at the same index as the image.")
    return verdict(
        "plot_predictions",
        problems,
        success=f"plot_predictions draws {wanted} digits in a {spec.predictions.grid[0]}x{spec.predictions.grid[1]} "
        "grid, each titled with the model's prediction (P) and the true label (T).",
        hints=hints or ["Draw each chosen digit with imshow and title it with its P and T."],
        spec=spec,
    )


# The student's side: what each exercise's answer is run on and what is kept of it (in the kernel when grading).


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
    return {
        "answers": answers,
        "expected_probabilities": reference.forward(reference.reference_weights(spec), digits, spec),
    }


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
        "figure": figure,
        "digits": digits,
        "labels": labels,
        "expected_probabilities": reference.forward(reference.reference_weights(spec), digits, spec),
    }


def hint_predict_digit(spec: Spec) -> str:
    """The first hint for ``predict_digit``: the idea to try, with the spec's numbers."""
    return (
        f"model.predict works on batches: make the one image of shape ({spec.model.input_size},) a batch of one, "
        f"and take the first row of what comes back: its {spec.data.num_classes} probabilities. The label is the "
        "position of the largest one, as a Python int."
    )


def hint_plot_predictions(spec: Spec) -> str:
    """The first hint for ``plot_predictions``: the idea to try, with the spec's numbers."""
    return (
        "Three steps: choose n different rows with np.random.default_rng(seed), predict them all in one "
        f"model.predict call, then draw a {spec.predictions.grid[0]}x{spec.predictions.grid[1]} grid of axes with "
        f"plt.subplots, one digit per axes, reshaped back to {grid_text(spec)} and titled with its predicted and true "
        "label. Return the Figure."
    )


EXERCISES = (
    Exercise(
        "predict_digit",
        "predict_digit(model, image)",
        observe=observe_predict_digit,
        prepare=prepare_predict_digit,
        check=check_predict_digit,
        hint=hint_predict_digit,
    ),
    Exercise(
        "plot_predictions",
        "plot_predictions(model, X, y, n, seed)",
        observe=observe_plot_predictions,
        prepare=prepare_plot_predictions,
        check=check_plot_predictions,
        hint=hint_plot_predictions,
    ),
)
