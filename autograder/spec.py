"""The course spec: every expected value, read once from ``spec.toml``.

Everything that needs an expected value (checks, tests, notebooks) reads it from here::

    from autograder.spec import SPEC
    SPEC.training.epochs          # 20
    SPEC.model.parameters         # 81840, derived from the layers
"""

from __future__ import annotations

import hashlib
import math
import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

DEFAULT_SPEC_PATH = Path(__file__).with_name("spec.toml")
# The course's folders: solutions/<assignment> (nbgrader's source), lessons/<assignment> (the released lessons)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "mnist"
RELEASED_LESSONS = PROJECT_ROOT / "lessons" / ASSIGNMENT
SPEC_ENV_VAR = "MNIST_COURSE_SPEC"


@dataclass(frozen=True)
class LayerSpec:
    """One Dense layer of the network."""

    name: str
    units: int
    activation: str


@dataclass(frozen=True)
class DataSpec:
    image_shape: tuple[int, int]
    num_classes: int
    pixel_max: int
    subset_size: int
    seed: int

    @property
    def pixels(self) -> int:
        """Pixels per image (784 for 28 x 28)."""
        return self.image_shape[0] * self.image_shape[1]


@dataclass(frozen=True)
class ModelSpec:
    input_size: int
    layers: tuple[LayerSpec, ...]

    @property
    def parameters(self) -> int:
        """Trainable parameters of the network: weights plus biases of every layer."""
        total, fan_in = 0, self.input_size
        for layer in self.layers:
            total += fan_in * layer.units + layer.units
            fan_in = layer.units
        return total

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers)


@dataclass(frozen=True)
class CompileSpec:
    loss: str
    from_logits: bool
    optimizer: str
    learning_rate: float
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class TrainingSpec:
    epochs: int
    batch_size: int
    validation_split: float
    accuracy_margin: float

    def training_samples(self, samples: int) -> int:
        """Samples left for fitting after Keras holds out the validation split.

        Keras keeps the first ``int(samples * (1 - validation_split))`` rows for training.
        """
        return int(samples * (1 - self.validation_split))

    def steps_per_epoch(self, samples: int) -> int:
        """Batches per epoch when fitting ``samples`` rows with the validation split."""
        return math.ceil(self.training_samples(samples) / self.batch_size)


@dataclass(frozen=True)
class PredictionsSpec:
    panels: int
    grid: tuple[int, int]


@dataclass(frozen=True)
class Spec:
    """The whole course spec. Build it with :func:`load_spec`."""

    data: DataSpec
    model: ModelSpec
    compile: CompileSpec
    training: TrainingSpec
    predictions: PredictionsSpec
    lessons: dict[str, dict[str, int]]
    source_text: str

    @cached_property
    def points(self) -> dict[str, int]:
        """Points per check id, across all lessons."""
        return {check: pts for checks in self.lessons.values() for check, pts in checks.items()}

    @cached_property
    def lesson_of(self) -> dict[str, str]:
        """The lesson each check id belongs to."""
        return {check: lesson for lesson, checks in self.lessons.items() for check in checks}

    @property
    def total_points(self) -> int:
        return sum(self.points.values())

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the spec file's text: grading results are reused only while it is unchanged."""
        return hashlib.sha256(self.source_text.encode("utf-8")).hexdigest()


def load_spec(path: str | os.PathLike | None = None) -> Spec:
    """Reads and validates the spec.

    Args:
        path: A spec TOML file. Defaults to ``$MNIST_COURSE_SPEC`` or the packaged ``spec.toml``.

    Returns:
        The parsed spec.

    Raises:
        ValueError: When a section or value is missing or has the wrong type; the message names it.
    """
    path = Path(path or os.environ.get(SPEC_ENV_VAR) or DEFAULT_SPEC_PATH)
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
        spec = Spec(
            data=DataSpec(**{**raw["data"], "image_shape": tuple(raw["data"]["image_shape"])}),
            model=ModelSpec(
                input_size=raw["model"]["input_size"],
                layers=tuple(LayerSpec(**layer) for layer in raw["model"]["layers"]),
            ),
            compile=CompileSpec(**{**raw["compile"], "metrics": tuple(raw["compile"]["metrics"])}),
            training=TrainingSpec(**raw["training"]),
            predictions=PredictionsSpec(panels=raw["predictions"]["panels"], grid=tuple(raw["predictions"]["grid"])),
            lessons={lesson: dict(checks) for lesson, checks in raw["lessons"].items()},
            source_text=text,
        )
    except (KeyError, TypeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"The course spec {path} is incomplete or malformed: {error!r}") from error
    if spec.data.pixels != spec.model.input_size:
        raise ValueError(
            f"The course spec {path} is inconsistent: images of {spec.data.image_shape} have "
            f"{spec.data.pixels} pixels, but the model's input_size is {spec.model.input_size}."
        )
    return spec


SPEC = load_spec()
