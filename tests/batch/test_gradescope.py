"""The Gradescope bundle: its contract, and run_autograder run as Gradescope runs it, in a temporary /autograder."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from support.paths import EXAMPLE_SUBMISSIONS, FIXTURES, PROJECT_ROOT

from autograder.batch.gradescope import MAX_UNZIPPED_BYTES, build_bundle, results_json, unpack_bundle, unpack_upload
from autograder.batch.reports import student_record
from autograder.protocol import CACHE_VARIABLE
from autograder.spec import SPEC

SCHEMA = json.loads((FIXTURES / "gradescope" / "results.schema.json").read_text())


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The bundle, built once, with the synthetic digits as its data."""
    return build_bundle(tmp_path_factory.mktemp("dist") / "gradescope-autograder.zip", mnist_path="synthetic")


def run_autograder(root: Path, **environment: str) -> dict:
    """Runs the bundle's run_autograder as Gradescope does (with this Python), and returns results.json."""
    env = {name: value for name, value in os.environ.items() if name not in ("MNIST_PATH", "PYTEST_CURRENT_TEST")}
    env.update({"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable, **environment})
    done = subprocess.run(
        [str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results


def test_bundle_follows_gradescope_contract(bundle):
    """Are setup.sh and run_autograder at the zip's root, executable, bash with LF endings, beside the course,
    the released lessons, the spec and the requirements?"""
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        for script in ("setup.sh", "run_autograder"):
            mode = archive.getinfo(script).external_attr >> 16
            text = archive.read(script)
            assert stat.S_ISREG(mode) and mode & 0o111 == 0o111, script
            assert text.startswith(b"#!/usr/bin/env bash\n") and b"\r" not in text, script
            subprocess.run(["bash", "-n"], input=text, check=True)
    assert {"requirements.txt", "gradescope.json", "course/autograder/spec.toml", "course/digits/mnist.py"} <= names
    assert {f"course/lessons/mnist/{lesson}.ipynb" for lesson in SPEC.lessons} <= names
    assert not any("__pycache__" in name or name.startswith("course/solutions") for name in names)


def test_requirements_are_pyproject_dependencies(bundle):
    """Does the bundle pin exactly pyproject.toml's dependency list, the one list there is?"""
    listed = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    with zipfile.ZipFile(bundle) as archive:
        assert archive.read("requirements.txt").decode().splitlines() == listed


def test_bundle_without_data_has_setup_fetch_keras_mnist(tmp_path):
    """With no MNIST_PATH, does setup.sh fetch Keras's mnist.npz, check its SHA-256, and say so?"""
    with zipfile.ZipFile(build_bundle(tmp_path / "b.zip", mnist_path=None)) as archive:
        assert json.loads(archive.read("gradescope.json")) == {"mnist_path": "data/mnist.npz"}
        assert "data/FETCH" in archive.namelist() and "data/mnist.npz" not in archive.namelist()
        setup = archive.read("setup.sh").decode()
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in setup
    assert "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1" in setup and "sha256sum --check" in setup
    assert "fetching Keras's mnist.npz" in setup


def test_bundle_carries_the_instructors_mnist_npz(tmp_path):
    """With MNIST_PATH at a mnist.npz, does the file go into the bundle and the bundle read it from there?"""
    data = tmp_path / "mnist.npz"
    np.savez(
        data,
        x_train=np.zeros((2, 28, 28), np.uint8),
        y_train=np.zeros(2, np.uint8),
        x_test=np.zeros((1, 28, 28), np.uint8),
        y_test=np.zeros(1, np.uint8),
    )
    with zipfile.ZipFile(build_bundle(tmp_path / "b.zip", mnist_path=str(data))) as archive:
        assert archive.read("data/mnist.npz") == data.read_bytes()
        assert json.loads(archive.read("gradescope.json")) == {"mnist_path": "data/mnist.npz"}
        assert "data/FETCH" not in archive.namelist()


def test_mnist_path_that_holds_no_data_is_a_clear_error(tmp_path):
    """Does a MNIST_PATH folder without MNIST's files stop the build with a message saying what to do?"""
    with pytest.raises(FileNotFoundError, match="neither a mnist.npz file nor a folder of MNIST's IDX files"):
        build_bundle(tmp_path / "b.zip", mnist_path=str(tmp_path))
    assert not (tmp_path / "b.zip").exists()


def test_upload_unpacks_notebooks_from_zips_and_nothing_outside(tmp_path):
    """From an upload's zip, are the notebooks unpacked (any depth), and a path leaving the folder, a macOS
    shadow file and other files skipped?"""
    upload = tmp_path / "submission"
    (upload / "deep" / "er").mkdir(parents=True)
    (upload / "deep" / "er" / "01_load.ipynb").write_text("{}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("work/mnist/03_build.ipynb", "{}")
        archive.writestr("../escape.ipynb", "{}")
        archive.writestr("__MACOSX/work/._03_build.ipynb", "junk")
        archive.writestr("work/notes.txt", "not a notebook")
    (upload / "work.zip").write_bytes(buffer.getvalue())
    (upload / "broken.zip").write_bytes(b"not a zip")
    into = unpack_upload(upload, tmp_path / "unpacked")
    found = sorted(path.relative_to(into).as_posix() for path in into.rglob("*") if path.is_file())
    assert found == ["deep/er/01_load.ipynb", "work/work/mnist/03_build.ipynb"]
    assert not (tmp_path / "escape.ipynb").exists()


def test_upload_zip_that_unpacks_too_big_is_refused(tmp_path):
    """Is a zip whose notebooks unpack to more than the cap refused with a message naming the cap?"""
    upload = tmp_path / "submission"
    upload.mkdir()
    with zipfile.ZipFile(upload / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("01_load.ipynb", b"0" * (MAX_UNZIPPED_BYTES + 1))
    with pytest.raises(ValueError, match=f"more than {MAX_UNZIPPED_BYTES // 2**20} MB"):
        unpack_upload(upload, tmp_path / "unpacked")


def test_results_list_every_check_of_a_lesson_not_handed_in():
    """Does a lesson the student didn't upload still show each of its checks, at 0, saying why?"""
    results = results_json(student_record("submission", "submission", "", {}, [], SPEC), execution_time=1.4)
    jsonschema.validate(results, SCHEMA)
    assert [test["name"] for test in results["tests"]] == [
        f"{lesson}: {check}" for lesson, checks in SPEC.lessons.items() for check in checks
    ]
    assert all(test["score"] == 0 and test["status"] == "failed" for test in results["tests"])
    assert "You didn't hand in 03_build.ipynb, so this check couldn't run." in results["tests"][4]["output"]
    assert results["score"] == 0 and "03_build: 0/3 (not uploaded)" in results["output"]


def test_grader_that_fails_still_writes_valid_results(bundle, tmp_path):
    """When the grader itself fails (here: a damaged bundle), is results.json valid, 0, and not blamed on the
    student?"""
    root = unpack_bundle(bundle, tmp_path)
    (root / "source" / "gradescope.json").write_text("{damaged")
    results = run_autograder(root)
    assert results["score"] == 0 and len(results["tests"]) == 1
    assert "The autograder itself failed (JSONDecodeError" in results["tests"][0]["output"]
    assert "This is not a problem with your work" in results["output"]


def test_grader_that_cannot_start_still_writes_valid_results(bundle, tmp_path):
    """When Python itself can't start, does run_autograder still leave a valid results.json that says so?"""
    root = unpack_bundle(bundle, tmp_path)
    results = run_autograder(root, AUTOGRADER_PYTHON=str(tmp_path / "no-python"))
    assert results["score"] == 0
    assert results["output"].startswith("The autograder could not start (exit status 127).")


@pytest.mark.slow
def test_bundle_grades_an_upload_as_mnist_grade_does(bundle, small_class_graded, tmp_path):
    """Graded through the bundle (uploaded as a zip with a folder inside), does an example student get exactly the
    points per check that mnist-grade gives the same notebooks?"""
    root = unpack_bundle(bundle, tmp_path / "autograder")
    student = EXAMPLE_SUBMISSIONS / "fails_units_25" / "mnist"
    with zipfile.ZipFile(root / "submission" / "my-work.zip", "w") as archive:
        for notebook in sorted(student.glob("*.ipynb")):
            archive.write(notebook, f"mnist/{notebook.name}")
    results = run_autograder(root)

    # What mnist-grade gives the same notebooks: the session's mnist-grade --jobs 2 run (conftest.py), which graded
    # this student's folder of examples/submissions too.
    record = json.loads((small_class_graded / "out" / "results" / "fails_units_25.json").read_text())
    expected = {
        f"{lesson}: {check['check_id']}": check["points"]
        for lesson, data in record["lessons"].items()
        for check in data["checks"]
    }
    assert {test["name"]: test["score"] for test in results["tests"]} == expected
    assert results["score"] == record["total"] == SPEC.total_points - SPEC.points["build_model"]
    [failed] = [test for test in results["tests"] if test["status"] == "failed"]
    assert (
        failed["name"] == "03_build: build_model" and "layer2 has 25 units; the spec asks for 30." in failed["output"]
    )
    assert "Hint:" in failed["output"] and "subfolder" not in results["output"]


@pytest.mark.slow
def test_bundle_grades_an_upload_of_one_lesson(bundle, tmp_path):
    """Does an upload of only 03_build.ipynb earn its points, with every other lesson's checks listed at 0?"""
    root = unpack_bundle(bundle, tmp_path)
    shutil.copy(EXAMPLE_SUBMISSIONS / "passes_all" / "mnist" / "03_build.ipynb", root / "submission")
    results = run_autograder(root)
    scores = {test["name"]: test["score"] for test in results["tests"]}
    assert results["score"] == scores["03_build: build_model"] == SPEC.points["build_model"]
    assert len(scores) == len(SPEC.points) and sum(scores.values()) == SPEC.points["build_model"]


@pytest.mark.slow  # trains the network, then grades lesson 05
def test_setup_trains_the_network_lesson_05_is_given_and_uploads_load_it(bundle, tmp_path):
    """Does setup.sh's `prepare` step put the trained network in the image, so that an upload's lesson 05 loads it
    (full points, and the image's entry is all there is afterwards: nothing was trained again)?"""
    root = unpack_bundle(bundle, tmp_path / "autograder")
    assert 'gradescope prepare --root "$ROOT"' in (root / "source" / "setup.sh").read_text()
    cache = tmp_path / "image-cache"
    env = {name: value for name, value in os.environ.items() if name not in ("MNIST_PATH", "PYTEST_CURRENT_TEST")}
    env.update({"PYTHONPATH": str(root / "source" / "course"), CACHE_VARIABLE: str(cache)})
    prepared = subprocess.run(
        [sys.executable, "-m", "autograder.batch.gradescope", "prepare", "--root", str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    assert f"trained and kept in {cache}" in prepared.stdout
    kept = {path.name: path.stat().st_mtime_ns for path in cache.glob("reference-*")}
    assert sorted(name.rsplit(".", 1)[-1] for name in kept) == ["json", "keras"]
    shutil.copy(EXAMPLE_SUBMISSIONS / "passes_all" / "mnist" / "05_predict.ipynb", root / "submission")
    results = run_autograder(root, **{CACHE_VARIABLE: str(cache)})
    assert results["score"] == sum(SPEC.lessons["05_predict"].values())
    assert {path.name: path.stat().st_mtime_ns for path in cache.glob("reference-*")} == kept
