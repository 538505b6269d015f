"""Reads what the checks need out of Keras and matplotlib objects, as plain data.

Nothing here changes the object it reads: no compile, no build, no fit. Only Keras 3's public API is
used (``get_config``, ``count_params``, ``get_compile_config``, ``input_shape``, ``output_shape``).
The results are plain dicts and arrays, so the batch grader can compute them where the object lives
and check them elsewhere.
"""

from __future__ import annotations

import numpy as np


def activation_name(activation) -> str | None:
    """The name of an activation as it appears in a layer config ('relu', or a serialized dict)."""
    if activation is None or isinstance(activation, str):
        return activation
    if isinstance(activation, dict):
        config = activation.get("config")
        return config if isinstance(config, str) else activation.get("class_name")
    return getattr(activation, "__name__", type(activation).__name__)


def _shape(model, attribute: str):
    try:
        shape = getattr(model, attribute)
    except (AttributeError, ValueError):
        return None
    return list(shape) if isinstance(shape, tuple | list) else None


def describe_model(model) -> dict:
    """Describes a model's architecture.

    Args:
        model: Whatever ``build_model()`` returned.

    Returns:
        ``{"is_model", "class_name", "input_shape", "output_shape", "parameters", "layers"}``; each
        layer is ``{"class_name", "name", "units", "activation"}``. Shapes and parameters are None
        when the model has no input shape yet.
    """
    import keras

    description = {"is_model": isinstance(model, keras.Model), "class_name": type(model).__name__}
    if not description["is_model"]:
        return description
    try:
        parameters = int(model.count_params())
    except ValueError:
        parameters = None
    layers = []
    for layer in model.layers:
        config = layer.get_config()
        layers.append(
            {
                "class_name": type(layer).__name__,
                "name": layer.name,
                "units": config.get("units"),
                "activation": activation_name(config.get("activation")),
            }
        )
    return {
        **description,
        "input_shape": _shape(model, "input_shape"),
        "output_shape": _shape(model, "output_shape"),
        "parameters": parameters,
        "layers": layers,
    }


def describe_independence(first, second) -> dict:
    """Says whether two results of ``build_model()`` share anything.

    Returns:
        ``{"same_object": bool, "shared_layers": int}``.
    """
    second_layers = {id(layer) for layer in getattr(second, "layers", [])}
    shared = sum(id(layer) in second_layers for layer in getattr(first, "layers", []))
    return {"same_object": first is second, "shared_layers": shared}


def describe_compile(model) -> dict:
    """Reads a model's compile settings without touching them.

    Returns:
        ``{"compiled": bool, "config": the get_compile_config() dict, "output_activation": str}``.
    """
    import keras

    if not isinstance(model, keras.Model):
        return {"compiled": False, "config": {}, "output_activation": None, "class_name": type(model).__name__}
    config = model.get_compile_config() or {}
    layers = model.layers
    output_activation = activation_name(layers[-1].get_config().get("activation")) if layers else None
    return {"compiled": bool(config), "config": config, "output_activation": output_activation}


def describe_history(history) -> dict:
    """Reads a ``History``'s params and per-epoch metrics.

    Returns:
        ``{"is_history": bool, "class_name", "params": dict, "metrics": {name: [float per epoch]}}``.
    """
    import keras

    if not isinstance(history, keras.callbacks.History):
        return {"is_history": False, "class_name": type(history).__name__, "params": {}, "metrics": {}}
    metrics = {name: [float(value) for value in values] for name, values in history.history.items()}
    params = {key: value for key, value in (history.params or {}).items() if isinstance(value, int | float | str)}
    return {"is_history": True, "class_name": "History", "params": params, "metrics": metrics}


def describe_figure(figure) -> dict:
    """Reads the image panels of a matplotlib Figure: each panel's pixels, title and grid position.

    Returns:
        ``{"is_figure": bool, "class_name", "panels": [{"image": ndarray, "title": str,
        "grid": [rows, cols] | None}]}``.
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        return {"is_figure": False, "class_name": type(figure).__name__, "panels": []}
    panels = []
    for axes in figure.get_axes():
        images = axes.get_images()
        if not images:
            continue
        spec = axes.get_subplotspec()
        grid = list(spec.get_geometry()[:2]) if spec is not None else None
        panels.append({"image": np.asarray(images[0].get_array()), "title": axes.get_title(), "grid": grid})
    return {"is_figure": True, "class_name": "Figure", "panels": panels}
