"""The grader's reference: the spec's network, fixed weights for it, and a NumPy forward pass.

Everything is built from the spec, so changing the spec changes the reference with it. Later
lessons' set-up cells import what earlier lessons built from here (``build_model``,
``compile_model``, ...), so every lesson runs on its own.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograder import trained_cache
from autograder.spec import SPEC, Spec


def flatten(images: np.ndarray, spec: Spec = SPEC) -> np.ndarray:
    """Turns uint8 (N, 28, 28) images into float32 (N, 784) rows scaled to [0, 1]."""
    return images.reshape(len(images), spec.data.pixels).astype(np.float32) / spec.data.pixel_max


def take_subset(x: np.ndarray, y: np.ndarray, n: int = SPEC.data.subset_size) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` aligned (image, label) pairs."""
    return x[:n], y[:n]


def build_model(spec: Spec = SPEC):
    """The spec's network: an input of 784 pixels, then the Dense layers the spec lists."""
    import keras

    return keras.Sequential(
        [keras.Input(shape=(spec.model.input_size,))]
        + [keras.layers.Dense(layer.units, activation=layer.activation, name=layer.name) for layer in spec.model.layers]
    )


def compile_model(model, spec: Spec = SPEC) -> None:
    """Compiles ``model`` with the spec's loss, optimizer and metrics."""
    import keras

    loss = getattr(keras.losses, spec.compile.loss)(from_logits=spec.compile.from_logits)
    optimizer = getattr(keras.optimizers, spec.compile.optimizer)(learning_rate=spec.compile.learning_rate)
    model.compile(loss=loss, optimizer=optimizer, metrics=list(spec.compile.metrics))


def train(model, X: np.ndarray, y: np.ndarray, spec: Spec = SPEC, verbose: int = 0):
    """Fits ``model`` with the spec's epochs, batch size and validation split; returns the History."""
    t = spec.training
    return model.fit(
        X, y, epochs=t.epochs, batch_size=t.batch_size, validation_split=t.validation_split, verbose=verbose
    )


def training_start(spec: Spec = SPEC):
    """The network the ``train`` check trains: the reference network, seeded, compiled the reference way.

    (While a lesson is graded, the kernel's copy of this module compiles it from saved settings instead:
    see :mod:`autograder.kernel.course_copy`.)
    """
    import keras

    keras.utils.set_random_seed(spec.data.seed)
    model = build_model(spec)
    compile_model(model, spec)
    return model


def trained_model(X: np.ndarray, y: np.ndarray, spec: Spec = SPEC):
    """The reference network trained the spec's way on ``X``, ``y``: ``(model, history)``, as
    ``training_start`` then ``train`` give them.

    The first call on a machine trains and keeps the result on disk (:mod:`autograder.trained_cache`); later calls
    with the same spec and data load it instead. Either way Keras's global seed is the spec's afterwards, so what
    runs next draws the same random numbers whether the model was trained or loaded.
    """
    import keras

    folder, key = trained_cache.cache_folder(), trained_cache.cache_key(X, y, spec)
    kept = trained_cache.load(folder, key)
    if kept is None:
        model = training_start(spec)
        history = train(model, X, y, spec)
        trained_cache.save(folder, key, model, history)
        kept = model, history
    keras.utils.set_random_seed(spec.data.seed)
    return kept


def reference_weights(spec: Spec = SPEC) -> list[np.ndarray]:
    """Fixed weights for the spec's network, the same on every machine.

    They are random (seeded) rather than trained, scaled so that predictions are confident enough to
    have a clear winner; the prediction checks need a known model, not a good one.
    """
    rng = np.random.default_rng(spec.data.seed)
    weights, fan_in = [], spec.model.input_size
    for layer in spec.model.layers:
        weights.append(rng.normal(0.0, np.sqrt(6.0 / fan_in), size=(fan_in, layer.units)).astype(np.float32))
        weights.append(rng.normal(0.0, 0.1, size=layer.units).astype(np.float32))
        fan_in = layer.units
    return weights


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0),
    "linear": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "softmax": lambda z: (e := np.exp(z - z.max(axis=1, keepdims=True))) / e.sum(axis=1, keepdims=True),
}


def forward(weights: list[np.ndarray], X: np.ndarray, spec: Spec = SPEC) -> np.ndarray:
    """The spec's network applied to ``X`` with ``weights``, in NumPy (float64)."""
    out = np.asarray(X, dtype=np.float64)
    for layer, kernel, bias in zip(spec.model.layers, weights[0::2], weights[1::2], strict=True):
        out = ACTIVATIONS[layer.activation](out @ kernel + bias)
    return out


_VAL_ACCURACY: dict[str, float] = {}


def reference_val_accuracy(X: np.ndarray, y: np.ndarray, spec: Spec = SPEC) -> float:
    """Final validation accuracy of the reference model trained on ``X``, ``y`` with the spec's seed.

    Remembered per (data, spec) within a process, and on disk across processes (:func:`trained_model`: each
    grading worker would otherwise train it again). Resets Keras's global seed as a side effect.
    """

    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.ascontiguousarray(y)
    key = trained_cache.data_fingerprint(X, y) + spec.fingerprint
    if key not in _VAL_ACCURACY:
        _, history = trained_model(X, y, spec)
        _VAL_ACCURACY[key] = float(history.history["val_accuracy"][-1])
    return _VAL_ACCURACY[key]
