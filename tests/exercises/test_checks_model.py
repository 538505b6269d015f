"""Tests of the lesson 03 check: build_model(), including the usual mistakes."""

import keras
import numpy as np
import pytest
from support.assertions import assert_scored

from autograder import reference
from autograder.exercises import run_check
from autograder.exercises.describe import describe_compile, describe_independence, describe_model
from autograder.exercises.model import check_build_model
from autograder.results import Outcome
from autograder.spec import SPEC


def dense(units, activation, name=None):
    return keras.layers.Dense(units, activation=activation, name=name)


def sequential(*layers, shape=(784,)):
    """A Sequential that starts with keras.Input(shape=shape)."""
    return keras.Sequential([keras.Input(shape=shape), *layers])


def spec_layers(**changes):
    """The spec's three Dense layers; changes={'layer2': dict(units=25)} alters one of them."""
    layers = []
    for layer in SPEC.model.layers:
        settings = {
            "units": layer.units,
            "activation": layer.activation,
            "name": layer.name,
            **changes.get(layer.name, {}),
        }
        layers.append(dense(**settings))
    return layers


def builder(**changes):
    """A build_model() that builds the spec's network with some changes."""
    return lambda: sequential(*spec_layers(**changes))


def test_spec_model_passes():
    """Does the spec's network pass with full points and a message naming its 81,840 parameters?"""
    result = run_check("build_model", reference.build_model)
    assert_scored(result, "build_model", passed=True)
    assert "81,840 parameters" in result.message
    assert result.hint == ""


def test_handwritten_spec_model_passes():
    """Does a hand-written Sequential with the spec's layers pass, like the lesson's solution?"""

    def build_model():
        return keras.Sequential(
            [
                keras.Input(shape=(784,)),
                keras.layers.Dense(100, activation="relu", name="layer1"),
                keras.layers.Dense(30, activation="relu", name="layer2"),
                keras.layers.Dense(10, activation="softmax", name="layer3"),
            ]
        )

    assert_scored(run_check("build_model", build_model), "build_model", passed=True)


def test_missing_layer2_fails_with_counts():
    """Does a model missing layer2 fail, saying it has 2 Dense layers and the wrong parameter count?"""
    result = run_check("build_model", lambda: sequential(dense(100, "relu", "layer1"), dense(10, "softmax", "layer3")))
    assert_scored(result, "build_model", passed=False)
    assert (
        "Your model has 2 Dense layers (layer1, layer3); the spec asks for 3 (layer1, layer2, layer3)."
        in result.message
    )
    assert "Your model has 79,510 parameters; the spec's network has 81,840." in result.message


def test_missing_layer2_is_named_as_missing():
    """Does a model missing layer2 say 'layer2 is missing', without claiming its layer3 is missing?"""
    result = run_check("build_model", lambda: sequential(dense(100, "relu", "layer1"), dense(10, "softmax", "layer3")))
    assert "layer2 is missing" in result.message
    assert "layer3 is missing" not in result.message


def test_fourth_dense_layer_fails_as_one_too_many():
    """Does a fourth Dense layer after layer3 fail as 'one too many', with the layer and parameter counts?"""
    result = run_check("build_model", lambda: sequential(*spec_layers(), dense(10, "softmax", "layer4")))
    assert_scored(result, "build_model", passed=False)
    lines = result.message.splitlines()
    assert lines == [
        "Your model has 4 Dense layers (layer1, layer2, layer3, layer4); the spec asks for 3 (layer1, layer2, layer3).",
        "The 4th Dense layer 'layer4' is one too many: the spec's network has only layer1, layer2, layer3.",
        "Your model has 81,950 parameters; the spec's network has 81,840.",
    ]


def test_extra_middle_layer_is_the_one_too_many():
    """Does an extra Dense layer inserted before layer3 get named as the extra one, not layer3?"""
    result = run_check(
        "build_model",
        lambda: sequential(
            dense(100, "relu", "layer1"),
            dense(30, "relu", "layer2"),
            dense(30, "relu", "extra"),
            dense(10, "softmax", "layer3"),
        ),
    )
    assert "'extra' is one too many" in result.message
    assert "'layer3' is one too many" not in result.message


def test_wrong_case_name_fails_naming_it():
    """Does 'Layer2' instead of 'layer2' fail, quoting both names and saying names are case-sensitive?"""
    result = run_check("build_model", builder(layer2={"name": "Layer2"}))
    assert_scored(result, "build_model", passed=False)
    assert result.message == "The 2nd Dense layer is named 'Layer2'; the spec asks for 'layer2'."
    assert "case-sensitive" in result.hint


def test_25_units_fails_with_exact_sentence():
    """Does layer2 with 25 units fail with exactly 'layer2 has 25 units; the spec asks for 30.', plus the parameters?"""
    result = run_check("build_model", builder(layer2={"units": 25}))
    assert_scored(result, "build_model", passed=False)
    lines = result.message.splitlines()
    assert "layer2 has 25 units; the spec asks for 30." in lines
    assert "Your model has 81,285 parameters; the spec's network has 81,840." in lines
    assert len(lines) == 2


def test_sigmoid_output_fails_naming_sigmoid():
    """Does a sigmoid output layer fail, naming sigmoid and softmax, with a hint about mutually exclusive classes?"""
    result = run_check("build_model", builder(layer3={"activation": "sigmoid"}))
    assert_scored(result, "build_model", passed=False)
    assert result.message == "layer3 uses activation 'sigmoid'; the spec asks for 'softmax'."
    assert "sigmoid" in result.hint and "softmax" in result.hint


def test_linear_output_fails_with_softmax_hint():
    """Does an output layer without activation fail, hinting to put softmax on it?"""
    result = run_check("build_model", builder(layer3={"activation": None}))
    assert_scored(result, "build_model", passed=False)
    assert "layer3 uses activation 'linear'; the spec asks for 'softmax'." in result.message
    assert "activation='softmax'" in result.hint


def test_several_mistakes_in_one_model_are_all_reported():
    """With a wrong name, wrong units and a wrong activation on different layers, is each one reported?"""
    result = run_check(
        "build_model", builder(layer1={"name": "hidden"}, layer2={"units": 25}, layer3={"activation": "sigmoid"})
    )
    assert_scored(result, "build_model", passed=False)
    assert "The 1st Dense layer is named 'hidden'; the spec asks for 'layer1'." in result.message
    assert "layer2 has 25 units; the spec asks for 30." in result.message
    assert "layer3 uses activation 'sigmoid'; the spec asks for 'softmax'." in result.message
    assert "81,285 parameters" in result.message
    assert len(result.message.splitlines()) == 4


def test_flatten_layer_with_image_input_fails():
    """Does Input(shape=(28, 28)) with a Flatten layer fail, naming the input shape and the Flatten layer?"""
    result = run_check("build_model", lambda: sequential(keras.layers.Flatten(), *spec_layers(), shape=(28, 28)))
    assert_scored(result, "build_model", passed=False)
    assert "Your model's input shape is (None, 28, 28); the spec asks for (None, 784)." in result.message
    assert "Flatten layer" in result.message
    assert "already flattened" in result.hint


def test_no_input_fails_saying_no_input_shape():
    """Does a Sequential without keras.Input fail, saying it has no input shape yet?"""
    result = run_check("build_model", lambda: keras.Sequential(spec_layers()))
    assert_scored(result, "build_model", passed=False)
    assert "no input shape yet" in result.message
    assert "keras.Input(shape=(784,))" in result.hint


def test_same_global_model_twice_fails():
    """Does a build_model that returns the same global model every time fail, saying the models share layers?"""
    shared = reference.build_model()
    result = run_check("build_model", lambda: shared)
    assert_scored(result, "build_model", passed=False)
    assert "share layers" in result.message
    assert "inside build_model()" in result.hint


def test_layers_created_once_outside_fail():
    """Does a build_model that wraps layers created once outside it fail as sharing layers?"""
    layers = spec_layers()
    result = run_check("build_model", lambda: sequential(*layers))
    assert_scored(result, "build_model", passed=False)
    assert "share layers" in result.message


def test_string_instead_of_model_fails():
    """Does a build_model returning a string fail, saying a Keras model was expected?"""
    result = run_check("build_model", lambda: "my model")
    assert_scored(result, "build_model", passed=False)
    assert result.message == "build_model() returned a str; expected a Keras model."


def test_check_build_model_on_plain_description():
    """Does check_build_model judge a describe_model() dict, without needing the model itself?"""
    first, second = reference.build_model(), reference.build_model()
    description = describe_model(first)
    assert description["parameters"] == SPEC.model.parameters == 81_840
    assert [layer["name"] for layer in description["layers"]] == ["layer1", "layer2", "layer3"]
    assert_scored(check_build_model(description, describe_independence(first, second)), "build_model", passed=True)


def compiled_distinctively():
    """The spec's network compiled with settings the checks would never choose."""
    model = reference.build_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.123), loss="mean_squared_error", metrics=["mae"])
    return model


def test_describing_does_not_recompile_the_model():
    """Do describe_model, describe_compile and describe_independence leave a compiled model's settings alone?"""
    model = compiled_distinctively()
    before = model.get_compile_config()
    weights = [w.copy() for w in model.get_weights()]
    describe_model(model)
    describe_compile(model)
    describe_independence(model, model)
    assert model.get_compile_config() == before
    assert model.get_compile_config()["optimizer"]["config"]["learning_rate"] == pytest.approx(0.123)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))


def test_build_model_check_does_not_recompile_the_model():
    """Does running the build_model check on a compiled model leave its compile settings and weights unchanged?"""
    model = compiled_distinctively()
    before = model.get_compile_config()
    weights = [w.copy() for w in model.get_weights()]
    result = run_check("build_model", lambda: model)
    assert result.outcome is Outcome.FAILED  # the same model twice: shares layers; that's not what's tested here
    assert model.get_compile_config() == before
    assert model.optimizer.__class__.__name__ == "SGD"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.123)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))


def test_describing_does_not_build_an_unbuilt_model():
    """Does describing a model without an input shape leave it unbuilt?"""
    model = keras.Sequential(spec_layers())
    assert not model.built
    description = describe_model(model)
    assert description["parameters"] is None and description["input_shape"] is None
    assert not model.built
