"""Read and write IDX files, the format MNIST is distributed in, and check file checksums.

An IDX file is a 4-byte magic number -- two zero bytes, a type byte (0x08 for
unsigned bytes) and the number of dimensions -- then one big-endian uint32 per
dimension, then the data in C order, big-endian. MNIST's image files have magic
2051 (0x00000803: unsigned bytes, 3 dimensions) and its label files 2049
(0x00000801: unsigned bytes, 1 dimension). The official files are
gzip-compressed; files whose bytes start with the gzip signature are
decompressed here.

Only the standard library (gzip, struct, hashlib) and numpy are used.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np

from digits.errors import MnistDataError

__all__ = [
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "read_idx",
    "read_idx_images",
    "read_idx_labels",
    "write_idx",
    "file_digest",
    "verify_checksum",
    "verify_checksums",
    "read_sums_file",
]

IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dimension (count)

_GZIP_SIGNATURE = b"\x1f\x8b"

# IDX type byte -> big-endian numpy dtype.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_ALGORITHMS = {"md5": 32, "sha256": 64}

PathLike = str | os.PathLike


def read_idx(path: PathLike, expected_md5: str | None = None, expected_sha256: str | None = None) -> np.ndarray:
    """Read any IDX file (gzip-compressed or not) into a numpy array.

    The element type and the number of dimensions come from the magic number,
    the shape from the header.

    Args:
        path: The IDX file, e.g. ``t10k-images-idx3-ubyte.gz``.
        expected_md5: If given, the MD5 hex digest the file's bytes (as stored,
            i.e. still compressed) must have.
        expected_sha256: If given, the SHA-256 hex digest the stored bytes must have.

    Returns:
        A writable array in native byte order, with the dtype and shape the
        header declares.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        MnistDataError: If a checksum does not match, the gzip data are
            truncated or corrupt, the magic number is not an IDX one, or the
            header's dimensions do not match the number of bytes present.
    """
    return _read(path, expected_md5, expected_sha256)[1]


def read_idx_images(path: PathLike, expected_md5: str | None = None, expected_sha256: str | None = None) -> np.ndarray:
    """Read an IDX images file (magic 2051) such as ``train-images-idx3-ubyte.gz``.

    Args:
        path: The images file.
        expected_md5: If given, the MD5 hex digest the stored bytes must have.
        expected_sha256: If given, the SHA-256 hex digest the stored bytes must have.

    Returns:
        A uint8 array of shape (count, rows, columns).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        MnistDataError: As for `read_idx`, and if the magic number is not 2051.
    """
    return _read_expecting(path, IMAGES_MAGIC, "images", expected_md5, expected_sha256)


def read_idx_labels(path: PathLike, expected_md5: str | None = None, expected_sha256: str | None = None) -> np.ndarray:
    """Read an IDX labels file (magic 2049) such as ``train-labels-idx1-ubyte.gz``.

    Args:
        path: The labels file.
        expected_md5: If given, the MD5 hex digest the stored bytes must have.
        expected_sha256: If given, the SHA-256 hex digest the stored bytes must have.

    Returns:
        A uint8 array of shape (count,).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        MnistDataError: As for `read_idx`, and if the magic number is not 2049.
    """
    return _read_expecting(path, LABELS_MAGIC, "labels", expected_md5, expected_sha256)


def write_idx(path: PathLike, array: np.ndarray) -> Path:
    """Write an array as an IDX file, gzip-compressed when the name ends in ``.gz``.

    The gzip header carries no timestamp, so the same array always gives the
    same bytes (and the same checksum).

    Args:
        path: Where to write, e.g. ``tmp/images-idx3-ubyte.gz``.
        array: A numpy array of dtype uint8, int8, int16, int32, float32 or
            float64 with 1 to 255 dimensions (uint8 with 3 dimensions gives
            magic 2051, uint8 with 1 dimension magic 2049).

    Returns:
        The path written.

    Raises:
        ValueError: If the dtype or the number of dimensions cannot be stored in IDX.
    """
    array = np.asarray(array)
    type_code = next(
        (code for code, dtype in _IDX_DTYPES.items() if dtype.newbyteorder("=") == array.dtype.newbyteorder("=")), None
    )
    if type_code is None:
        supported = ", ".join(str(d.newbyteorder("=")) for d in _IDX_DTYPES.values())
        raise ValueError(
            f"cannot write {path} as IDX: dtype {array.dtype} is not one of "
            f"{supported}; convert the array with .astype() first"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"cannot write {path} as IDX: it needs 1 to 255 dimensions, the array has {array.ndim}")
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + np.ascontiguousarray(array, dtype=_IDX_DTYPES[type_code]).tobytes()
    path = Path(path)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def file_digest(path: PathLike, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file's bytes.

    Args:
        path: The file.
        algorithm: ``"md5"`` or ``"sha256"``.

    Returns:
        The lowercase hex digest.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If ``algorithm`` is not md5 or sha256.
    """
    _check_algorithm(algorithm)
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(
    path: PathLike, expected: str, algorithm: str = "sha256", source: str = "the expected value"
) -> None:
    """Check that a file has the expected checksum.

    Args:
        path: The file.
        expected: The expected hex digest (case does not matter).
        algorithm: ``"md5"`` or ``"sha256"``.
        source: Where the expected value comes from, for the error message
            (e.g. ``"SHA256SUMS"``).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        MnistDataError: If the digest differs from ``expected``.
    """
    verify_checksums(path, [(algorithm, expected, source)])


def verify_checksums(path: PathLike, checks) -> None:
    """Check a file against several expected checksums, hashing it once per algorithm.

    Args:
        path: The file.
        checks: ``(algorithm, expected hex digest, source)`` triples; algorithm
            is ``"md5"`` or ``"sha256"``, source names where the value comes
            from, for the error message.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        MnistDataError: At the first digest that differs from its expected value.
    """
    digests: dict[str, str] = {}
    for algorithm, expected, source in checks:
        if algorithm not in digests:
            digests[algorithm] = file_digest(path, algorithm)
        _compare_digest(path, digests[algorithm], expected, algorithm, source)


def read_sums_file(path: PathLike) -> dict[str, str]:
    """Parse a checksum list such as ``MD5SUMS`` or ``SHA256SUMS``.

    Each line is ``<hex digest>  <file name>`` (the format of ``md5sum`` and
    ``sha256sum``; a ``*`` before the name, for binary mode, is accepted). Blank
    lines and lines starting with ``#`` are ignored.

    Args:
        path: The checksum file.

    Returns:
        File name -> lowercase hex digest.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        MnistDataError: If a line is not in that format.
    """
    sums = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"\s*([0-9A-Fa-f]{32}|[0-9A-Fa-f]{64})\s+\*?(.+?)\s*", line)
        if match is None:
            raise MnistDataError(
                f"{path}, line {number}: expected '<hex digest>  <file name>' "
                f"(as written by md5sum or sha256sum), found {line!r}; fix or delete that line"
            )
        sums[match.group(2)] = match.group(1).lower()
    return sums


def _read_expecting(path, magic, kind, expected_md5, expected_sha256) -> np.ndarray:
    found, array = _read(path, expected_md5, expected_sha256)
    if found != magic:
        other = {IMAGES_MAGIC: "an images file", LABELS_MAGIC: "a labels file"}.get(found)
        hint = f" -- it looks like {other}; were the file names swapped?" if other else ""
        raise MnistDataError(
            f"{path}: wrong IDX magic number {found} (0x{found:08X}); an IDX {kind} file must "
            f"start with {magic} (0x{magic:08X}){hint}. Pass the {kind} file here, or replace "
            f"this file with the original from the MNIST distribution."
        )
    return array


def _read(path, expected_md5, expected_sha256) -> tuple[int, np.ndarray]:
    path = Path(path)
    raw = path.read_bytes()
    for algorithm, expected in (("md5", expected_md5), ("sha256", expected_sha256)):
        if expected is not None:
            actual = hashlib.new(algorithm, raw).hexdigest()
            _compare_digest(path, actual, expected, algorithm, "the expected value")
    return _parse(_decompress(raw, path), path)


def _decompress(raw: bytes, path: Path) -> bytes:
    if raw[:2] == _GZIP_SIGNATURE:
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise MnistDataError(
                f"{path}: the gzip data are truncated or corrupt ({exc}). The file is incomplete "
                f"or damaged: download or copy it again and check it against its checksum."
            ) from exc
    if path.name.endswith(".gz"):
        raise MnistDataError(
            f"{path}: the name ends in .gz but the file is not gzip data (it starts with "
            f"{raw[:4].hex() or 'nothing'}, not 1f8b). Replace it with the original .gz file; "
            f"if it is an uncompressed IDX file, compress it with gzip."
        )
    return raw


def _parse(data: bytes, path: Path) -> tuple[int, np.ndarray]:
    if len(data) < 4:
        raise MnistDataError(
            f"{path}: {len(data)} bytes is too short for an IDX header; the file is empty or truncated -- replace it"
        )
    magic = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\0\0" or type_code not in _IDX_DTYPES or ndim == 0:
        raise MnistDataError(
            f"{path}: wrong IDX magic number {magic} (0x{magic:08X}); an IDX file starts with "
            f"two zero bytes, a type byte (0x08 for unsigned bytes) and the number of dimensions "
            f"(MNIST images: 2051 = 0x00000803, labels: 2049 = 0x00000801). This is not an IDX "
            f"file: check the path, or replace the file with the original."
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise MnistDataError(
            f"{path}: the header declares {ndim} dimensions but the file ends "
            f"after {len(data)} bytes; the file is truncated -- replace it"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = _IDX_DTYPES[type_code]
    count = math.prod(shape)
    needed, present = count * dtype.itemsize, len(data) - header_size
    if needed != present:
        problem = "the file is truncated" if present < needed else "it has extra bytes at the end"
        raise MnistDataError(
            f"{path}: the header's dimensions {' x '.join(map(str, shape))} of {dtype.itemsize}-byte "
            f"values need {needed} data bytes but {present} are present: {problem}. "
            f"Replace the file with a complete copy of the original."
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header_size).reshape(shape)
    return magic, array.astype(dtype.newbyteorder("="))


def _compare_digest(path, actual: str, expected: str, algorithm: str, source: str) -> None:
    if actual.lower() != expected.strip().lower():
        raise MnistDataError(
            f"{path}: bad checksum: its {algorithm.upper()} is {actual} but {source} says "
            f"{expected.strip().lower()}. The file is corrupt, incomplete or a different file: "
            f"download or copy it again (or, if you changed it on purpose, update {source})."
        )


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"checksum algorithm must be one of {sorted(_ALGORITHMS)}, got {algorithm!r}")
