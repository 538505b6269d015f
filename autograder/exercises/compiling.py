"""Check for lesson 04's ``compile_model``: loss, from_logits, optimizer, learning rate and metrics.

Reads ``model.get_compile_config()`` (captured by :func:`autograder.exercises.describe.describe_compile`); the
model is never re-compiled.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from autograder.exercises.describe import describe_compile
from autograder.exercises.exercise import Exercise
from autograder.exercises.verdict import verdict
from autograder.results import CheckResult
from autograder.spec import SPEC, Spec

ACCURACY_NAMES = {"accuracy", "acc", "sparse_categorical_accuracy"}


def snake_case(name: str) -> str:
    """'SparseCategoricalCrossentropy' -> 'sparse_categorical_crossentropy'."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def loss_settings(loss) -> tuple[str | None, bool]:
    """The loss's name in snake case and its from_logits, from a compile config's ``loss`` entry."""
    if isinstance(loss, str):
        return snake_case(loss) if loss[:1].isupper() else loss, False
    if isinstance(loss, dict):
        config = loss.get("config")
        if isinstance(config, dict):
            return snake_case(loss.get("class_name", "")), bool(config.get("from_logits", False))
        if isinstance(config, str):  # a plain function such as keras.losses.sparse_categorical_crossentropy
            return config, False
    return None, False


def metric_names(metrics) -> list[str | None]:
    """Names of the metrics in a compile config's ``metrics`` entry (None for a config without a name)."""
    names: list[str | None] = []
    for metric in metrics or []:
        if isinstance(metric, str):
            names.append(metric)
        elif isinstance(metric, dict):
            config = metric.get("config")
            names.append(config.get("name") if isinstance(config, dict) else str(config))
        elif isinstance(metric, list | tuple):
            names += metric_names(metric)
    return names


def check_compile_model(description: dict, *, spec: Spec = SPEC) -> CheckResult:
    """Checks how ``compile_model(model)`` compiled a freshly built model.

    Args:
        description: ``describe_compile(model)`` after ``compile_model(model)``.
        spec: The course spec.
    """
    if not description["compiled"]:
        return verdict(
            "compile_model",
            ["compile_model(model) left the model uncompiled; expected it to call model.compile(...)."],
            success="",
            hints=["Call model.compile(loss=..., optimizer=..., metrics=...) inside compile_model."],
            spec=spec,
        )
    config = description["config"]
    problems: list[str] = []
    hints: list[str] = []
    wanted_loss = snake_case(spec.compile.loss)
    loss, from_logits = loss_settings(config.get("loss"))
    if loss != wanted_loss:
        problems.append(
            f"Your loss is {loss or config.get('loss')!r}; the spec asks for {spec.compile.loss} ({wanted_loss})."
        )
        if loss == "categorical_crossentropy":
            hints.append(
                "categorical_crossentropy expects one-hot labels, but y holds integer labels 0-9: "
                "SparseCategoricalCrossentropy takes the integers as they are."
            )
    output = description["output_activation"]
    if from_logits != spec.compile.from_logits:
        if from_logits and output == "softmax":
            problems.append(
                "Your loss has from_logits=True, which says the model outputs raw scores (logits), but your output "
                "layer applies softmax, so it outputs probabilities; the spec pairs a softmax output with "
                "from_logits=False."
            )
            hints.append(
                "from_logits describes what the model outputs: True means 'raw scores, apply softmax for me'. "
                "Here Keras notices the softmax, warns, and computes the loss from the scores the softmax was given, "
                "so training is the same; with Keras's JAX or PyTorch backends, in other frameworks or in a loss "
                "you write yourself, the probabilities would go through softmax a second time (a double softmax, "
                "with weaker gradients). Your outputs are already probabilities: use from_logits=False."
            )
        else:
            problems.append(
                f"Your loss has from_logits={from_logits}; the spec asks for from_logits={spec.compile.from_logits}."
            )
    if output == "sigmoid":
        problems.append(
            f"Your output layer uses sigmoid; {spec.data.num_classes} mutually exclusive classes need softmax, "
            "whose probabilities sum to 1."
        )
    optimizer = config.get("optimizer") or {}
    optimizer_name = optimizer.get("class_name") if isinstance(optimizer, dict) else str(optimizer)
    if optimizer_name != spec.compile.optimizer:
        problems.append(f"Your optimizer is {optimizer_name}; the spec asks for {spec.compile.optimizer}.")
    rate = (optimizer.get("config") or {}).get("learning_rate") if isinstance(optimizer, dict) else None
    if not isinstance(rate, int | float):
        problems.append(f"Your learning rate is {rate!r}; the spec asks for a fixed {spec.compile.learning_rate}.")
    elif not math.isclose(rate, spec.compile.learning_rate, rel_tol=1e-6):
        problems.append(f"Your learning rate is {rate:g}; the spec asks for {spec.compile.learning_rate:g}.")
        hints.append(
            "Pass the optimizer object: "
            f"keras.optimizers.{spec.compile.optimizer}(learning_rate={spec.compile.learning_rate})."
        )
    names = metric_names(config.get("metrics"))
    for wanted in spec.compile.metrics:
        accepted = ACCURACY_NAMES if wanted == "accuracy" else {wanted}
        if not accepted & set(names):
            problems.append(f"Your metrics are {names or 'none'}; the spec asks for {wanted!r} among them.")
            hints.append(f"Add metrics=[{wanted!r}] so fit reports it for training and validation.")
    return verdict(
        "compile_model",
        problems,
        success=f"compile_model uses {spec.compile.loss}(from_logits={spec.compile.from_logits}), "
        f"{spec.compile.optimizer} with learning rate {spec.compile.learning_rate:g} and tracks "
        f"{', '.join(spec.compile.metrics)}.",
        hints=hints or ["Compare each argument of your model.compile(...) with the spec."],
        spec=spec,
    )


# The student's side: what each exercise's answer is run on and what is kept of it (in the kernel when grading).


def observe_compile_model(compile_model: Callable, build_model: Callable, *, spec: Spec = SPEC) -> dict:
    import keras

    model = build_model()
    returned = compile_model(model)
    return {"model": returned if isinstance(returned, keras.Model) else model}


def prepare_compile_model(model, *, spec: Spec = SPEC) -> dict:
    return {"description": describe_compile(model)}


def hint_compile_model(spec: Spec) -> str:
    """The first hint for ``compile_model``: the idea to try, with the spec's numbers."""
    return (
        "model.compile takes the loss, the optimizer and the metrics as keyword arguments. Create the loss and the "
        f"optimizer as objects ({spec.compile.loss}, {spec.compile.optimizer}) so you can set "
        f"from_logits={spec.compile.from_logits} and learning_rate={spec.compile.learning_rate:g}, and list "
        f"{', '.join(repr(metric) for metric in spec.compile.metrics)} as the metrics."
    )


EXERCISES = (
    Exercise(
        "compile_model",
        "compile_model(model)",
        observe=observe_compile_model,
        prepare=prepare_compile_model,
        check=check_compile_model,
        hint=hint_compile_model,
    ),
)
