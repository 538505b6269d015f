"""Check for lesson 04's ``train``: the History's params and metrics, and how well the model learned."""

from __future__ import annotations

from autograder.checks.verdict import verdict
from autograder.results import CheckResult
from autograder.spec import SPEC, Spec


def check_train(description: dict, samples: int, reference_val_accuracy: float, *, spec: Spec = SPEC) -> CheckResult:
    """Checks what ``train(model, X, y)`` returned.

    Args:
        description: ``describe_history(train(model, X, y))``.
        samples: How many rows X had.
        reference_val_accuracy: The final validation accuracy of the reference model trained on the
            same X and y with the same seed.
        spec: The course spec.
    """
    training = spec.training
    if not description["is_history"]:
        return verdict(
            "train", [f"train returned a {description['class_name']}; expected the History that model.fit returns."],
            success="", hints=["End train with `return model.fit(...)`."], spec=spec,
        )
    params, metrics = description["params"], description["metrics"]
    problems: list[str] = []
    hints: list[str] = []
    epochs = params.get("epochs")
    if epochs != training.epochs:
        problems.append(f"Your training ran {epochs} epochs; the spec asks for {training.epochs}.")
    expected_steps = training.steps_per_epoch(samples)
    steps = params.get("steps")
    if steps != expected_steps:
        kept = training.training_samples(samples)
        problems.append(
            f"Each epoch ran {steps} batches; with {samples} samples, {kept} left after the {training.validation_split:.0%} "
            f"validation split, and batches of {training.batch_size}, the spec expects {expected_steps}."
        )
        hints.append(f"Pass batch_size={training.batch_size} and validation_split={training.validation_split} to model.fit.")
    ran = len(metrics.get("loss", []))
    if ran != epochs:
        problems.append(f"The History holds {ran} epochs of loss but says it ran {epochs}; return the History of one fit call.")
    missing = [name for name in ("val_loss", "val_accuracy") if name not in metrics]
    if missing:
        problems.append(f"The History has no {' or '.join(missing)}; the spec holds out {training.validation_split:.0%} for validation.")
        hints.append(f"Pass validation_split={training.validation_split} to model.fit (and metrics=['accuracy'] to compile).")
    elif not metrics["val_accuracy"]:
        problems.append("The History's val_accuracy is empty; expected one value per epoch.")
    else:
        final = metrics["val_accuracy"][-1]
        floor = reference_val_accuracy - training.accuracy_margin
        if final < floor:
            problems.append(
                f"Your final validation accuracy is {final:.1%}; the reference model reaches {reference_val_accuracy:.1%} "
                f"on the same digits, and the spec allows {training.accuracy_margin:.0%} less ({floor:.1%})."
            )
            hints.append("Check that the inputs are scaled to [0, 1] and the compile settings match the spec.")
    final_accuracy = (metrics.get("val_accuracy") or [float("nan")])[-1]
    return verdict(
        "train", problems,
        success=f"train ran {training.epochs} epochs of {expected_steps} batches with validation, "
        f"and reached {final_accuracy:.1%} validation accuracy (reference {reference_val_accuracy:.1%}).",
        hints=hints or ["Return model.fit(X, y, epochs=..., batch_size=..., validation_split=...) with the spec's values."],
        spec=spec,
    )
