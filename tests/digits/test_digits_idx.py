"""Tests of digits.idx: reading and writing IDX files, and checksums."""

import gzip
import hashlib

import numpy as np
import pytest

from digits import idx
from digits.errors import MnistDataError


@pytest.fixture
def images():
    """Five random 28x28 uint8 images."""
    return np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


@pytest.fixture
def labels():
    """Five labels 0-9."""
    return np.array([3, 1, 4, 1, 5], dtype=np.uint8)


@pytest.mark.parametrize("name", ["images-idx3-ubyte.gz", "images-idx3-ubyte"])
def test_round_trip_images(tmp_path, images, name):
    """Does an images array written as IDX (gzipped or not) read back identical, with magic 2051?"""
    path = idx.write_idx(tmp_path / name, images)
    raw = path.read_bytes()
    header = gzip.decompress(raw) if name.endswith(".gz") else raw
    assert int.from_bytes(header[:4], "big") == idx.IMAGES_MAGIC == 2051
    back = idx.read_idx_images(path)
    assert back.dtype == np.uint8 and back.shape == (5, 28, 28)
    np.testing.assert_array_equal(back, images)
    back[0, 0, 0] = 7  # the result is an ordinary writable array


def test_round_trip_labels(tmp_path, labels):
    """Does a labels array written as IDX read back identical, with magic 2049?"""
    path = idx.write_idx(tmp_path / "labels-idx1-ubyte.gz", labels)
    assert int.from_bytes(gzip.decompress(path.read_bytes())[:4], "big") == idx.LABELS_MAGIC == 2049
    np.testing.assert_array_equal(idx.read_idx_labels(path), labels)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_round_trip_every_idx_type(tmp_path, dtype):
    """Does read_idx restore the dtype and shape of every IDX element type?"""
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    back = idx.read_idx(idx.write_idx(tmp_path / f"a-{dtype}.gz", array))
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_write_is_reproducible(tmp_path, images):
    """Does writing the same array twice give the same bytes (so checksums can be listed)?"""
    first = idx.write_idx(tmp_path / "a.gz", images).read_bytes()
    assert idx.write_idx(tmp_path / "b.gz", images).read_bytes() == first


def test_write_rejects_unsupported_dtype(tmp_path):
    """Is an error raised when asked to write a dtype IDX cannot hold?"""
    with pytest.raises(ValueError, match="dtype int64 is not one of"):
        idx.write_idx(tmp_path / "a.gz", np.zeros(3, dtype=np.int64))


def test_truncated_gzip(tmp_path, images):
    """Is an error raised when the gzip file is cut short?"""
    path = idx.write_idx(tmp_path / "images-idx3-ubyte.gz", images)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(MnistDataError, match=r"images-idx3-ubyte\.gz: the gzip data are truncated"):
        idx.read_idx_images(path)


def test_not_gzip(tmp_path, images):
    """Is an error raised when a .gz file holds no gzip data?"""
    path = tmp_path / "images-idx3-ubyte.gz"
    idx.write_idx(tmp_path / "plain", images).rename(path)
    with pytest.raises(MnistDataError, match="not gzip data"):
        idx.read_idx_images(path)


def test_wrong_magic_labels_given_as_images(tmp_path, labels):
    """Is an error raised when the IDX magic number is wrong (a labels file read as images)?"""
    path = idx.write_idx(tmp_path / "labels.gz", labels)
    with pytest.raises(MnistDataError, match=r"wrong IDX magic number 2049 \(0x00000801\).*2051"):
        idx.read_idx_images(path)


def test_wrong_magic_images_given_as_labels(tmp_path, images):
    """Is an error raised when an images file (magic 2051) is read as labels?"""
    path = idx.write_idx(tmp_path / "images.gz", images)
    with pytest.raises(MnistDataError, match="wrong IDX magic number 2051.*must start with 2049"):
        idx.read_idx_labels(path)


def test_not_an_idx_file(tmp_path):
    """Is an error raised when the magic number is not an IDX one at all?"""
    path = tmp_path / "notes.gz"
    path.write_bytes(gzip.compress(b"PK\x03\x04 this is something else entirely"))
    with pytest.raises(MnistDataError, match="wrong IDX magic number.*not an IDX file"):
        idx.read_idx(path)


def test_header_larger_than_data(tmp_path, images):
    """Is an error raised when the header's dimensions need more bytes than are present?"""
    data = gzip.decompress(idx.write_idx(tmp_path / "a.gz", images).read_bytes())
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(data[:-28]))  # a complete gzip stream of an incomplete file
    with pytest.raises(MnistDataError, match=r"5 x 28 x 28 .* need 3920 data bytes but 3892 .* truncated"):
        idx.read_idx_images(path)


def test_header_smaller_than_data(tmp_path, labels):
    """Is an error raised when there are more bytes than the header's dimensions account for?"""
    data = gzip.decompress(idx.write_idx(tmp_path / "a.gz", labels).read_bytes())
    path = tmp_path / "long.gz"
    path.write_bytes(gzip.compress(data + b"\x01"))
    with pytest.raises(MnistDataError, match="extra bytes at the end"):
        idx.read_idx_labels(path)


def test_expected_md5_matches(tmp_path, labels):
    """Is a file read when its MD5 and SHA-256 match the expected ones?"""
    path = idx.write_idx(tmp_path / "labels.gz", labels)
    raw = path.read_bytes()
    back = idx.read_idx_labels(
        path, expected_md5=hashlib.md5(raw).hexdigest().upper(), expected_sha256=hashlib.sha256(raw).hexdigest()
    )
    np.testing.assert_array_equal(back, labels)


def test_expected_md5_differs(tmp_path, labels):
    """Is an error raised when a file's MD5 differs from the expected one?"""
    path = idx.write_idx(tmp_path / "labels.gz", labels)
    with pytest.raises(MnistDataError, match=r"labels\.gz: bad checksum: its MD5 is [0-9a-f]{32} but"):
        idx.read_idx_labels(path, expected_md5="0" * 32)


def test_verify_checksum_and_digest(tmp_path):
    """Do file_digest and verify_checksum agree with hashlib, and does a mismatch name its source?"""
    path = tmp_path / "f.bin"
    path.write_bytes(b"digits")
    assert idx.file_digest(path, "md5") == hashlib.md5(b"digits").hexdigest()
    idx.verify_checksum(path, hashlib.sha256(b"digits").hexdigest(), "sha256", "SHA256SUMS")
    with pytest.raises(MnistDataError, match="bad checksum.*SHA256SUMS says"):
        idx.verify_checksum(path, "f" * 64, "sha256", "SHA256SUMS")
    with pytest.raises(ValueError, match="must be one of"):
        idx.file_digest(path, "sha1")


def test_read_sums_file(tmp_path):
    """Are md5sum/sha256sum-style lines parsed, with blank lines, comments and '*' tolerated?"""
    sums = tmp_path / "MD5SUMS"
    sums.write_text(f"# checksums\n{'A' * 32}  a.gz\n\n{'b' * 32} *b.gz\n")
    assert idx.read_sums_file(sums) == {"a.gz": "a" * 32, "b.gz": "b" * 32}


def test_read_sums_file_malformed(tmp_path):
    """Is an error raised, naming the line, when a SUMS file has a malformed line?"""
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"{'a' * 64}  a.gz\nnot a checksum line\n")
    with pytest.raises(MnistDataError, match="SHA256SUMS, line 2: expected '<hex digest>  <file name>'"):
        idx.read_sums_file(sums)
