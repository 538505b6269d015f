"""Tests of digits.mnist: where load_data() gets MNIST from, and the checks on it."""

import hashlib
import os
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from support.paths import PROJECT_ROOT

from digits import idx, mnist
from digits.errors import MnistDataError, MnistUnavailableError, SyntheticDigitsWarning

SHARED = mnist.shared_mnist_dir(PROJECT_ROOT)
EXPECTED_SHARED = (PROJECT_ROOT / ".." / "shared" / "data" / "mnist").resolve()
needs_shared_files = pytest.mark.skipif(
    SHARED is None, reason=f"official MNIST test files not found at {EXPECTED_SHARED}; real-data checks skipped"
)

# How many of each digit the official 10,000-image MNIST test set holds.
T10K_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def small_split(n, seed):
    """n random uint8 28x28 images and labels 0-9."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n, dtype=np.uint8))


def write_idx_folder(folder, train=(12, 1), test=(6, 2), prefixes=("train", "t10k")):
    """Write small stand-in IDX files under the official names; return {prefix: (x, y)}."""
    folder.mkdir(exist_ok=True)
    data = {}
    for prefix, (n, seed) in zip(prefixes, (train, test), strict=True):
        x, y = small_split(n, seed)
        idx.write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", x)
        idx.write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", y)
        data[prefix] = (x, y)
    return data


def write_sums(folder, algorithm, names=mnist.IDX_FILES, tamper=()):
    """Write MD5SUMS or SHA256SUMS for the named files; names in tamper get a wrong digest."""
    lines = []
    for name in names:
        digest = idx.file_digest(folder / name, algorithm)
        if name in tamper:
            digest = ("0" if digest[0] != "0" else "1") + digest[1:]
        lines.append(f"{digest}  {name}\n")
    (folder / {"md5": "MD5SUMS", "sha256": "SHA256SUMS"}[algorithm]).write_text("".join(lines))


def register_official_md5(monkeypatch, folder):
    """Put the stand-in files' MD5s in the official table, as if they were the real files."""
    for name in mnist.IDX_FILES:
        monkeypatch.setitem(mnist.OFFICIAL_MD5, name, idx.file_digest(folder / name, "md5"))


def write_npz(path, **overrides):
    """Write a small Keras-format npz; overrides replace (or, when None, drop) arrays."""
    (x_train, y_train), (x_test, y_test) = small_split(10, 3), small_split(4, 4)
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return arrays


@pytest.fixture
def npz_path(tmp_path):
    """Path for a test npz (not yet written)."""
    return tmp_path / "mnist.npz"


@pytest.fixture(autouse=True)
def no_mnist_path(monkeypatch):
    """Every test starts with MNIST_PATH unset."""
    monkeypatch.delenv(mnist.MNIST_PATH_ENV, raising=False)


# --- MNIST_PATH=<file>.npz -----------------------------------------------------------------


def test_npz_via_mnist_path(monkeypatch, npz_path):
    """Does MNIST_PATH=<file>.npz load that file, with Keras's dtypes and shapes?"""
    arrays = write_npz(npz_path, y_train=np.arange(10, dtype=np.int64))
    monkeypatch.setenv("MNIST_PATH", str(npz_path))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (10, 28, 28) and x_test.shape == (4, 28, 28)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_train, np.arange(10))  # integer labels become uint8


def test_npz_sidecar_checksum_matches(npz_path):
    """Is an npz loaded when its <file>.sha256 sidecar matches?"""
    write_npz(npz_path)
    digest = hashlib.sha256(npz_path.read_bytes()).hexdigest()
    (npz_path.parent / "mnist.npz.sha256").write_text(f"{digest}  mnist.npz\n")
    (x_train, _), _ = mnist.load_npz(npz_path)
    assert x_train.shape == (10, 28, 28)


def test_npz_sidecar_checksum_differs(npz_path):
    """Is an error raised when an npz does not match its <file>.sha256 sidecar?"""
    write_npz(npz_path)
    (npz_path.parent / "mnist.npz.sha256").write_text("ab" * 32 + "\n")
    with pytest.raises(MnistDataError, match=r"mnist\.npz: bad checksum: its SHA256 .*mnist\.npz\.sha256 says"):
        mnist.load_npz(npz_path)


def test_npz_missing_keys(npz_path):
    """Is an error raised, naming the missing arrays, when the npz lacks some keys?"""
    write_npz(npz_path, y_test=None, x_test=None)
    with pytest.raises(MnistDataError, match=r"missing the array\(s\) x_test, y_test; .* has x_train, y_train"):
        mnist.load_npz(npz_path)


def test_npz_wrong_image_dtype(npz_path):
    """Is an error raised when the npz images are floats rather than uint8?"""
    write_npz(npz_path, x_train=np.zeros((10, 28, 28), dtype=np.float32))
    with pytest.raises(MnistDataError, match=r"\(x_train, y_train\): images have dtype float32, expected uint8"):
        mnist.load_npz(npz_path)


def test_npz_wrong_image_shape(npz_path):
    """Is an error raised when the images are not 28x28?"""
    write_npz(npz_path, x_test=np.zeros((4, 32, 32), dtype=np.uint8))
    with pytest.raises(MnistDataError, match=r"images have shape \(4, 32, 32\), expected \(count, 28, 28\)"):
        mnist.load_npz(npz_path)


def test_npz_labels_out_of_range(npz_path):
    """Is an error raised when a label is outside 0-9?"""
    write_npz(npz_path, y_test=np.array([0, 1, 10, 2], dtype=np.uint8))
    with pytest.raises(MnistDataError, match="labels must be digits 0-9, found values from 0 to 10"):
        mnist.load_npz(npz_path)


def test_npz_count_mismatch(npz_path):
    """Is an error raised when there are more images than labels?"""
    write_npz(npz_path, y_train=np.zeros(9, dtype=np.uint8))
    with pytest.raises(MnistDataError, match="counts differ: 10 images but 9 labels"):
        mnist.load_npz(npz_path)


def test_npz_not_a_zip(monkeypatch, npz_path):
    """Is an error raised when the .npz file is not an npz at all?"""
    npz_path.write_bytes(b"this is not a zip archive")
    monkeypatch.setenv("MNIST_PATH", str(npz_path))
    with pytest.raises(MnistDataError, match=r"mnist\.npz: not a readable \.npz file"):
        mnist.load_data()


def test_npz_truncated(npz_path):
    """Is an error raised when the .npz file is cut short?"""
    write_npz(npz_path)
    npz_path.write_bytes(npz_path.read_bytes()[:-100])
    with pytest.raises(MnistDataError, match=r"mnist\.npz: not a readable \.npz file"):
        mnist.load_npz(npz_path)


def test_npy_saved_as_npz(npz_path):
    """Is an error raised when the file holds a single .npy array instead of named arrays?"""
    with open(npz_path, "wb") as stream:
        np.save(stream, np.zeros((3, 28, 28), dtype=np.uint8))
    with pytest.raises(MnistDataError, match=r"holds a single array \(\.npy format\), not an \.npz"):
        mnist.load_npz(npz_path)


# --- MNIST_PATH=<folder of IDX files> ------------------------------------------------------


def test_folder_via_mnist_path(monkeypatch, tmp_path):
    """Does MNIST_PATH=<folder> load the four IDX files once their official MD5s match?"""
    folder = tmp_path / "idx"
    data = write_idx_folder(folder)
    register_official_md5(monkeypatch, folder)
    monkeypatch.setenv("MNIST_PATH", str(folder))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, data["train"][0])
    np.testing.assert_array_equal(y_train, data["train"][1])
    np.testing.assert_array_equal(x_test, data["t10k"][0])
    np.testing.assert_array_equal(y_test, data["t10k"][1])


def test_folder_official_md5_mismatch(monkeypatch, tmp_path):
    """Is an error raised when a file with an official MNIST name does not have the official MD5?"""
    folder = tmp_path / "idx"
    write_idx_folder(folder)
    monkeypatch.setenv("MNIST_PATH", str(folder))
    with pytest.raises(
        MnistDataError,
        match=r"train-images-idx3-ubyte\.gz: bad checksum: its MD5 is "
        r"[0-9a-f]{32} but the official MNIST MD5 says "
        r"f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ):
        mnist.load_data()


@pytest.mark.parametrize("algorithm", ["md5", "sha256"])
def test_folder_sums_file_matches(tmp_path, algorithm):
    """Is a folder loaded when its MD5SUMS or SHA256SUMS lists the right checksums?"""
    folder = tmp_path / "idx"
    data = write_idx_folder(folder)
    write_sums(folder, algorithm)
    (x_train, _), (_, y_test) = mnist.load_idx_folder(folder, check_official_md5=False)
    np.testing.assert_array_equal(x_train, data["train"][0])
    np.testing.assert_array_equal(y_test, data["t10k"][1])


@pytest.mark.parametrize("algorithm, sums_name", [("md5", "MD5SUMS"), ("sha256", "SHA256SUMS")])
def test_folder_sums_file_differs(tmp_path, algorithm, sums_name):
    """Is an error raised, naming the file and the SUMS file, when a listed checksum differs?"""
    folder = tmp_path / "idx"
    write_idx_folder(folder)
    write_sums(folder, algorithm, tamper={"t10k-labels-idx1-ubyte.gz"})
    with pytest.raises(
        MnistDataError,
        match=rf"t10k-labels-idx1-ubyte\.gz: bad checksum: its "
        rf"{algorithm.upper()} is [0-9a-f]+ but \S*{sums_name} says",
    ):
        mnist.load_idx_folder(folder, check_official_md5=False)


def test_folder_sums_checked_beside_official_md5(monkeypatch, tmp_path):
    """Is a SUMS mismatch caught even when the official MD5 matches?"""
    folder = tmp_path / "idx"
    write_idx_folder(folder)
    register_official_md5(monkeypatch, folder)
    write_sums(folder, "sha256", tamper={"train-labels-idx1-ubyte.gz"})
    with pytest.raises(MnistDataError, match=r"train-labels-idx1-ubyte\.gz: bad checksum.*SHA256SUMS"):
        mnist.load_idx_folder(folder)


def test_folder_without_train_files(monkeypatch, tmp_path):
    """Is an error raised, naming the missing train files and what to do, for a test-files-only folder?"""
    folder = tmp_path / "idx"
    write_idx_folder(folder)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (folder / name).unlink()
    monkeypatch.setenv("MNIST_PATH", str(folder))
    with pytest.raises(MnistUnavailableError) as caught:
        mnist.load_data()
    message = str(caught.value)
    assert "lacks train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in message
    assert "load_idx_pair(folder, prefix='t10k')" in message
    assert "mnist.npz" in message and "'synthetic'" in message


def test_folder_image_label_count_mismatch(tmp_path):
    """Is an error raised when the images file holds more images than the labels file labels?"""
    folder = tmp_path / "idx"
    write_idx_folder(folder)
    idx.write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(
        MnistDataError,
        match="t10k-images-idx3-ubyte.gz / t10k-labels-idx1-ubyte.gz: "
        "image and label counts differ: 6 images but 5 labels",
    ):
        mnist.load_idx_folder(folder, check_official_md5=False)


def test_folder_labels_out_of_range(tmp_path):
    """Is an error raised when an IDX labels file holds a label above 9?"""
    folder = tmp_path / "idx"
    write_idx_folder(folder)
    idx.write_idx(folder / "train-labels-idx1-ubyte.gz", np.full(12, 11, dtype=np.uint8))
    with pytest.raises(MnistDataError, match="labels must be digits 0-9, found values from 11 to 11"):
        mnist.load_idx_folder(folder, check_official_md5=False)


def test_folder_images_not_28x28(tmp_path):
    """Is an error raised when the IDX images are not 28x28?"""
    folder = tmp_path / "idx"
    write_idx_folder(folder)
    idx.write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((6, 28, 27), dtype=np.uint8))
    with pytest.raises(MnistDataError, match=r"shape \(6, 28, 27\), expected \(count, 28, 28\)"):
        mnist.load_idx_folder(folder, check_official_md5=False)


def test_folder_truncated_file(tmp_path):
    """Is a truncated gzip file in the folder reported by name?"""
    folder = tmp_path / "idx"
    write_idx_folder(folder)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(MnistDataError, match=r"train-images-idx3-ubyte\.gz: the gzip data are truncated"):
        mnist.load_idx_folder(folder, check_official_md5=False)


def test_folder_wrong_magic(tmp_path):
    """Is a labels file stored under the images name caught by its magic number?"""
    folder = tmp_path / "idx"
    write_idx_folder(folder)
    idx.write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros(6, dtype=np.uint8))
    with pytest.raises(MnistDataError, match=r"t10k-images-idx3-ubyte\.gz: wrong IDX magic number 2049"):
        mnist.load_idx_folder(folder, check_official_md5=False)


# --- other MNIST_PATH values ----------------------------------------------------------------


def test_mnist_path_missing(monkeypatch, tmp_path):
    """Is an error raised, saying what MNIST_PATH may be, when it names a missing path?"""
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "nowhere.npz"))
    with pytest.raises(
        MnistUnavailableError,
        match=r"nowhere\.npz does not exist\. Set MNIST_PATH to "
        r"a Keras mnist\.npz file, to a folder",
    ):
        mnist.load_data()


def test_mnist_path_unknown_file_type(monkeypatch, tmp_path):
    """Is an error raised when MNIST_PATH names a file that is neither .npz nor a folder?"""
    path = tmp_path / "mnist.csv"
    path.write_text("0,0,0\n")
    monkeypatch.setenv("MNIST_PATH", str(path))
    with pytest.raises(MnistUnavailableError, match=r"mnist\.csv is neither a folder nor a \.npz file"):
        mnist.load_data()


def test_mnist_path_synthetic(monkeypatch):
    """Does MNIST_PATH=synthetic warn and return 6,000 training and 1,000 test digits?"""
    monkeypatch.setenv("MNIST_PATH", "synthetic")
    with pytest.warns(
        SyntheticDigitsWarning,
        match=r"synthetic digits rendered from fonts "
        r"\(MNIST_PATH=synthetic\), not real handwriting",
    ):
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (6000, 28, 28) and y_train.shape == (6000,)
    assert x_test.shape == (1000, 28, 28) and y_test.shape == (1000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert issubclass(SyntheticDigitsWarning, UserWarning)


# --- MNIST_PATH unset: Keras's cache and download ------------------------------------------


def test_offline_without_cache_names_both_fixes(tmp_path):
    """With no MNIST_PATH, no Keras cache and no network, is the error clear and immediate?

    Runs in a fresh interpreter: Keras reads KERAS_HOME only when first imported.
    The proxy variables point at a closed local port, so the download fails at
    once, and no data are fetched even on a machine that is online.
    """
    keras_home = tmp_path / "keras_home"
    env = {key: value for key, value in os.environ.items() if key not in {"MNIST_PATH", "NO_PROXY", "no_proxy"}}
    env.update(KERAS_HOME=str(keras_home), TF_CPP_MIN_LOG_LEVEL="3")
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        env[name] = "http://127.0.0.1:9"
    script = textwrap.dedent("""
        from digits import mnist
        from digits.errors import MnistUnavailableError
        try:
            mnist.load_data()
        except MnistUnavailableError as exc:
            print("RAISED:", exc)
    """)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    elapsed = time.monotonic() - started
    assert "RAISED:" in result.stdout, result.stdout + result.stderr
    message = result.stdout.split("RAISED:", 1)[1]
    assert "MNIST_PATH" in message and "mnist.npz" in message
    assert "train-images-idx3-ubyte.gz" in message and "MNIST_PATH=synthetic" in message
    assert "connect to the internet once" in message
    assert not (keras_home / "datasets" / "mnist.npz").exists()
    assert elapsed < 60, f"the offline failure took {elapsed:.0f} s"


# --- the official test files beside the project ---------------------------------------------


def test_shared_mnist_dir_absent(tmp_path):
    """Does shared_mnist_dir return None when the project has no ../shared/data/mnist?"""
    (tmp_path / "project").mkdir()
    assert mnist.shared_mnist_dir(tmp_path / "project") is None


@pytest.mark.real_data
@needs_shared_files
def test_real_t10k_pair():
    """Does load_idx_pair read the official 10,000 test digits, checksums verified, with MNIST's label counts?"""
    assert mnist.shared_mnist_dir() == SHARED
    images, labels = mnist.load_idx_pair(SHARED, "t10k")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == 10000 and counts.tolist() == T10K_LABEL_COUNTS
    assert images.min() == 0 and images.max() == 255


@pytest.mark.real_data
@needs_shared_files
def test_real_files_match_official_and_listed_checksums():
    """Do the shared files match the official MD5s and the folder's MD5SUMS and SHA256SUMS?"""
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert idx.file_digest(SHARED / name, "md5") == mnist.OFFICIAL_MD5[name]
    for sums_name, algorithm in mnist.SUMS_FILES.items():
        listed = idx.read_sums_file(SHARED / sums_name)
        assert set(listed) >= {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
        for name, digest in listed.items():
            assert idx.file_digest(SHARED / name, algorithm) == digest


@pytest.mark.real_data
@needs_shared_files
def test_real_file_damaged_copy_fails_official_md5(tmp_path):
    """Is a damaged copy of the official labels file (in a temp folder) rejected by its official MD5?"""
    data = bytearray((SHARED / "t10k-labels-idx1-ubyte.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(data))
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes((SHARED / "t10k-images-idx3-ubyte.gz").read_bytes())
    with pytest.raises(
        MnistDataError,
        match=r"t10k-labels-idx1-ubyte\.gz: bad checksum: its MD5 .* "
        r"official MNIST MD5 says ec29112dd5afa0611ce80d1b7f02629c",
    ):
        mnist.load_idx_pair(tmp_path, "t10k")


# --- keep_in_memory: what the kernel factory does before it forks kernels ------------------------------------------


@pytest.fixture
def nothing_kept(monkeypatch):
    """This test's kept data only: mnist's memory starts empty and is emptied again afterwards."""
    monkeypatch.setattr(mnist, "_KEPT", {})


def test_kept_data_is_loaded_from_memory_as_fresh_arrays(monkeypatch, npz_path, nothing_kept):
    """After keep_in_memory, does load_data return the data as they were kept, even once the file has changed, as
    arrays of each call's own that the caller may change?"""
    arrays = write_npz(npz_path)
    monkeypatch.setenv("MNIST_PATH", str(npz_path))
    mnist.keep_in_memory()
    write_npz(npz_path, x_train=np.zeros((10, 28, 28), np.uint8))
    (x_train, y_train), (x_test, _) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(x_test, arrays["x_test"])
    x_train[:] = 0
    y_train[:] = 0
    (again, labels), _ = mnist.load_data()
    np.testing.assert_array_equal(again, arrays["x_train"])
    np.testing.assert_array_equal(labels, arrays["y_train"])


def test_kept_data_serves_only_the_mnist_path_it_was_loaded_from(monkeypatch, tmp_path, nothing_kept):
    """With MNIST_PATH changed after keep_in_memory, does load_data read the new source?"""
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    write_npz(first)
    other = write_npz(second, x_train=np.full((10, 28, 28), 7, np.uint8))
    monkeypatch.setenv("MNIST_PATH", str(first))
    mnist.keep_in_memory()
    monkeypatch.setenv("MNIST_PATH", str(second))
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, other["x_train"])


def test_kept_synthetic_digits_still_warn_on_every_load(monkeypatch, nothing_kept):
    """Are kept synthetic digits the ones load_data renders, with the warning every time, and none while kept?"""
    monkeypatch.setenv("MNIST_PATH", "synthetic")
    with pytest.warns(SyntheticDigitsWarning):
        rendered = mnist.load_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mnist.keep_in_memory()
    for _ in range(2):
        with pytest.warns(SyntheticDigitsWarning, match="MNIST_PATH=synthetic"):
            kept = mnist.load_data()
        for rendered_array, kept_array in zip(rendered[0] + rendered[1], kept[0] + kept[1], strict=True):
            np.testing.assert_array_equal(kept_array, rendered_array)


def test_data_that_cannot_load_are_not_kept(monkeypatch, npz_path, nothing_kept):
    """Does keep_in_memory raise load_data's error and keep nothing, so a later load reads the fixed file?"""
    npz_path.write_bytes(b"not a zip")
    monkeypatch.setenv("MNIST_PATH", str(npz_path))
    with pytest.raises(MnistDataError, match="not a readable .npz file"):
        mnist.keep_in_memory()
    arrays = write_npz(npz_path)
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
