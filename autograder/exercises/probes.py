"""The inputs the grader chooses to run students' functions on.

Checking answers on inputs the student didn't see catches answers that only work on their own data
(a hard-coded 60000, counts that assume every digit occurs, a subset that ignores n).
"""

from __future__ import annotations

import numpy as np

from autograder.spec import SPEC, Spec

MISSING_DIGIT = 7  # class_counts' probe has no 7s: an np.unique answer returns 9 counts
# The train check runs the student's train on the first rows of the X, y its cell passes: the spec's epochs,
# batch size and validation split show just as well on 800 rows, at under a third of the lesson's own training.
TRAINING_ROWS = 800


def class_count_labels(spec: Spec = SPEC) -> np.ndarray:
    """Uneven uint8 labels in which one digit never occurs."""
    rng = np.random.default_rng(spec.data.seed + 1)
    digits = np.array([d for d in range(spec.data.num_classes) if d != MISSING_DIGIT])
    weights = rng.uniform(0.2, 1.0, size=len(digits))
    return rng.choice(digits, size=523, p=weights / weights.sum()).astype(np.uint8)


def flatten_images(spec: Spec = SPEC) -> np.ndarray:
    """Five uint8 images with every pixel different from its transposed twin, and both 0 and 255 present."""
    rng = np.random.default_rng(spec.data.seed + 2)
    images = rng.integers(0, spec.data.pixel_max + 1, size=(5, *spec.data.image_shape), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, spec.data.pixel_max
    return images


def subset_arrays(rows: int, spec: Spec = SPEC) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in which row i of x is filled with i and y[i] = i mod 10, so misalignment shows."""
    x = np.repeat(np.arange(rows, dtype=np.float32)[:, None], spec.data.pixels, axis=1)
    y = (np.arange(rows) % spec.data.num_classes).astype(np.uint8)
    return x, y


SUBSET_N = 11


def prediction_digits(count: int = 24, spec: Spec = SPEC) -> tuple[np.ndarray, np.ndarray]:
    """A fixed slice of synthetic digits, flattened and scaled, with their labels."""
    from digits.synthetic import make_digits

    images, labels = make_digits(count, seed=spec.data.seed + 3)
    return images.reshape(count, spec.data.pixels).astype(np.float32) / spec.data.pixel_max, labels


def training_rows(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows the train check trains on: the first :data:`TRAINING_ROWS` of ``X`` and ``y``."""
    return X[:TRAINING_ROWS], y[:TRAINING_ROWS]
