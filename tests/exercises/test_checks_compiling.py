"""Tests of the lesson 04 check compile_model: loss, from_logits, optimizer, learning rate and metrics."""

import keras
import pytest
from support.assertions import assert_scored

from autograder import reference
from autograder.exercises import run_check
from autograder.exercises.compiling import check_compile_model, loss_settings, metric_names, snake_case
from autograder.exercises.describe import describe_compile
from autograder.results import Outcome


def compiler(loss=None, optimizer=None, metrics=("accuracy",)):
    """A compile_model(model) that compiles in place; loss and optimizer default to the spec's (built per call)."""

    def compile_model(model):
        model.compile(
            loss=loss if loss is not None else keras.losses.SparseCategoricalCrossentropy(from_logits=False),
            optimizer=optimizer() if callable(optimizer) else optimizer or keras.optimizers.Adam(learning_rate=0.001),
            metrics=list(metrics),
        )

    return compile_model


def check(compile_model, build_model=reference.build_model):
    return run_check("compile_model", compile_model, build_model)


def test_reference_compile_passes():
    """Does the reference compile_model pass with the spec's points?"""
    result = check(reference.compile_model)
    assert_scored(result, "compile_model", passed=True)
    assert "Adam with learning rate 0.001" in result.message


def test_softmax_with_from_logits_true_fails_as_a_wrong_description():
    """Does a softmax output with from_logits=True fail, saying the flag describes the output wrongly, with a hint
    that says what really happens (Keras's rescue here, a double softmax elsewhere)?"""
    result = check(compiler(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)))
    assert_scored(result, "compile_model", passed=False)
    assert "from_logits=True, which says the model outputs raw scores (logits)" in result.message
    assert "your output layer applies softmax" in result.message
    assert "applied twice" not in result.message
    assert len(result.message.splitlines()) == 1
    assert "Keras notices the softmax, warns" in result.hint
    assert "JAX or PyTorch" in result.hint and "double softmax" in result.hint
    assert "use from_logits=False" in result.hint


def test_linear_output_with_from_logits_true_fails_on_from_logits():
    """With a linear output (not the spec's), does from_logits=True fail as a plain from_logits mismatch?"""

    def linear_model():
        return keras.Sequential(
            [
                keras.Input(shape=(784,)),
                keras.layers.Dense(100, activation="relu"),
                keras.layers.Dense(30, activation="relu"),
                keras.layers.Dense(10),
            ]
        )

    result = check(compiler(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)), linear_model)
    assert_scored(result, "compile_model", passed=False)
    assert result.message == "Your loss has from_logits=True; the spec asks for from_logits=False."


def test_learning_rate_001_fails_naming_both_rates():
    """Does learning rate 0.01 fail, naming 0.01 and 0.001?"""
    result = check(compiler(optimizer=lambda: keras.optimizers.Adam(learning_rate=0.01)))
    assert_scored(result, "compile_model", passed=False)
    assert result.message == "Your learning rate is 0.01; the spec asks for 0.001."
    assert "keras.optimizers.Adam(learning_rate=0.001)" in result.hint


def test_sgd_fails_naming_it():
    """Does SGD (at its default rate 0.01) fail, naming SGD and Adam and the learning rate?"""
    result = check(compiler(optimizer=lambda: keras.optimizers.SGD()))
    assert_scored(result, "compile_model", passed=False)
    assert "Your optimizer is SGD; the spec asks for Adam." in result.message
    assert "Your learning rate is 0.01; the spec asks for 0.001." in result.message


def test_sgd_at_the_right_rate_still_fails():
    """Does SGD with learning rate 0.001 fail on the optimizer alone?"""
    result = check(compiler(optimizer=lambda: keras.optimizers.SGD(learning_rate=0.001)))
    assert_scored(result, "compile_model", passed=False)
    assert result.message == "Your optimizer is SGD; the spec asks for Adam."


def test_categorical_crossentropy_fails_with_one_hot_hint():
    """Does 'categorical_crossentropy' fail, naming the spec's loss, with a hint about one-hot labels?"""
    result = check(compiler(loss="categorical_crossentropy"))
    assert_scored(result, "compile_model", passed=False)
    assert "Your loss is 'categorical_crossentropy'" in result.message
    assert "SparseCategoricalCrossentropy" in result.message
    assert "one-hot" in result.hint


def test_missing_accuracy_fails():
    """Do metrics without accuracy fail, listing the metrics found?"""
    result = check(compiler(metrics=["mae"]))
    assert_scored(result, "compile_model", passed=False)
    assert result.message == "Your metrics are ['mae']; the spec asks for 'accuracy' among them."


def test_no_metrics_fails():
    """Does compiling with no metrics fail, saying there are none?"""
    result = check(compiler(metrics=[]))
    assert_scored(result, "compile_model", passed=False)
    assert "Your metrics are none" in result.message


def test_every_compile_mistake_is_reported():
    """With the wrong loss, from_logits, optimizer, rate and metrics all at once, is each one reported?"""
    result = check(
        compiler(
            loss=keras.losses.CategoricalCrossentropy(from_logits=True),
            optimizer=lambda: keras.optimizers.SGD(learning_rate=0.05),
            metrics=["mae"],
        )
    )
    assert_scored(result, "compile_model", passed=False)
    message = result.message
    assert "Your loss is 'categorical_crossentropy'" in message
    assert "your output layer applies softmax" in message
    assert "Your optimizer is SGD" in message
    assert "Your learning rate is 0.05; the spec asks for 0.001." in message
    assert "'accuracy' among them" in message
    assert len(message.splitlines()) == 5


def test_uncompiled_fails():
    """Does a compile_model that doesn't compile fail, saying the model was left uncompiled?"""
    result = check(lambda model: None)
    assert_scored(result, "compile_model", passed=False)
    assert "uncompiled" in result.message
    assert "model.compile" in result.hint


@pytest.mark.parametrize(
    "metric",
    ["acc", "sparse_categorical_accuracy", keras.metrics.SparseCategoricalAccuracy],
    ids=["acc", "sparse_categorical_accuracy", "SparseCategoricalAccuracy()"],
)
def test_other_spellings_of_accuracy_pass(metric):
    """Is accuracy accepted as 'acc', 'sparse_categorical_accuracy' or keras.metrics.SparseCategoricalAccuracy()?"""

    def compile_model(model):
        compiler(metrics=[metric() if isinstance(metric, type) else metric])(model)

    assert_scored(check(compile_model), "compile_model", passed=True)


@pytest.mark.parametrize(
    "loss",
    ["sparse_categorical_crossentropy", keras.losses.sparse_categorical_crossentropy],
    ids=["string", "function"],
)
def test_loss_as_string_or_function_passes(loss):
    """Is the loss accepted as the string 'sparse_categorical_crossentropy' or Keras's function?"""
    assert_scored(check(compiler(loss=loss)), "compile_model", passed=True)


def test_optimizer_as_string_adam_passes():
    """Is optimizer='adam' (Adam at its default rate 0.001) accepted?"""
    assert_scored(check(compiler(optimizer="adam")), "compile_model", passed=True)


def test_returning_a_new_compiled_model_is_accepted():
    """Is a compile_model that returns a new, compiled model (leaving its argument alone) accepted?"""

    def compile_model(model):
        fresh = reference.build_model()
        reference.compile_model(fresh)
        return fresh

    assert_scored(check(compile_model), "compile_model", passed=True)


def test_compiling_in_place_and_returning_something_else_is_accepted():
    """Is a compile_model that compiles in place and returns a non-model still judged on the model?"""

    def compile_model(model):
        reference.compile_model(model)
        return "done"

    assert_scored(check(compile_model), "compile_model", passed=True)


def test_sigmoid_output_is_reported():
    """Does compiling a sigmoid-output network the spec's way still fail, naming sigmoid?"""

    def sigmoid_model():
        return keras.Sequential(
            [
                keras.Input(shape=(784,)),
                keras.layers.Dense(100, activation="relu"),
                keras.layers.Dense(30, activation="relu"),
                keras.layers.Dense(10, activation="sigmoid"),
            ]
        )

    result = check(reference.compile_model, sigmoid_model)
    assert_scored(result, "compile_model", passed=False)
    assert "Your output layer uses sigmoid" in result.message


def test_check_compile_model_on_plain_description():
    """Does check_compile_model judge describe_compile()'s dict directly?"""
    model = reference.build_model()
    reference.compile_model(model)
    description = describe_compile(model)
    assert description["compiled"] and description["output_activation"] == "softmax"
    assert_scored(check_compile_model(description), "compile_model", passed=True)
    uncompiled = describe_compile(reference.build_model())
    assert not uncompiled["compiled"]
    assert "uncompiled" in check_compile_model(uncompiled).message


def test_checking_does_not_recompile():
    """Does the compile_model check leave the student's compiled settings exactly as they were?"""
    model = reference.build_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.123), loss="mean_squared_error", metrics=["mae"])
    before = model.get_compile_config()
    result = check(lambda m: model)
    assert result.outcome is Outcome.FAILED
    assert "Your learning rate is 0.123" in result.message
    assert model.get_compile_config() == before


def test_helpers_read_compile_configs():
    """Do the helpers turn class names to snake case and read losses and metrics out of configs?"""
    assert snake_case("SparseCategoricalCrossentropy") == "sparse_categorical_crossentropy"
    assert loss_settings("SparseCategoricalCrossentropy") == ("sparse_categorical_crossentropy", False)
    assert loss_settings({"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": True}}) == (
        "sparse_categorical_crossentropy",
        True,
    )
    assert loss_settings(None) == (None, False)
    assert metric_names(["accuracy", {"config": {"name": "acc"}}, [["mae"]]]) == ["accuracy", "acc", "mae"]


# Lesson 04 says that here (Keras 3 on TensorFlow) a softmax output compiled with from_logits=True trains exactly
# like one compiled with from_logits=False: Keras's softmax keeps its logits and the loss uses them, with a warning
# (keras/src/backend/tensorflow/nn.py, _get_logits). These tests re-measure that, so the lesson's text fails here
# when a Keras release changes it.

LOGITS_WARNING = "received `from_logits=True`, but the `output` argument was produced by a Softmax activation"


def losses_of_both_pairings(X, y, fit_epochs: int = 0):
    """The spec's seeded network compiled with from_logits False, then True: each one's loss and weights.

    With ``fit_epochs`` 0, the loss of one ``evaluate`` on X, y; otherwise the last epoch's training loss.
    Also returns the warnings' messages.
    """
    import warnings

    outcomes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for from_logits in (False, True):
            keras.utils.set_random_seed(42)
            model = reference.build_model()
            model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits), optimizer="adam")
            if fit_epochs:
                loss = model.fit(X, y, epochs=fit_epochs, verbose=0).history["loss"][-1]
            else:
                loss = model.evaluate(X, y, verbose=0)
            outcomes.append((loss, model.get_weights()))
    return outcomes, [str(w.message) for w in caught]


def test_both_pairings_give_the_same_loss_here_with_a_warning():
    """Does the softmax output give the same loss with from_logits=True as with False, and does Keras warn?"""
    import numpy as np

    rng = np.random.default_rng(0)
    X, y = rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64)
    ((right, _), (wrong, _)), warned = losses_of_both_pairings(X, y)
    assert wrong == right
    assert any(LOGITS_WARNING in message for message in warned), warned


def test_probabilities_given_to_the_loss_directly_go_through_softmax_again():
    """Given model.predict's probabilities (no logits kept), does from_logits=True apply softmax a second time?"""
    import numpy as np

    rng = np.random.default_rng(0)
    X, y = rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64)
    keras.utils.set_random_seed(42)
    probabilities = reference.build_model().predict(X, verbose=0)
    loss = keras.losses.SparseCategoricalCrossentropy
    twice = float(loss(from_logits=True)(y, probabilities))
    expected = float(loss(from_logits=False)(y, keras.ops.convert_to_numpy(keras.ops.softmax(probabilities))))
    assert abs(twice - expected) < 1e-5
    assert abs(twice - float(loss(from_logits=False)(y, probabilities))) > 1e-3


@pytest.mark.slow
def test_both_pairings_train_identically_here(synthetic_digits):
    """Does lesson 04's measurement hold: the same seeded network, 5 epochs on 300 synthetic digits, the same loss
    and the same weights with from_logits=True as with False?"""
    import warnings

    from digits import mnist

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x_train, y_train), _ = mnist.load_data()
    X, y = reference.flatten(x_train[:300]), y_train[:300]
    ((right, right_weights), (wrong, wrong_weights)), warned = losses_of_both_pairings(X, y, fit_epochs=5)
    assert wrong == right
    assert all((a == b).all() for a, b in zip(right_weights, wrong_weights, strict=True))
    assert any(LOGITS_WARNING in message for message in warned), warned
