"""Tests of the lesson 01-02 checks: load_data, class_counts, flatten and take_subset."""

import numpy as np
import pytest
from support.assertions import assert_scored

from autograder import reference
from autograder.exercises import probes, run_check
from autograder.exercises.data import check_class_counts, check_flatten, check_load_data, check_take_subset
from autograder.results import Outcome
from autograder.spec import SPEC


def mnist_like(n_train=50, n_test=20, seed=0):
    """Four arrays shaped like mnist.load_data()'s: uint8 (N, 28, 28) images and uint8 labels 0-9."""
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train).astype(np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test).astype(np.uint8),
    )


def scaled(images):
    """The right flatten: float32 rows of 784 in [0, 1]."""
    return images.reshape(len(images), 784).astype(np.float32) / 255


PERMUTATION = np.random.default_rng(1).permutation(784)


# load_data


def test_load_data_right_arrays_pass():
    """Do four arrays shaped like MNIST's pass with the spec's points?"""
    result = run_check("load_data", *mnist_like())
    assert_scored(result, "load_data", passed=True)


def test_load_data_float_images_fail_naming_dtype():
    """Do float images fail, naming their dtype and uint8?"""
    x_train, y_train, x_test, y_test = mnist_like()
    result = run_check("load_data", x_train.astype(float), y_train, x_test, y_test)
    assert_scored(result, "load_data", passed=False)
    assert result.message == "x_train has dtype float64; the raw images are uint8 (0-255)."


def test_load_data_flattened_images_fail_naming_shape():
    """Do (N, 784) images fail, naming the shape found and (N, 28, 28)?"""
    x_train, y_train, x_test, y_test = mnist_like()
    result = run_check("load_data", x_train, y_train, x_test.reshape(20, 784), y_test)
    assert_scored(result, "load_data", passed=False)
    assert "x_test has shape (20, 784)" in result.message
    assert "(N, 28, 28)" in result.message


def test_load_data_label_ten_fails():
    """Does a label 10 fail, saying digits are 0 to 9?"""
    x_train, y_train, x_test, y_test = mnist_like()
    y_train = y_train.copy()
    y_train[3] = 10
    result = run_check("load_data", x_train, y_train, x_test, y_test)
    assert_scored(result, "load_data", passed=False)
    assert result.message == "y_train has labels from 0 to 10; digits are 0 to 9."


def test_load_data_count_mismatch_fails():
    """Do 50 images with 49 labels fail, naming both counts?"""
    x_train, y_train, x_test, y_test = mnist_like()
    result = run_check("load_data", x_train, y_train[:-1], x_test, y_test)
    assert_scored(result, "load_data", passed=False)
    assert "x_train holds 50 images but y_train holds 49 labels" in result.message


def test_load_data_reports_every_mismatch():
    """With a float x_train, flattened x_test, an extra label and a 10 in y_test, is each one reported?"""
    x_train, y_train, x_test, y_test = mnist_like()
    result = run_check("load_data", x_train.astype(float), y_train, x_test.reshape(20, 784), np.append(y_test, 10))
    assert_scored(result, "load_data", passed=False)
    lines = result.message.splitlines()
    assert len(lines) == 4
    assert "x_train has dtype float64" in lines[0]
    assert "x_test has shape (20, 784)" in lines[1]
    assert "x_test holds 20 images but y_test holds 21 labels" in lines[2]
    assert "y_test has labels from 0 to 10" in lines[3]


def test_load_data_not_arrays_fail():
    """Does a list instead of an array fail, saying both should be NumPy arrays?"""
    _, y_train, x_test, y_test = mnist_like()
    result = run_check("load_data", [[0] * 28] * 28, y_train, x_test, y_test)
    assert_scored(result, "load_data", passed=False)
    assert "x_train is a list" in result.message and "NumPy arrays" in result.message


def test_load_data_all_none_is_not_attempted():
    """Are four None arrays (the lesson's placeholders) not attempted, with 0 points?"""
    result = run_check("load_data", None, None, None, None)
    assert result.outcome is Outcome.NOT_ATTEMPTED
    assert (result.points, result.max_points) == (0, SPEC.points["load_data"])
    assert "not attempted yet" in result.message


def test_check_load_data_called_directly():
    """Does the plain check function give the same verdict as run_check?"""
    arrays = mnist_like()
    assert check_load_data(*arrays) == run_check("load_data", *arrays)


# class_counts


def test_class_counts_bincount_passes():
    """Does np.bincount(y, minlength=10) pass on the grader's labels?"""
    result = run_check("class_counts", lambda y: np.bincount(y, minlength=10))
    assert_scored(result, "class_counts", passed=True)


def test_class_counts_probe_lacks_a_digit():
    """Does the grader's probe really leave one digit out, so np.unique gives 9 counts?"""
    labels = probes.class_count_labels()
    assert probes.MISSING_DIGIT not in labels
    assert len(np.unique(labels)) == SPEC.data.num_classes - 1


def test_class_counts_np_unique_fails_with_missing_digit_hint():
    """Does np.unique(..., return_counts=True)[1] fail with 9 counts and a hint about the missing digit?"""
    result = run_check("class_counts", lambda y: np.unique(y, return_counts=True)[1])
    assert_scored(result, "class_counts", passed=False)
    assert result.message == "class_counts returned 9 counts; expected 10, one per digit 0-9."
    assert "never occurs" in result.hint and "np.unique" in result.hint and "minlength=10" in result.hint


def test_class_counts_hard_coded_fails_naming_every_digit():
    """Does a hard-coded array of MNIST's counts fail, listing every wrong digit?"""
    counts = np.array([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    result = run_check("class_counts", lambda y: counts)
    assert_scored(result, "class_counts", passed=False)
    expected = np.bincount(probes.class_count_labels(), minlength=10)
    for digit in range(10):
        assert f"digit {digit}: yours {counts[digit]}, expected {expected[digit]}" in result.message
    assert "don't assume a fixed number" in result.hint


def test_class_counts_one_wrong_digit_is_named():
    """When only digit 3 is off by one, is digit 3 (and only digit 3) named?"""

    def off_by_one(y):
        counts = np.bincount(y, minlength=10)
        counts[3] += 1
        return counts

    result = run_check("class_counts", off_by_one)
    assert_scored(result, "class_counts", passed=False)
    assert "digit 3:" in result.message
    assert all(f"digit {d}:" not in result.message for d in range(10) if d != 3)


def test_class_counts_list_passes():
    """Is a plain list of the right counts accepted?"""
    result = run_check("class_counts", lambda y: [int(c) for c in np.bincount(y, minlength=10)])
    assert_scored(result, "class_counts", passed=True)


def test_class_counts_none_fails():
    """Does returning None fail, saying 10 whole numbers were expected?"""
    result = run_check("class_counts", lambda y: None)
    assert_scored(result, "class_counts", passed=False)
    assert "returned a NoneType" in result.message and "10 whole numbers" in result.message


def test_class_counts_not_implemented_is_not_attempted():
    """Is a class_counts that still raises NotImplementedError not attempted, 0 points?"""

    def class_counts(y):
        raise NotImplementedError()

    result = run_check("class_counts", class_counts)
    assert result.outcome is Outcome.NOT_ATTEMPTED
    assert (result.points, result.max_points) == (0, SPEC.points["class_counts"])
    assert "class_counts(y) is not attempted yet" in result.message


def test_class_counts_crash_is_error_with_exception_text():
    """Is a class_counts that raises ValueError an error whose message carries the exception's text?"""

    def class_counts(y):
        raise ValueError("labels look odd")

    result = run_check("class_counts", class_counts)
    assert result.outcome is Outcome.ERROR
    assert (result.points, result.max_points) == (0, SPEC.points["class_counts"])
    assert result.message == "Calling class_counts(y) raised ValueError: labels look odd"
    assert "new cell" in result.hint


def test_class_counts_gets_a_copy_of_the_labels():
    """Does a class_counts that scribbles on its input still get judged against the grader's own labels?"""

    def destructive(y):
        counts = np.bincount(y, minlength=10)
        y[:] = 0
        return counts

    assert_scored(run_check("class_counts", destructive), "class_counts", passed=True)


# flatten


def test_flatten_reference_passes():
    """Does the reference flatten pass with the spec's points?"""
    assert_scored(run_check("flatten", reference.flatten), "flatten", passed=True)


def test_flatten_unscaled_names_float32_and_range():
    """Does an unscaled uint8 flatten fail naming both float32 and [0, 1]?"""
    result = run_check("flatten", lambda images: images.reshape(len(images), 784))
    assert_scored(result, "flatten", passed=False)
    lines = result.message.splitlines()
    assert lines == [
        "flatten returned dtype uint8; expected float32.",
        "flatten returned values from 0 to 255; expected them scaled to [0, 1].",
    ]
    assert "astype('float32')" in result.hint and "255" in result.hint


def test_flatten_transposed_fails():
    """Does reading each image column by column fail, naming 'transposed'?"""
    result = run_check("flatten", lambda images: scaled(images.transpose(0, 2, 1)))
    assert_scored(result, "flatten", passed=False)
    assert "transposed" in result.message
    assert "scrambles" not in result.message


def test_flatten_transposed_and_unscaled_reports_all_three():
    """Is a transposed, unscaled uint8 answer reported for its dtype, its range and its order?"""
    result = run_check("flatten", lambda images: images.transpose(0, 2, 1).reshape(len(images), 784))
    assert_scored(result, "flatten", passed=False)
    assert "float32" in result.message
    assert "[0, 1]" in result.message
    assert "transposed" in result.message


def test_flatten_scrambled_pixels_fail():
    """Does a fixed permutation of the 784 columns fail, naming 'scrambles'?"""
    result = run_check("flatten", lambda images: scaled(images)[:, PERMUTATION])
    assert_scored(result, "flatten", passed=False)
    assert "scrambles" in result.message
    assert "transposed" not in result.message


def test_flatten_float64_fails_naming_float32():
    """Does a float64 answer with the right values fail, naming float32 and nothing else?"""
    result = run_check("flatten", lambda images: images.reshape(len(images), 784) / 255.0)
    assert_scored(result, "flatten", passed=False)
    assert result.message == "flatten returned dtype float64; expected float32."


def test_flatten_hard_coded_60000_is_error():
    """Is images.reshape(60000, 784) an error on the grader's 5 images, quoting NumPy's complaint?

    The grader's probe has 5 images, so the reshape raises inside the student's function and the
    check reports an ERROR (not a FAILED) with the exception's text.
    """
    result = run_check("flatten", lambda images: images.reshape(60000, 784).astype("float32") / 255)
    assert result.outcome is Outcome.ERROR
    assert (result.points, result.max_points) == (0, SPEC.points["flatten"])
    assert result.message.startswith("Calling flatten(images) raised ValueError:")
    assert "(60000,784)" in result.message


def test_flatten_unflattened_fails_naming_shape():
    """Does returning (N, 28, 28) fail, naming the shape found and (5, 784)?"""
    result = run_check("flatten", lambda images: images.astype("float32") / 255)
    assert_scored(result, "flatten", passed=False)
    assert "shape (5, 28, 28)" in result.message and "expected (5, 784)" in result.message
    assert "len(images)" in result.hint


def test_check_flatten_directly_on_own_images():
    """Does check_flatten judge any images it's given, not only the probe's?"""
    images = np.random.default_rng(3).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    assert_scored(check_flatten(images, scaled(images)), "flatten", passed=True)
    assert_scored(check_flatten(images, scaled(images)[:, ::-1]), "flatten", passed=False)


# take_subset


def test_take_subset_reference_passes():
    """Does the reference take_subset pass with the spec's points?"""
    assert_scored(run_check("take_subset", reference.take_subset), "take_subset", passed=True)


def test_take_subset_random_subset_fails():
    """Does a random subset fail for both calls, saying the first n rows were expected?"""

    def random_subset(x, y, n=3000):
        picks = np.random.default_rng(0).choice(len(x), n, replace=False)
        return x[picks], y[picks]

    result = run_check("take_subset", random_subset)
    assert_scored(result, "take_subset", passed=False)
    lines = result.message.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"take_subset(x, y, n={probes.SUBSET_N})") and "first" in lines[0]
    assert lines[1].startswith("take_subset(x, y) with its default n") and "first 3000" in lines[1]


def test_take_subset_misaligned_fails():
    """Does shifting the labels against the images fail, naming the misalignment?"""
    result = run_check("take_subset", lambda x, y, n=3000: (x[:n], np.roll(y[:n], 1)))
    assert_scored(result, "take_subset", passed=False)
    assert result.message.count("misaligned") == 2


def test_take_subset_off_by_one_labels_fail():
    """Does taking y[1:n+1] with x[:n] fail on both calls?"""
    result = run_check("take_subset", lambda x, y, n=3000: (x[:n], y[1 : n + 1]))
    assert_scored(result, "take_subset", passed=False)
    assert len(result.message.splitlines()) == 2
    assert "misaligned" in result.message


def test_take_subset_wrong_default_fails_naming_3000():
    """Does a default n of 1000 fail, naming 1000 and 3000?"""
    result = run_check("take_subset", lambda x, y, n=1000: (x[:n], y[:n]))
    assert_scored(result, "take_subset", passed=False)
    assert result.message == (
        "take_subset(x, y) with its default n returned 1000 images and 1000 labels; expected the first 3000 of each."
    )
    assert "default 3000" in result.hint


def test_take_subset_ignoring_n_fails():
    """Does a hard-coded 3000 that ignores n fail on the n=11 call?"""
    result = run_check("take_subset", lambda x, y, n=3000: (x[:3000], y[:3000]))
    assert_scored(result, "take_subset", passed=False)
    assert f"expected the first {probes.SUBSET_N} of each" in result.message


def test_take_subset_single_array_fails():
    """Does returning only x[:n] fail for both calls, asking for a pair?"""
    result = run_check("take_subset", lambda x, y, n=3000: x[:n])
    assert_scored(result, "take_subset", passed=False)
    lines = result.message.splitlines()
    assert len(lines) == 2
    assert all("expected a pair (x_subset, y_subset)" in line for line in lines)


def test_take_subset_list_pair_passes():
    """Is a list [x[:n], y[:n]] accepted like a tuple?"""
    assert_scored(run_check("take_subset", lambda x, y, n=3000: [x[:n], y[:n]]), "take_subset", passed=True)


def test_check_take_subset_directly():
    """Does check_take_subset judge plain arrays given to it directly?"""
    x, y = probes.subset_arrays(30)
    dx, dy = probes.subset_arrays(3100)
    good = check_take_subset(x, y, 5, (x[:5], y[:5]), dx, dy, (dx[:3000], dy[:3000]))
    assert_scored(good, "take_subset", passed=True)
    bad = check_take_subset(x, y, 5, (x[:5], y[:5]), dx, dy, (dx[:3000], dy[:2999]))
    assert_scored(bad, "take_subset", passed=False)
    assert "3000 images and 2999 labels" in bad.message


@pytest.mark.parametrize(
    "answer", [lambda y: np.bincount(y, minlength=10), lambda y: np.unique(y, return_counts=True)[1]]
)
def test_check_class_counts_directly_agrees_with_run_check(answer):
    """Does the plain check give the same result as run_check for the same labels?"""
    labels = probes.class_count_labels()
    assert check_class_counts(labels, answer(labels)) == run_check("class_counts", answer)


@pytest.mark.parametrize(
    ("answer", "found"), [(lambda images: None, "a NoneType"), (lambda images: "done", "a str")], ids=["none", "str"]
)
def test_flatten_returning_no_array_says_what_it_returned(answer, found):
    """Known wrong: a flatten that returns None (no return statement) or a string: is that named, instead of
    "turned 5 images into shape ()" and "dtype object"?"""
    result = run_check("flatten", answer)
    assert_scored(result, "flatten", passed=False)
    assert result.message == f"flatten returned {found}; expected a NumPy array of shape (5, 784)."


def test_flatten_rows_as_a_list_of_float32_arrays_still_pass():
    """Known right: a list of float32 rows in [0, 1] (np.asarray makes it the right array) still passes."""
    answer = lambda images: list(images.reshape(len(images), 784).astype("float32") / 255)  # noqa: E731
    assert_scored(run_check("flatten", answer), "flatten", passed=True)


def test_take_subset_pair_of_nones_fails_saying_so():
    """Known wrong: take_subset returns (None, None): is that named for both calls, rather than the grader crashing
    on len() of a 0-d array?"""
    result = run_check("take_subset", lambda x, y, n=3000: (None, None))
    assert_scored(result, "take_subset", passed=False)
    lines = result.message.splitlines()
    assert lines == [
        f"take_subset(x, y, n={probes.SUBSET_N}) returned (a NoneType, a NoneType); expected two arrays, the first "
        f"{probes.SUBSET_N} images and labels.",
        f"take_subset(x, y) with its default n returned (a NoneType, a NoneType); expected two arrays, the first "
        f"{SPEC.data.subset_size} images and labels.",
    ]


def test_load_data_success_names_the_specs_shape():
    """Known right: does the success message read the image shape and digits from the spec?"""
    rows, cols = SPEC.data.image_shape
    images = np.zeros((3, rows, cols), np.uint8)
    labels = np.array([0, 1, SPEC.data.num_classes - 1], np.uint8)
    result = check_load_data(images, labels, images, labels)
    assert_scored(result, "load_data", passed=True)
    assert (
        result.message
        == f"Your data is loaded: uint8 images of {rows}x{cols} with one label 0-{SPEC.data.num_classes - 1} per image."
    )
