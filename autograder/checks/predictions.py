"""Checks for lesson 05: ``predict_digit`` and the ``plot_predictions`` figure.

Both run the student's code on a model that holds fixed reference weights, so they don't depend on
how well the student's own model trained: the expected predictions are a NumPy forward pass with the
same weights.
"""

from __future__ import annotations

import re

import numpy as np

from autograder.checks.verdict import verdict
from autograder.results import CheckResult
from autograder.serialize import type_name
from autograder.spec import SPEC, Spec

PREDICTED = re.compile(r"\bP\w*\s*[:=]?\s*(\d+)")
TRUE = re.compile(r"\bT\w*\s*[:=]?\s*(\d+)")


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
            note("pair", f"{where}, predict_digit returned a {type_name(answer)}; expected a pair (label, probabilities).")
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
            note("shape", f"{where}, the probabilities have shape {probabilities.shape}; expected ({classes},): one per digit.")
            continue
        if not np.isclose(probabilities.sum(), 1.0, atol=1e-3):
            note("sum", f"{where}, the probabilities sum to {probabilities.sum():.3f}; expected 1.")
        elif not np.allclose(probabilities, expected_probabilities[index], atol=1e-4):
            gap = np.abs(probabilities - expected_probabilities[index]).max()
            note("match", f"{where}, your probabilities differ from the model's own output (largest gap {gap:.3f}).")
        if label_is_int and int(label) != int(np.argmax(probabilities)):
            note("argmax", f"{where}, the label is {label} but the most probable digit is {int(np.argmax(probabilities))}; expected the argmax.")
    problems = [
        message + (f" The same happens for {count - 1} more of the {len(answers)} digits." if count > 1 else "")
        for message, count in found.values()
    ]
    return verdict(
        "predict_digit", problems,
        success=f"predict_digit returns an int label and {classes} probabilities that match the model's output.",
        hints=["Give the model a batch of one, image[np.newaxis], take row 0 of its output, and return (int(np.argmax(p)), p)."],
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


def check_plot_predictions(figure: dict, digits: np.ndarray, labels: np.ndarray, expected_probabilities: np.ndarray,
                           *, spec: Spec = SPEC) -> CheckResult:
    """Checks the figure ``plot_predictions(model, digits, labels, n=8)`` drew.

    Args:
        figure: ``describe_figure(...)`` of the returned figure.
        digits: The (k, 784) digits passed in, scaled to [0, 1].
        labels: Their true labels.
        expected_probabilities: (k, 10) reference-weight outputs for them.
        spec: The course spec.
    """
    if not figure["is_figure"]:
        return verdict(
            "plot_predictions", [f"plot_predictions returned a {figure['class_name']}; expected a matplotlib Figure."],
            success="", hints=[f"Create it with fig, axes = plt.subplots({spec.predictions.grid[0]}, {spec.predictions.grid[1]}) "
                                "and `return fig`."], spec=spec,
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
        problems.append(f"Your panels sit in a {' / '.join('x'.join(map(str, g)) for g in grids) or 'free'} layout; "
                        f"the spec asks for a {spec.predictions.grid[0]}x{spec.predictions.grid[1]} grid.")
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
        p, t = PREDICTED.search(title), TRUE.search(title)
        if not (p and t):
            problems.append(f"Panel {number} is titled {title!r}; expected the predicted and true label, like 'P: 3  T: 3'.")
            continue
        if int(p.group(1)) != predicted[index]:
            problems.append(f"Panel {number} says P: {p.group(1)}, but the model predicts {predicted[index]} for that digit.")
            hints.append("Predict the digit you show, not another one: use the same index for the image, its prediction and its label.")
        if int(t.group(1)) != labels[index]:
            problems.append(f"Panel {number} says T: {t.group(1)}, but that digit's true label is {labels[index]}.")
            hints.append("Take T from y at the same index as the image.")
    return verdict(
        "plot_predictions", problems,
        success=f"plot_predictions draws {wanted} digits in a {spec.predictions.grid[0]}x{spec.predictions.grid[1]} grid, "
        "each titled with the model's prediction (P) and the true label (T).",
        hints=hints or ["Draw each chosen digit with imshow and title it with its P and T."], spec=spec,
    )
