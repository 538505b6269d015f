"""Check for lesson 03: the network that ``build_model()`` returns.

Every mismatch is reported, layer by layer, including missing and extra layers (a model with two
layers is not compared against only the first two of the spec's three).
"""

from __future__ import annotations

from collections.abc import Callable

from autograder.exercises.describe import describe_independence, describe_model
from autograder.exercises.exercise import Exercise
from autograder.exercises.verdict import verdict, wrong_type
from autograder.results import CheckResult
from autograder.spec import SPEC, Spec

ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th")


def _ordinal(index: int) -> str:
    return ORDINALS[index] if index < len(ORDINALS) else f"{index + 1}th"


def layer_problems(layers: list[dict], spec: Spec) -> tuple[list[str], list[str]]:
    """Compares a model's layers with the spec's Dense layers, position by position.

    Args:
        layers: ``describe_model(model)["layers"]``.
        spec: The course spec.

    Returns:
        (problems, hints).
    """
    problems, hints = [], []
    expected = spec.model.layers
    others = [layer for layer in layers if layer["class_name"] != "Dense"]
    dense = [layer for layer in layers if layer["class_name"] == "Dense"]
    for layer in others:
        problems.append(
            f"Your model has a {layer['class_name']} layer '{layer['name']}'; the spec's network has only Dense layers."
        )
        if layer["class_name"] == "Flatten":
            hints.append(
                f"The images are already flattened to {spec.model.input_size} by flatten(); "
                f"start with keras.Input(shape=({spec.model.input_size},))."
            )
    if len(dense) != len(expected):
        names = ", ".join(layer["name"] for layer in dense) or "none"
        problems.append(
            f"Your model has {len(dense)} Dense layers ({names}); the spec asks for {len(expected)} "
            f"({', '.join(spec.model.layer_names)})."
        )
    if len(dense) == len(expected):
        pairs = list(enumerate(zip(dense, expected, strict=True)))
    else:
        # Compare by name, so one missing or extra layer doesn't shift every comparison after it.
        by_name = {layer["name"]: layer for layer in dense}
        pairs = [(index, (by_name[want.name], want)) for index, want in enumerate(expected) if want.name in by_name]
        for want in expected:
            if want.name not in by_name:
                problems.append(
                    f"{want.name} is missing: expected Dense({want.units}, activation='{want.activation}', "
                    f"name='{want.name}')."
                )
        wanted_names = set(spec.model.layer_names)
        for index, layer in enumerate(dense):
            if layer["name"] not in wanted_names:
                problems.append(
                    f"The {_ordinal(index)} Dense layer '{layer['name']}' is one too many: "
                    f"the spec's network has only {', '.join(spec.model.layer_names)}."
                )
    for index, (got, want) in pairs:
        label = got["name"]
        if got["name"] != want.name:
            problems.append(
                f"The {_ordinal(index)} Dense layer is named '{got['name']}'; the spec asks for '{want.name}'."
            )
            hints.append("Name each layer with name='...' exactly as the spec writes it; names are case-sensitive.")
        if got["units"] != want.units:
            problems.append(f"{label} has {got['units']} units; the spec asks for {want.units}.")
        if got["activation"] != want.activation:
            problems.append(f"{label} uses activation '{got['activation']}'; the spec asks for '{want.activation}'.")
            if want is expected[-1] and got["activation"] == "sigmoid":
                hints.append(
                    f"A sigmoid scores each class on its own; for {want.units} mutually exclusive digits use softmax, "
                    f"whose {want.units} probabilities sum to 1."
                )
            if want is expected[-1] and got["activation"] == "linear":
                hints.append("The course's output layer gives probabilities: put activation='softmax' on it.")
    return problems, hints


def check_build_model(description: dict, independence: dict, *, spec: Spec = SPEC) -> CheckResult:
    """Checks the network against the spec.

    Args:
        description: ``describe_model(build_model())``.
        independence: ``describe_independence(build_model(), build_model())``.
        spec: The course spec.
    """
    if not description["is_model"]:
        return wrong_type(
            "build_model",
            f"build_model() returned a {description['class_name']}",
            "a Keras model",
            hint="Return the keras.Sequential you built.",
            spec=spec,
        )
    problems: list[str] = []
    hints: list[str] = []
    expected_input = [None, spec.model.input_size]
    expected_output = [None, spec.model.layers[-1].units]
    if description["input_shape"] is None:
        problems.append("Your model has no input shape yet, so Keras can't count its parameters.")
        hints.append(f"Start the Sequential with keras.Input(shape=({spec.model.input_size},)).")
    else:
        if description["input_shape"] != expected_input:
            problems.append(
                f"Your model's input shape is {tuple(description['input_shape'])}; the spec asks for (None, "
                f"{spec.model.input_size})."
            )
        if description["output_shape"] != expected_output:
            problems.append(
                f"Your model's output shape is {tuple(description['output_shape'])}; the spec asks for (None, "
                f"{expected_output[1]})."
            )
    layer_issues, layer_hints = layer_problems(description["layers"], spec)
    problems += layer_issues
    hints += layer_hints
    if description["parameters"] is not None and description["parameters"] != spec.model.parameters:
        problems.append(
            f"Your model has {description['parameters']:,} parameters; the spec's network has "
            f"{spec.model.parameters:,}."
        )
    if independence["same_object"] or independence["shared_layers"]:
        problems.append(
            "Calling build_model() twice gave models that share layers; each call should build a new, independent "
            "model."
        )
        hints.append("Create the layers inside build_model(), not once outside it.")
    return verdict(
        "build_model",
        problems,
        success=f"build_model() returns the {spec.model.input_size}-"
        + "-".join(str(layer.units) for layer in spec.model.layers)
        + f" network with layers {', '.join(spec.model.layer_names)} and {spec.model.parameters:,} parameters.",
        hints=hints or ["Compare your layers with the spec printed above the exercise, one by one."],
        spec=spec,
    )


# The student's side: what each exercise's answer is run on and what is kept of it (in the kernel when grading).


def observe_build_model(build_model: Callable, *, spec: Spec = SPEC) -> dict:
    first, second = build_model(), build_model()
    return {"model": first, "independence": describe_independence(first, second)}


def prepare_build_model(model, independence: dict, *, spec: Spec = SPEC) -> dict:
    return {"description": describe_model(model), "independence": independence}


def hint_build_model(spec: Spec) -> str:
    """The first hint for ``build_model``: the idea to try, with the spec's numbers."""
    return (
        f"keras.Sequential takes a list of layers, applied in order: first the input, {spec.model.input_size} "
        "pixels, then one keras.layers.Dense per row of the spec, each given its units, activation and name: "
        + ", ".join(f"{layer.name} ({layer.units}, {layer.activation})" for layer in spec.model.layers)
        + ". Build them inside the function, so each call makes a new model."
    )


EXERCISES = (
    Exercise(
        "build_model",
        "build_model()",
        observe=observe_build_model,
        prepare=prepare_build_model,
        check=check_build_model,
        hint=hint_build_model,
    ),
)
