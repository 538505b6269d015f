"""The first hint of each exercise: the idea to try, never the answer's code.

``hint("flatten")`` in a lesson prints it whether or not the exercise was checked yet; after a check that
did not pass, the check's own hint (what to change in what it found) follows. Every number comes from the
spec, so the hints follow it when it changes.
"""

from __future__ import annotations

from typing import Callable

from autograder.spec import SPEC, Spec


def _grid(spec: Spec) -> str:
    rows, columns = spec.data.image_shape
    return f"{rows}x{columns}"


FIRST_HINTS: dict[str, Callable[[Spec], str]] = {
    "load_data": lambda spec: (
        "mnist.load_data() returns two pairs, training then test, each (images, labels). Python can unpack such "
        "nested pairs in one assignment, into the four names in that order."
    ),
    "class_counts": lambda spec: (
        f"You want one number per digit 0-{spec.data.num_classes - 1}: how often it occurs among the labels. NumPy "
        f"can count how often each whole number occurs in one call; make sure a digit that never occurs still gets "
        f"its 0, so there are always {spec.data.num_classes} counts."
    ),
    "flatten": lambda spec: (
        f"Two steps. Lay each {_grid(spec)} grid out as one row of {spec.data.pixels} pixels, row after row: NumPy's "
        f"reshape does that, keeping the order, for any number of images. Then turn the whole numbers "
        f"0-{spec.data.pixel_max} into float32 numbers between 0 and 1."
    ),
    "take_subset": lambda spec: (
        "Slicing keeps the first n items of an array. Slice the images and the labels the same way, so image i and "
        f"label i still belong together, and give n its default, {spec.data.subset_size}."
    ),
    "build_model": lambda spec: (
        f"keras.Sequential takes a list of layers, applied in order: first the input, {spec.model.input_size} "
        "pixels, then one keras.layers.Dense per row of the spec, each given its units, activation and name: "
        + ", ".join(f"{layer.name} ({layer.units}, {layer.activation})" for layer in spec.model.layers)
        + ". Build them inside the function, so each call makes a new model."
    ),
    "compile_model": lambda spec: (
        "model.compile takes the loss, the optimizer and the metrics as keyword arguments. Create the loss and the "
        f"optimizer as objects ({spec.compile.loss}, {spec.compile.optimizer}) so you can set "
        f"from_logits={spec.compile.from_logits} and learning_rate={spec.compile.learning_rate:g}, and list "
        f"{', '.join(repr(metric) for metric in spec.compile.metrics)} as the metrics."
    ),
    "train": lambda spec: (
        f"model.fit takes the data, then the training settings as keyword arguments: {spec.training.epochs} epochs, "
        f"batches of {spec.training.batch_size}, a validation split of {spec.training.validation_split:g}. "
        "Whatever fit returns is the History: return it."
    ),
    "predict_digit": lambda spec: (
        f"model.predict works on batches: make the one image of shape ({spec.model.input_size},) a batch of one, "
        f"and take the first row of what comes back: its {spec.data.num_classes} probabilities. The label is the "
        "position of the largest one, as a Python int."
    ),
    "plot_predictions": lambda spec: (
        "Three steps: choose n different rows with np.random.default_rng(seed), predict them all in one "
        f"model.predict call, then draw a {spec.predictions.grid[0]}x{spec.predictions.grid[1]} grid of axes with "
        f"plt.subplots, one digit per axes, reshaped back to {_grid(spec)} and titled with its predicted and true "
        "label. Return the Figure."
    ),
}


def first_hint(check_id: str, spec: Spec = SPEC) -> str:
    """The idea to try for an exercise, with the spec's numbers.

    Raises:
        KeyError: For an exercise that doesn't exist.
    """
    return FIRST_HINTS[check_id](spec)
