"""The exceptions and the warning that the `digits` package raises.

Every message says what is wrong, with which file, and what to do about it.
"""

__all__ = [
    "DigitsError",
    "MnistDataError",
    "MnistUnavailableError",
    "SyntheticDigitsWarning",
]


class DigitsError(Exception):
    """Base class of every error the `digits` package raises."""


class MnistDataError(DigitsError, ValueError):
    """A dataset file exists but its content is wrong.

    Raised for a truncated or non-gzip file, a wrong IDX magic number, a header
    that does not match the bytes present, a checksum mismatch, images that are
    not 28x28 uint8, labels outside 0-9, image and label counts that differ, or
    an ``.npz`` file without the expected arrays.
    """


class MnistUnavailableError(DigitsError, RuntimeError):
    """No MNIST data could be found where the loader was told (or allowed) to look.

    Raised when ``MNIST_PATH`` points at a missing path, a file of an unknown
    type, or a folder without the needed IDX files, and when Keras can neither
    find ``mnist.npz`` in its cache nor download it.
    """


class SyntheticDigitsWarning(UserWarning):
    """The data returned are synthetic digits rendered from fonts, not MNIST."""
