"""Synthetic MNIST-like digits rendered from the fonts matplotlib ships.

For demos and tests on machines without the real MNIST files. Each digit is a
font glyph (several DejaVu, STIX and Computer Modern faces, each at two or three
stroke widths) rendered once at high resolution and cached; each sample then gets its
own random rotation, shear, stretch, scale and shift. As in MNIST, the
distorted digit is fitted into a 20x20 box, placed in a 28x28 image so that its
centre of mass is at the centre, anti-aliased, white (up to 255) on black (0).

These are printed digits, not handwriting: fine for showing that code runs, not
for results about MNIST.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["FONT_NAMES", "TRAIN_SEED", "TEST_SEED", "make_digits", "load_synthetic"]

# Font files (without .ttf) looked for in matplotlib's fonts/ttf folder.
FONT_NAMES = (
    "DejaVuSans",
    "DejaVuSans-Bold",
    "DejaVuSans-Oblique",
    "DejaVuSans-BoldOblique",
    "DejaVuSerif",
    "DejaVuSerif-Bold",
    "DejaVuSerif-Italic",
    "DejaVuSerif-BoldItalic",
    "DejaVuSansMono",
    "DejaVuSansMono-Bold",
    "DejaVuSansMono-Oblique",
    "STIXGeneral",
    "STIXGeneralBol",
    "STIXGeneralItalic",
    "STIXGeneralBolIta",
    "cmr10",
    "cmss10",
    "cmtt10",
    "cmti10",
)
TRAIN_SEED = 20_250_601
TEST_SEED = 20_250_602

_FONT_SIZE = 64  # pixels; glyphs are rendered once at this size
_STROKES = (0, 2, 4)  # extra outline widths (pixels at _FONT_SIZE): thin, normal, bold
_SUPERSAMPLE = 3  # distort at 84x84, then average 3x3 blocks down to 28x28
_BOX = 20.0  # the digit's larger side before the random scale, as in MNIST


def make_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` random MNIST-style digits.

    The same ``(n, seed)`` gives byte-identical arrays, whatever was generated
    before in the process.

    Args:
        n: How many digits.
        seed: Seed of the random distortions, fonts and labels.

    Returns:
        ``(images, labels)``: uint8 images of shape (n, 28, 28), 0 background
        and up to 255 ink, and uint8 labels 0-9 of shape (n,), drawn uniformly
        at random.

    Raises:
        ValueError: If ``n`` is negative.
        FileNotFoundError: If none of the fonts in `FONT_NAMES` is found.
    """
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    bank = _glyph_bank()
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    variant = rng.integers(0, bank.per_digit, size=n)
    glyph = variant * 10 + labels
    forward = _random_linear_maps(rng, n)
    scale = rng.uniform(0.8, 1.1, size=n)
    shift = rng.uniform(-1.0, 1.0, size=(n, 2))

    # Fit each distorted glyph's larger side to 20 pixels times its scale.
    points = bank.hulls[glyph] - bank.centres[glyph][:, None, :]
    moved = np.einsum("nij,npj->npi", forward, points)
    low, high = moved.min(axis=1), moved.max(axis=1)
    fit = _BOX * scale / (high - low).max(axis=1)
    forward *= fit[:, None, None]
    # Centre of mass at (14, 14) plus the shift, but keep the ink 1 pixel clear of the border.
    low, high = 14.0 + shift + low * fit[:, None], 14.0 + shift + high * fit[:, None]
    shift += np.maximum(1.0 - low, 0.0) - np.maximum(high - 27.0, 0.0)
    # PIL wants the inverse map: output pixel (supersampled) -> glyph pixel.
    inverse = np.linalg.inv(forward) / _SUPERSAMPLE
    origin = bank.centres[glyph] - np.einsum("nij,nj->ni", inverse * _SUPERSAMPLE, 14.0 + shift)

    images = np.empty((n, 28, 28), dtype=np.uint8)
    size = (28 * _SUPERSAMPLE,) * 2
    for i in range(n):
        (a, b), (d, e) = inverse[i]
        data = (a, b, origin[i, 0], d, e, origin[i, 1])
        picture = bank.images[glyph[i]].transform(
            size, Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR
        )
        images[i] = np.asarray(picture.reduce(_SUPERSAMPLE))
    return _stretch_contrast(images), labels


def load_synthetic(
    n_train: int = 6000, n_test: int = 1000
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Synthetic digits in the shape ``keras.datasets.mnist.load_data`` returns.

    Training and test digits use different seeds (`TRAIN_SEED`, `TEST_SEED`).

    Args:
        n_train: Number of training digits.
        n_test: Number of test digits.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as in `make_digits`.
    """
    return make_digits(n_train, TRAIN_SEED), make_digits(n_test, TEST_SEED)


def _random_linear_maps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rotation (+-15 degrees) x shear x horizontal stretch, one 2x2 matrix per sample."""
    angle = np.radians(rng.uniform(-15.0, 15.0, size=n))
    shear = rng.uniform(-0.4, 0.4, size=n)
    stretch = rng.uniform(0.7, 1.3, size=n)
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shear_stretch = np.zeros((n, 2, 2))
    shear_stretch[:, 0, 0] = stretch
    shear_stretch[:, 0, 1] = shear
    shear_stretch[:, 1, 1] = 1.0
    return rotation @ shear_stretch


def _stretch_contrast(images: np.ndarray) -> np.ndarray:
    """Scale each image so its brightest pixel is 255, as MNIST's are."""
    peak = images.max(axis=(1, 2), initial=1).astype(np.float32)
    scaled = images * (255.0 / peak)[:, None, None]
    return np.rint(scaled).astype(np.uint8)


class _GlyphBank:
    """Every font x stroke x digit glyph, rendered once: images, centres of mass, outlines."""

    def __init__(self, images, centres, hulls):
        self.images = images  # PIL "L" images, index = variant * 10 + digit
        self.centres = centres  # (G, 2) intensity centre of mass, x then y
        self.hulls = hulls  # (G, P, 2) points on the outline, x then y
        self.per_digit = len(images) // 10


@functools.lru_cache(maxsize=1)
def _glyph_bank() -> _GlyphBank:
    images, centres, hulls = [], [], []
    for path in _font_paths():
        font = ImageFont.truetype(str(path), _FONT_SIZE)
        bold = "Bol" in path.stem  # already heavy: skip the heaviest outline
        for stroke in _STROKES[:-1] if bold else _STROKES:
            for digit in "0123456789":
                image = _render(font, digit, stroke)
                pixels = np.asarray(image, dtype=np.float64)
                images.append(image)
                centres.append(_centre_of_mass(pixels))
                hulls.append(_outline(pixels))
    longest = max(len(hull) for hull in hulls)  # pad by repeating points: same extent
    hulls = [hull[np.resize(np.arange(len(hull)), longest)] for hull in hulls]
    return _GlyphBank(images, np.array(centres), np.array(hulls))


def _font_paths() -> list[Path]:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    paths = [folder / f"{name}.ttf" for name in FONT_NAMES if (folder / f"{name}.ttf").is_file()]
    if not paths:
        raise FileNotFoundError(
            f"none of the fonts for synthetic digits ({', '.join(FONT_NAMES)}) is in {folder}; "
            f"reinstall matplotlib (pip install --force-reinstall matplotlib)"
        )
    return paths


def _render(font, digit: str, stroke: int):
    side = 3 * _FONT_SIZE
    image = Image.new("L", (side, side), 0)
    ImageDraw.Draw(image).text(
        (side / 2, side / 2), digit, fill=255, font=font, anchor="mm", stroke_width=stroke, stroke_fill=255
    )
    return image.crop(image.getbbox())


def _centre_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(pixels.shape) + 0.5  # pixel centres
    total = pixels.sum()
    return (cols * pixels).sum() / total, (rows * pixels).sum() / total


def _outline(pixels: np.ndarray) -> np.ndarray:
    """Leftmost and rightmost ink of every row: enough to find the extent after any linear map."""
    ink = pixels > 0
    rows = np.flatnonzero(ink.any(axis=1))
    left = ink[rows].argmax(axis=1)
    right = ink.shape[1] - ink[rows, ::-1].argmax(axis=1)
    return np.concatenate(
        [
            np.stack([left, rows], 1),
            np.stack([right, rows], 1),
            np.stack([left, rows + 1], 1),
            np.stack([right, rows + 1], 1),
        ]
    ).astype(np.float64)
