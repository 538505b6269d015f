"""Gradescope: build the autograder bundle, and grade one upload inside it.

Gradescope builds an image from a zip (``setup.sh`` at its root runs once, as root), then for every upload
runs ``run_autograder``, which must leave ``/autograder/results/results.json``. The bundle holds the course
package, the released lessons and the spec, pinned requirements taken from ``pyproject.toml`` (the one
dependency list), and optionally the MNIST data::

    mnist-gradescope build [--output dist/gradescope-autograder.zip]   # MNIST_PATH, when set, goes in
    mnist-gradescope run [--root /autograder]                          # what run_autograder calls

``run`` grades with the code ``mnist-grade`` uses (:func:`autograder.batch.grade_class.grade_student`) and always
writes a valid ``results.json``, atomically: when the grader itself fails, the score is 0 and the one test
says that the grader failed, not the student. ``AUTOGRADER_ROOT`` replaces ``/autograder`` (the tests use it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import tomllib
import traceback
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.batch.atomic import write_atomically
from autograder.spec import PROJECT_ROOT, RELEASED_LESSONS

if TYPE_CHECKING:  # only for annotations: reports is imported where it is used
    from autograder.batch.reports import StudentRecord

DEFAULT_BUNDLE = Path("dist") / "gradescope-autograder.zip"
DEFAULT_ROOT = Path("/autograder")
CONFIG_NAME = "gradescope.json"
# Keras's own copy of MNIST, which setup.sh fetches when the bundle holds no data, and its SHA-256.
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# An upload's zip may hold at most this much notebook data; a notebook is a few hundred KB.
MAX_UNZIPPED_BYTES = 200 * 2**20

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image: Python 3.11, the pinned
# requirements, bubblewrap (isolates each graded kernel), and the MNIST data when the bundle has none.
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
command -v python3.11 >/dev/null || apt-get install -y -qq python3.11 python3.11-venv >/dev/null
command -v bwrap >/dev/null || apt-get install -y -qq bubblewrap >/dev/null \\
  || echo "no bubblewrap: kernels run without it"
command -v curl >/dev/null || apt-get install -y -qq curl >/dev/null
python3.11 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --upgrade pip
"$ROOT/venv/bin/python" -m pip install --quiet -r "$SOURCE/requirements.txt"
"$ROOT/venv/bin/python" -m ipykernel install --prefix "$ROOT/venv" --name python3 >/dev/null
if [ -f "$SOURCE/data/FETCH" ]; then
  echo "This bundle holds no MNIST data: fetching Keras's mnist.npz ({url}) into the image."
  curl -fsSL "{url}" -o "$SOURCE/data/mnist.npz"
  echo "{sha256}  $SOURCE/data/mnist.npz" | sha256sum --check --quiet
  rm "$SOURCE/data/FETCH"
fi
PYTHONPATH="$SOURCE/course" "$ROOT/venv/bin/python" -m autograder.batch.gradescope prepare --root "$ROOT"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every upload: grade $ROOT/submission, write $ROOT/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
export PYTHONPATH="$ROOT/source/course"
"$PYTHON" -m autograder.batch.gradescope run --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  # The grader could not even start: still leave Gradescope a valid result that says so.
  mkdir -p "$ROOT/results"
  printf '%s\\n' '{"score": 0, "output": "The autograder could not start (exit status '"$status"'). This is not a problem with your work; your instructor has been told and will grade it again.", "output_format": "text", "stdout_visibility": "visible", "tests": [{"name": "autograder", "score": 0, "max_score": 0, "status": "failed", "output": "The autograder could not start.", "visibility": "visible"}]}' > "$ROOT/results/results.json"
fi
exit 0
"""  # noqa: E501 - shell lines of the bundle's scripts, kept whole (the fallback result is one JSON document)


def requirements() -> list[str]:
    """The pinned requirements: ``pyproject.toml``'s dependency list, as it is."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["dependencies"])


def _add(bundle: zipfile.ZipFile, name: str, data: str | bytes, *, executable: bool = False) -> None:
    """Adds one file with a fixed date (the same sources give the same zip) and Unix permissions."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
    bundle.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)


def _add_tree(bundle: zipfile.ZipFile, folder: Path, under: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
            _add(bundle, f"{under}/{path.relative_to(folder).as_posix()}", path.read_bytes())


def _data_files(mnist_path: str) -> list[Path]:
    """The files of ``MNIST_PATH`` that go into the bundle: a Keras ``mnist.npz``, or a folder's IDX and sum files."""
    from digits.mnist import IDX_FILES, SUMS_FILES

    source = Path(mnist_path)
    if source.is_file():
        return [source]
    if source.is_dir():
        files = [source / name for name in (*IDX_FILES, *SUMS_FILES) if (source / name).is_file()]
        if files:
            return files
    raise FileNotFoundError(
        f"MNIST_PATH={mnist_path} is neither a mnist.npz file nor a folder of MNIST's IDX files; "
        "unset it to let setup.sh fetch Keras's mnist.npz, or point it at the data."
    )


def build_bundle(
    destination: Path = DEFAULT_BUNDLE, *, mnist_path: str | None = None, release: Path = RELEASED_LESSONS
) -> Path:
    """Writes the Gradescope autograder zip.

    Args:
        destination: The zip to write (its folder is created).
        mnist_path: ``MNIST_PATH`` to put in the bundle: a ``mnist.npz``, a folder of IDX files, or
            ``"synthetic"`` (for demos and tests). None: ``setup.sh`` fetches Keras's ``mnist.npz``.
        release: The released lessons.

    Returns:
        The zip's path.
    """
    from autograder.spec import SPEC

    missing = [f"{lesson}.ipynb" for lesson in SPEC.lessons if not (release / f"{lesson}.ipynb").is_file()]
    if missing:
        raise FileNotFoundError(f"{release} lacks {', '.join(missing)}; run `make lessons` first.")
    data: list[Path]
    if mnist_path in (None, ""):
        config, data = {"mnist_path": "data/mnist.npz"}, []
    elif mnist_path == "synthetic":
        config, data = {"mnist_path": "synthetic"}, []
    else:
        data = _data_files(mnist_path)
        config = {"mnist_path": "data/" + (data[0].name if Path(mnist_path).is_file() else "")}
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.tmp")
    with zipfile.ZipFile(temporary, "w") as bundle:
        _add(
            bundle,
            "setup.sh",
            SETUP_SH.replace("{url}", KERAS_MNIST_URL).replace("{sha256}", KERAS_MNIST_SHA256),
            executable=True,
        )
        _add(bundle, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add(bundle, "requirements.txt", "\n".join(requirements()) + "\n")
        _add(bundle, CONFIG_NAME, json.dumps(config, indent=2) + "\n")
        for package in ("autograder", "digits"):
            _add_tree(bundle, PROJECT_ROOT / package, f"course/{package}")
        _add_tree(bundle, release, "course/lessons/mnist")
        for path in data:
            _add(bundle, f"data/{path.name}", path.read_bytes())
        if config["mnist_path"] == "data/mnist.npz" and not data:
            _add(bundle, "data/FETCH", "setup.sh fetches Keras's mnist.npz here while the image is built.\n")
    os.replace(temporary, destination)
    return destination


def unpack_bundle(bundle: Path, root: Path) -> Path:
    """Lays out ``root`` as Gradescope does: the bundle unzipped into ``source/`` (its scripts executable) and an
    empty ``submission/``; returns ``root``. For the tests and the benchmark, which run the bundle outside
    Gradescope."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():
            os.chmod(root / "source" / info.filename, info.external_attr >> 16 & 0o777)
    (root / "submission").mkdir()
    return root


def unpack_upload(submission: Path, into: Path) -> Path:
    """Copies the notebooks of an upload into ``into``, unpacking any zip among them; returns ``into``.

    Only ``.ipynb`` members of a zip are taken, never a path that would leave ``into``, and at most
    :data:`MAX_UNZIPPED_BYTES` in all.
    """
    into.mkdir(parents=True, exist_ok=True)
    for path in sorted(submission.rglob("*")):
        relative = path.relative_to(submission)
        if path.is_symlink() or any(part.startswith((".", "__MACOSX")) for part in relative.parts):
            continue
        if path.suffix == ".ipynb" and path.is_file():
            (into / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, into / relative)
        elif path.suffix.lower() == ".zip" and path.is_file():
            _unzip_notebooks(path, into / relative.with_suffix(""))
    return into


def _unzip_notebooks(archive: Path, into: Path) -> None:
    total = 0
    try:
        with zipfile.ZipFile(archive) as upload:
            for member in upload.infolist():
                parts = Path(member.filename).parts
                if (
                    member.is_dir()
                    or not member.filename.endswith(".ipynb")
                    or member.filename.startswith("/")
                    or ".." in parts
                    or any(part.startswith((".", "__MACOSX")) for part in parts)
                ):
                    continue
                total += member.file_size
                if total > MAX_UNZIPPED_BYTES:
                    raise ValueError(
                        f"{archive.name} unpacks to more than {MAX_UNZIPPED_BYTES // 2**20} MB of notebooks"
                    )
                target = into / Path(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(upload.read(member))
    except zipfile.BadZipFile:
        pass  # reported with the other files that aren't lessons: nothing in it is graded


def results_json(record: StudentRecord, *, execution_time: float) -> dict:
    """Gradescope's ``results.json`` for one student's record: one test per check of the spec."""
    from autograder.batch.reports import gradescope_results

    results = gradescope_results(record)
    lines = [f"You scored {record['total']:g} of {record['max_total']:g} points."]
    lines += [
        f"{lesson}: {data['points']:g}/{data['max_points']:g}" + ("" if data["submitted"] else " (not uploaded)")
        for lesson, data in record["lessons"].items()
    ]
    lines += [f"Note: {problem}" for problem in record["problems"]]
    return {
        "score": results["score"],
        "execution_time": round(execution_time),
        "output": "\n".join(lines),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": results["tests"],
    }


def grader_failed(error: BaseException, *, execution_time: float) -> dict:
    """The ``results.json`` of a run in which the grader itself failed: 0 points, and not the student's fault."""
    message = (
        f"The autograder itself failed ({type(error).__name__}: {error}). This is not a problem with your "
        "work; your instructor will grade it again."
    )
    return {
        "score": 0,
        "execution_time": round(execution_time),
        "output": message,
        "output_format": "text",
        "stdout_visibility": "visible",
        "tests": [
            {
                "name": "autograder",
                "score": 0,
                "max_score": 0,
                "status": "failed",
                "output": message,
                "visibility": "visible",
            }
        ],
    }


def _use_bundled_data(root: Path) -> None:
    """Sets ``MNIST_PATH`` from the bundle's configuration, unless it is already set."""
    config = json.loads((root / "source" / CONFIG_NAME).read_text(encoding="utf-8"))
    path = config["mnist_path"]
    os.environ.setdefault("MNIST_PATH", path if path == "synthetic" else str(root / "source" / path))


def grade_upload(root: Path = DEFAULT_ROOT) -> dict:
    """Grades ``root/submission`` and writes ``root/results/results.json``; returns what it wrote."""
    start = time.monotonic()
    try:
        from autograder.batch.grade_class import (
            GradingOptions,
            grade_student,
            start_worker,
        )
        from autograder.batch.submissions import collect_student

        options = GradingOptions()
        _use_bundled_data(root)
        start_worker(options)  # its TensorFlow threads, TensorFlow imported without its log lines, its kernel factory
        with tempfile.TemporaryDirectory(prefix="gradescope-") as scratch:
            notebooks = unpack_upload(root / "submission", Path(scratch) / "upload")
            record = grade_student(
                collect_student("submission", notebooks), output=Path(scratch) / "output", options=options
            )
        if not record["fingerprint"]:  # grade_student scored a lesson the grader failed on as the grader's fault
            raise RuntimeError("grading a lesson failed; see the autograder's log")
        results = results_json(record, execution_time=time.monotonic() - start)
    except Exception as error:  # noqa: BLE001 - whatever broke, Gradescope gets a valid result that says so
        traceback.print_exc()
        results = grader_failed(error, execution_time=time.monotonic() - start)
    write_atomically(root / "results" / "results.json", json.dumps(results, indent=2) + "\n")
    return results


def prepare_trained_network(root: Path) -> int:
    """Trains the reference network lesson 05 is given for the bundle's data, as grading would
    (:mod:`autograder.kernel.reference_cache`), so that it is in the image and no upload trains it; says where."""
    from autograder.batch.grade_class import GradingOptions, kernel_environment
    from autograder.kernel.reference_cache import prepared_entry

    _use_bundled_data(root)
    entry = prepared_entry(kernel_environment(GradingOptions()))
    if entry is None:  # prepared_entry warned why; each upload's lesson 05 then trains it, with the same grades
        return 0
    print(f"The network lesson 05 is given is trained and kept in {entry[0].parent}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-gradescope", description="The course's Gradescope autograder.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write the autograder zip to upload to Gradescope")
    build.add_argument("--output", type=Path, default=DEFAULT_BUNDLE, help="the zip to write (default: %(default)s)")
    run = commands.add_parser("run", help="grade ROOT/submission into ROOT/results/results.json (run_autograder)")
    run.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get("AUTOGRADER_ROOT", DEFAULT_ROOT)),
        help="Gradescope's /autograder folder (default: $AUTOGRADER_ROOT or %(default)s)",
    )
    prepare = commands.add_parser(
        "prepare", help="train the network lesson 05 is given, once, into the image (setup.sh calls it)"
    )
    prepare.add_argument("--root", type=Path, default=run.get_default("root"), help="as for run")
    arguments = parser.parse_args(argv)
    if arguments.command == "prepare":
        return prepare_trained_network(arguments.root)
    if arguments.command == "build":
        mnist_path = os.environ.get("MNIST_PATH")
        try:
            path = build_bundle(arguments.output, mnist_path=mnist_path)
        except FileNotFoundError as error:
            print(f"mnist-gradescope: {error}", file=sys.stderr)
            return 2
        source = (
            f"the data at MNIST_PATH={mnist_path}"
            if mnist_path and mnist_path != "synthetic"
            else "synthetic digits (MNIST_PATH=synthetic)"
            if mnist_path
            else "no data: setup.sh fetches Keras's mnist.npz while Gradescope builds the image"
        )
        print(
            f"Wrote {path} ({path.stat().st_size / 2**20:.1f} MB) with {source}.\n"
            "Upload it on Gradescope under Configure Autograder (README: 'Grading on Gradescope')."
        )
        return 0
    results = grade_upload(arguments.root)
    print(f"score {results['score']:g}: {arguments.root / 'results' / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
