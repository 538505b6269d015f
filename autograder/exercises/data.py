"""Checks for lessons 01 and 02: the loaded data, class_counts, flatten and take_subset.

Each check is a plain function over arrays. The inputs it is run on (the probes) are chosen by the
grader in :mod:`autograder.exercises.probes`, so an answer that only works on the student's own data fails.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograder.exercises import probes
from autograder.exercises.exercise import Exercise, grid_text, unchanged
from autograder.exercises.verdict import verdict
from autograder.kernel.serialize import type_name
from autograder.results import CheckResult
from autograder.spec import SPEC, Spec


def _describe(value) -> str:
    """A short description of an answer that isn't an array of the right kind."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type_name(value)}"


def check_load_data(x_train, y_train, x_test, y_test, *, spec: Spec = SPEC) -> CheckResult:
    """Checks the four arrays that ``mnist.load_data()`` returns.

    Args:
        x_train, y_train, x_test, y_test: What the student loaded.
        spec: The course spec.

    Returns:
        Passed when images are uint8 (N, 28, 28), labels uint8 (N,) in 0-9, with as many labels as images.
    """
    problems: list[str] = []
    rows, cols = spec.data.image_shape
    for split, images, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
        x_name, y_name = f"x_{split}", f"y_{split}"
        if not isinstance(images, np.ndarray) or not isinstance(labels, np.ndarray):
            problems.append(
                f"{x_name} is {_describe(images)} and {y_name} is {_describe(labels)}; both should be NumPy arrays."
            )
            continue
        if images.ndim != 3 or images.shape[1:] != (rows, cols):
            problems.append(
                f"{x_name} has shape {images.shape}; expected (N, {rows}, {cols}): one {rows}x{cols} image per digit."
            )
        if images.dtype != np.uint8:
            problems.append(f"{x_name} has dtype {images.dtype}; the raw images are uint8 (0-{spec.data.pixel_max}).")
        if labels.ndim != 1:
            problems.append(f"{y_name} has shape {labels.shape}; expected (N,): one label per image.")
        elif len(labels) != len(images):
            problems.append(
                f"{x_name} holds {len(images)} images but {y_name} holds {len(labels)} labels; they should match."
            )
        if labels.size and (labels.min() < 0 or labels.max() >= spec.data.num_classes):
            problems.append(
                f"{y_name} has labels from {labels.min()} to {labels.max()}; digits are 0 to "
                f"{spec.data.num_classes - 1}."
            )
    return verdict(
        "load_data",
        problems,
        success=f"Your data is loaded: uint8 images of {rows}x{cols} with one label "
        f"0-{spec.data.num_classes - 1} per image.",
        hints=[
            "Use exactly `(x_train, y_train), (x_test, y_test) = mnist.load_data()` and don't change the arrays "
            "afterwards."
        ],
        spec=spec,
    )


def check_class_counts(labels: np.ndarray, counts, *, spec: Spec = SPEC) -> CheckResult:
    """Checks ``class_counts(labels)`` against the grader's own count.

    Args:
        labels: The labels the grader passed in; some digits may not occur at all.
        counts: What ``class_counts`` returned.
        spec: The course spec.
    """
    expected = np.bincount(labels, minlength=spec.data.num_classes)
    problems: list[str] = []
    hints: list[str] = []
    try:
        found = np.asarray(counts)
    except Exception:  # noqa: BLE001 - any unconvertible answer is a wrong answer
        found = None
    if found is None or found.dtype == object or found.ndim != 1:
        problems.append(
            f"class_counts returned {_describe(counts)}; expected {spec.data.num_classes} whole numbers, one per digit."
        )
    elif found.shape != expected.shape:
        problems.append(
            f"class_counts returned {found.size} counts; expected {expected.size}, one per digit 0-{expected.size - 1}."
        )
        if found.size < expected.size:
            hints.append(
                "A digit that never occurs still needs its count, 0: np.unique skips it, "
                f"np.bincount(y, minlength={spec.data.num_classes}) doesn't."
            )
    elif not np.array_equal(found, expected):
        wrong = [f"digit {d}: yours {found[d]}, expected {expected[d]}" for d in np.flatnonzero(found != expected)]
        problems.append("class_counts gave wrong counts for " + "; ".join(wrong) + ".")
        hints.append("Count the labels you are given, don't assume a fixed number per digit.")
    return verdict(
        "class_counts",
        problems,
        success="class_counts returns the right count for every digit, including digits that don't occur.",
        hints=hints or [f"Return an array of {spec.data.num_classes} counts: element d is how many labels equal d."],
        spec=spec,
    )


def check_flatten(images: np.ndarray, flat, *, spec: Spec = SPEC) -> CheckResult:
    """Checks ``flatten(images)`` on images the grader chose.

    Args:
        images: The uint8 (N, 28, 28) images the grader passed in.
        flat: What ``flatten`` returned.
        spec: The course spec.
    """
    n = len(images)
    pixels = spec.data.pixels
    expected = images.reshape(n, pixels).astype(np.float32) / spec.data.pixel_max
    problems: list[str] = []
    hints: list[str] = []
    if not isinstance(flat, np.ndarray):
        try:
            converted = np.asarray(flat)
        except Exception:  # noqa: BLE001 - whatever np.asarray raises, the answer isn't an array
            converted = None
        if converted is None or converted.ndim == 0 or converted.dtype == object:  # None, a string, ragged rows
            problems.append(f"flatten returned {_describe(flat)}; expected a NumPy array of shape ({n}, {pixels}).")
            hints.append("End flatten with `return` and the array of rows it made.")
        else:
            flat = converted
    if not problems:
        if flat.shape != expected.shape:
            problems.append(
                f"flatten turned {n} images into shape {flat.shape}; expected ({n}, {pixels}): one row of {pixels} "
                "pixels per image."
            )
            hints.append(f"Use images.reshape(len(images), {pixels}), which works for any number of images.")
        if flat.dtype != np.float32:
            problems.append(f"flatten returned dtype {flat.dtype}; expected float32.")
            hints.append("Convert with .astype('float32').")
        if flat.size and np.issubdtype(flat.dtype, np.number):
            low, high = float(flat.min()), float(flat.max())
            if low < 0 or high > 1:
                problems.append(f"flatten returned values from {low:g} to {high:g}; expected them scaled to [0, 1].")
                hints.append(
                    f"Divide by {spec.data.pixel_max}.0 so every pixel lies in [0, 1]; unscaled inputs train much "
                    "worse."
                )
        if flat.shape == expected.shape and np.issubdtype(flat.dtype, np.number):
            scale = spec.data.pixel_max if flat.max() > 1 else 1
            values = flat.astype(np.float64) / scale
            if not np.allclose(values, expected, atol=1e-6):
                transposed = images.transpose(0, 2, 1).reshape(n, pixels) / spec.data.pixel_max
                if np.allclose(values, transposed, atol=1e-6):
                    problems.append(
                        "flatten reads each image column by column (it is transposed); expected row by row."
                    )
                elif np.allclose(np.sort(values, axis=1), np.sort(expected, axis=1), atol=1e-6):
                    problems.append(
                        "flatten keeps each image's pixel values but scrambles their order; expected row-major order, "
                        "row 0 first."
                    )
                else:
                    problems.append("flatten's values don't match the images' pixels, even allowing for scaling.")
                hints.append(
                    "reshape keeps the row-major pixel order; don't transpose, swap axes or reshape through another "
                    "shape."
                )
    return verdict(
        "flatten",
        problems,
        success="flatten turns images into float32 rows of 784 pixels in [0, 1], in row-major order.",
        hints=hints,
        spec=spec,
    )


def check_take_subset(x, y, n: int, subset, default_x, default_y, default_subset, *, spec: Spec = SPEC) -> CheckResult:
    """Checks ``take_subset`` on inputs the grader chose, once with ``n`` and once with its default.

    Args:
        x, y: Aligned inputs: row i of ``x`` and label i of ``y`` belong together.
        n: The ``n`` passed in the first call.
        subset: What ``take_subset(x, y, n=n)`` returned.
        default_x, default_y: Inputs longer than the spec's subset size.
        default_subset: What ``take_subset(default_x, default_y)`` returned.
        spec: The course spec.
    """
    problems: list[str] = []
    for call, (xs, ys, count), returned in (
        (f"take_subset(x, y, n={n})", (x, y, n), subset),
        ("take_subset(x, y) with its default n", (default_x, default_y, spec.data.subset_size), default_subset),
    ):
        if not (isinstance(returned, tuple | list) and len(returned) == 2):
            problems.append(f"{call} returned {_describe(returned)}; expected a pair (x_subset, y_subset).")
            continue
        got_x, got_y = (np.asarray(part) for part in returned)
        if got_x.ndim == 0 or got_y.ndim == 0:
            problems.append(
                f"{call} returned ({_describe(returned[0])}, {_describe(returned[1])}); "
                f"expected two arrays, the first {count} images and labels."
            )
        elif len(got_x) != count or len(got_y) != count:
            problems.append(
                f"{call} returned {len(got_x)} images and {len(got_y)} labels; expected the first {count} of each."
            )
        elif not (np.array_equal(got_x, xs[:count]) and np.array_equal(got_y, ys[:count])):
            if np.array_equal(np.sort(got_y), np.sort(ys[:count])) and not np.array_equal(got_y, ys[:count]):
                problems.append(
                    f"{call} returned the first {count} rows in another order, or misaligned images and labels; "
                    "expected them as they are."
                )
            else:
                problems.append(f"{call} didn't return the first {count} rows; expected x[:{count}] and y[:{count}].")
    return verdict(
        "take_subset",
        problems,
        success=f"take_subset returns the first n aligned pairs, and n defaults to {spec.data.subset_size}.",
        hints=[f"Slice both arrays the same way, x[:n] and y[:n], and give n the default {spec.data.subset_size}."],
        spec=spec,
    )


# The student's side: what each exercise's answer is run on and what is kept of it (in the kernel when grading).


def observe_load_data(x_train, y_train, x_test, y_test, *, spec: Spec = SPEC) -> dict:
    if all(array is None for array in (x_train, y_train, x_test, y_test)):
        raise NotImplementedError("the arrays are still None")
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def class_counts_inputs(spec: Spec = SPEC) -> dict:
    """The labels ``class_counts`` is called on (:func:`autograder.exercises.probes.class_count_labels`)."""
    return {"labels": probes.class_count_labels(spec)}


def observe_class_counts(class_counts: Callable, *, spec: Spec = SPEC) -> dict:
    labels = class_counts_inputs(spec)["labels"]
    return {"labels": labels, "counts": class_counts(labels.copy())}


def flatten_inputs(spec: Spec = SPEC) -> dict:
    """The images ``flatten`` is called on (:func:`autograder.exercises.probes.flatten_images`)."""
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


def hint_load_data(spec: Spec) -> str:
    """The first hint for ``load_data``: the idea to try, with the spec's numbers."""
    return (
        "mnist.load_data() returns two pairs, training then test, each (images, labels). Python can unpack such "
        "nested pairs in one assignment, into the four names in that order."
    )


def hint_class_counts(spec: Spec) -> str:
    """The first hint for ``class_counts``: the idea to try, with the spec's numbers."""
    return (
        f"You want one number per digit 0-{spec.data.num_classes - 1}: how often it occurs among the labels. NumPy "
        f"can count how often each whole number occurs in one call; make sure a digit that never occurs still gets "
        f"its 0, so there are always {spec.data.num_classes} counts."
    )


def hint_flatten(spec: Spec) -> str:
    """The first hint for ``flatten``: the idea to try, with the spec's numbers."""
    return (
        f"Two steps. Lay each {grid_text(spec)} grid out as one row of {spec.data.pixels} pixels, row after row: "
        "NumPy's "
        f"reshape does that, keeping the order, for any number of images. Then turn the whole numbers "
        f"0-{spec.data.pixel_max} into float32 numbers between 0 and 1."
    )


def hint_take_subset(spec: Spec) -> str:
    """The first hint for ``take_subset``: the idea to try, with the spec's numbers."""
    return (
        "Slicing keeps the first n items of an array. Slice the images and the labels the same way, so image i and "
        f"label i still belong together, and give n its default, {spec.data.subset_size}."
    )


EXERCISES = (
    Exercise(
        "load_data",
        "mnist.load_data()",
        observe=observe_load_data,
        prepare=unchanged,
        check=check_load_data,
        hint=hint_load_data,
    ),
    Exercise(
        "class_counts",
        "class_counts(y)",
        observe=observe_class_counts,
        prepare=unchanged,
        check=check_class_counts,
        hint=hint_class_counts,
        inputs=class_counts_inputs,
    ),
    Exercise(
        "flatten",
        "flatten(images)",
        observe=observe_flatten,
        prepare=unchanged,
        check=check_flatten,
        hint=hint_flatten,
        inputs=flatten_inputs,
    ),
    Exercise(
        "take_subset",
        "take_subset(x, y, n)",
        observe=observe_take_subset,
        prepare=unchanged,
        check=check_take_subset,
        hint=hint_take_subset,
        inputs=take_subset_inputs,
    ),
)
