"""Tests of digits.synthetic: MNIST-style digits rendered from matplotlib's fonts."""

import numpy as np
import pytest

from digits import synthetic


@pytest.fixture(scope="module")
def sample():
    """1,000 synthetic digits, seed 1."""
    return synthetic.make_digits(1000, seed=1)


@pytest.fixture(scope="module")
def train_test():
    """The synthetic training and test sets load_data() returns."""
    return synthetic.load_synthetic()


def centres_of_mass(images):
    """(row, column) intensity centre of mass of each image, in pixels from the top left corner."""
    weights = images.astype(np.float64)
    total = weights.sum(axis=(1, 2))
    position = np.arange(28) + 0.5
    return ((weights.sum(axis=2) * position).sum(axis=1) / total, (weights.sum(axis=1) * position).sum(axis=1) / total)


def test_shapes_dtypes_and_values(sample):
    """Are the images uint8 (n, 28, 28) with a black background and 255 ink, the labels uint8 0-9?"""
    images, labels = sample
    assert images.shape == (1000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (1000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert (images.reshape(1000, -1).max(axis=1) == 255).all()
    for border in (images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]):
        assert (border == 0).all()
    assert 0.6 < (images == 0).mean() < 0.9  # mostly background, like MNIST (about 0.8)


def test_labels_roughly_balanced(sample):
    """Is every digit drawn about equally often?"""
    counts = np.bincount(sample[1], minlength=10)
    assert counts.min() > 60 and counts.max() < 140


def test_digits_fitted_and_centred(sample):
    """Does each digit fit a 20x20-ish box (scaled 0.8-1.1) with its centre of mass near (14, 14)?"""
    images = sample[0]
    ink = images > 0
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    height = 28 - rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)
    width = 28 - cols.argmax(axis=1) - cols[:, ::-1].argmax(axis=1)
    larger = np.maximum(height, width)
    assert larger.min() >= 15 and larger.max() <= 24
    row, col = centres_of_mass(images)
    assert np.abs(row - 14).max() < 1.6 and np.abs(col - 14).max() < 1.6
    assert abs(row.mean() - 14) < 0.2 and abs(col.mean() - 14) < 0.2


def test_same_seed_same_bytes():
    """Does the same (n, seed) give byte-identical arrays, whatever was generated in between?"""
    first = synthetic.make_digits(50, seed=7)
    synthetic.make_digits(30, seed=8)
    np.random.seed(123)  # the global numpy generator plays no part
    second = synthetic.make_digits(50, seed=7)
    assert first[0].tobytes() == second[0].tobytes()
    assert first[1].tobytes() == second[1].tobytes()


def test_different_seed_different_digits():
    """Do different seeds give different digits?"""
    a, _ = synthetic.make_digits(50, seed=7)
    b, _ = synthetic.make_digits(50, seed=9)
    assert not any((a[i] == b[i]).all() for i in range(50))


def test_no_sample_shared_between_train_and_test(train_test):
    """Do the training and test sets share no identical image (different seeds)?"""
    (x_train, y_train), (x_test, y_test) = train_test
    assert synthetic.TRAIN_SEED != synthetic.TEST_SEED
    assert x_train.shape == (6000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert y_train.shape == (6000,) and y_test.shape == (1000,)
    train_bytes = {image.tobytes() for image in x_train}
    assert not any(image.tobytes() in train_bytes for image in x_test)


def test_zero_and_negative_n():
    """Does n=0 give empty arrays of the right shape, and a negative n a clear error?"""
    images, labels = synthetic.make_digits(0, seed=1)
    assert images.shape == (0, 28, 28) and labels.shape == (0,)
    with pytest.raises(ValueError, match="n must be 0 or more, got -1"):
        synthetic.make_digits(-1, seed=1)


def test_several_fonts_used():
    """Are digits rendered from several of matplotlib's fonts?"""
    assert len(synthetic._font_paths()) >= 6


@pytest.mark.slow
def test_small_dense_network_learns_but_not_perfectly(train_test):
    """Does the course's 784-100-30-10 network reach 90-99.5% on the synthetic test digits?"""
    keras = pytest.importorskip("keras")
    (x_train, y_train), (x_test, y_test) = train_test
    keras.utils.set_random_seed(42)
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(100, activation="relu"),
            keras.layers.Dense(30, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.001),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    model.fit(
        x_train[:3000].reshape(-1, 784) / 255.0,
        y_train[:3000],
        epochs=20,
        batch_size=32,
        validation_split=0.2,
        verbose=0,
    )
    _, accuracy = model.evaluate(x_test.reshape(-1, 784) / 255.0, y_test, verbose=0)
    assert 0.90 <= accuracy <= 0.995
