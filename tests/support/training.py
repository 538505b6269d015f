"""Digits to train on in a few seconds, and a train that only pretends to have trained."""

from __future__ import annotations

SMALL_DIGITS = 300  # rows of synthetic digits for the tests that really train: 240 to fit, the last 60 to validate


def small_digits():
    """300 synthetic digits (seed 0), flattened and scaled, and their labels: enough to train in a few seconds."""
    from autograder import reference
    from digits.synthetic import make_digits

    images, labels = make_digits(SMALL_DIGITS, seed=0)
    return reference.flatten(images), labels


def fabricated_train(model, X, y):
    """A train that doesn't train: it never calls fit and hands back a History set up by hand with the numbers
    a cheat would like (loss 0.01, accuracy and val_accuracy 1.0, every epoch the spec asks for, as many
    batches per epoch as X's rows give)."""
    import keras

    from autograder.spec import SPEC

    epochs = SPEC.training.epochs
    history = keras.callbacks.History()
    history.params = {"verbose": 0, "epochs": epochs, "steps": SPEC.training.steps_per_epoch(len(X))}
    history.history = {
        "loss": [0.01] * epochs,
        "accuracy": [1.0] * epochs,
        "val_loss": [0.01] * epochs,
        "val_accuracy": [1.0] * epochs,
    }
    return history
