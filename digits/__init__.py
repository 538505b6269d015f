"""MNIST for the course, without surprises: a drop-in replacement for ``keras.datasets.mnist``.

``from digits import mnist; mnist.load_data()`` loads real MNIST (Keras's cache,
a ``.npz`` or a folder of the official IDX files, chosen by ``MNIST_PATH``), or
synthetic digits when ``MNIST_PATH=synthetic``. Modules:

* `digits.mnist`: where the data come from, and the checks on them.
* `digits.idx`: reading and writing IDX files; file checksums.
* `digits.synthetic`: MNIST-style digits rendered from matplotlib's fonts.
* `digits.errors`: the exceptions and the warning raised.
"""

from digits import idx, mnist, synthetic
from digits.errors import DigitsError, MnistDataError, MnistUnavailableError, SyntheticDigitsWarning

__all__ = [
    "idx",
    "mnist",
    "synthetic",
    "DigitsError",
    "MnistDataError",
    "MnistUnavailableError",
    "SyntheticDigitsWarning",
]
