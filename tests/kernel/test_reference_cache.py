"""The grader's trained reference network: which kernels get a copy, and that they load it instead of training."""

from __future__ import annotations

import json

import pytest
from support.paths import PROJECT_ROOT, SOLUTIONS

from autograder.batch.grade_class import GradingOptions, kernel_environment
from autograder.kernel import reference_cache
from autograder.kernel.course_copy import answers_hidden_from, reference_for
from autograder.lesson.grade import grade_notebook
from autograder.protocol import ARTIFACTS, CACHE_VARIABLE
from autograder.spec import SPEC


def test_only_lessons_after_train_may_load_the_trained_network():
    """A trained network is lesson 04's answer: does no kernel up to lesson 04 get it, and lesson 05's does?"""
    lessons = list(SPEC.lessons)
    graded_train = next(index for index, lesson in enumerate(lessons) if "train" in SPEC.lessons[lesson])
    allowed = [lesson for lesson in lessons if reference_cache.may_load_trained_model(lesson)]
    assert allowed == lessons[graded_train + 1 :] == ["05_predict"]


@pytest.mark.parametrize("lesson", list(SPEC.lessons))
def test_kernel_copy_has_trained_model_only_where_it_may_load_it(lesson):
    """Is ``trained_model`` cut from the kernel's reference.py wherever ``train`` is?"""
    source = (PROJECT_ROOT / "autograder" / "reference.py").read_text(encoding="utf-8")
    copied, _ = reference_for(lesson, source)
    may = reference_cache.may_load_trained_model(lesson)
    assert ("def trained_model(" in copied) is may
    assert ("trained_model" in answers_hidden_from(lesson)) is ("train" in answers_hidden_from(lesson))


@pytest.mark.slow  # the grader trains the network once (or finds it trained)
def test_kernel_gets_a_copy_of_the_entry_and_earlier_lessons_nothing(tmp_path):
    """Does lesson 05's kernel get its own copy, so that nothing it does reaches the grader's files, and lesson
    04's none?"""
    env = {**kernel_environment(GradingOptions()), "MNIST_PATH": "synthetic"}
    entry = reference_cache.prepared_entry(env)
    assert entry is not None
    given = reference_cache.kernel_copy("05_predict", env, tmp_path / "trained")
    assert given == tmp_path / "trained"
    assert sorted(p.name for p in given.iterdir()) == sorted(p.name for p in entry)
    assert all((given / p.name).read_bytes() == p.read_bytes() for p in entry)
    assert reference_cache.kernel_copy("04_train", env, tmp_path / "not-for-04") is None
    assert not (tmp_path / "not-for-04").exists()


@pytest.mark.slow  # starts a Python that imports TensorFlow
def test_data_that_cannot_be_loaded_is_a_warning_and_no_entry(tmp_path, monkeypatch):
    """If the grader can't train the network, does it say so and let the kernel train it (no entry, no crash)?"""
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    with pytest.warns(UserWarning, match="Could not prepare the trained reference network"):
        entry = reference_cache.prepared_entry({"MNIST_PATH": str(tmp_path / "no-such-data")})
    assert entry is None


@pytest.mark.slow  # trains the network, then grades lesson 05 in a kernel
@pytest.mark.kernel
def test_graded_lesson_05_loads_the_graders_network(tmp_path, monkeypatch):
    """Does lesson 05's kernel load the grader's entry rather than train? Its History, altered on purpose in the
    grader's folder, is what the lesson's own ``history`` holds."""
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    env = {**kernel_environment(GradingOptions()), "MNIST_PATH": "synthetic"}
    entry = reference_cache.prepared_entry(env)
    assert entry is not None
    history_file = next(path for path in entry if path.name.endswith(".history.json"))
    saved = json.loads(history_file.read_text(encoding="utf-8"))
    saved["history"]["val_accuracy"][-1] = 0.125  # no training gives exactly this
    history_file.write_text(json.dumps(saved), encoding="utf-8")
    grade = grade_notebook(SOLUTIONS / "05_predict.ipynb", env=env)
    assert all(result.passed for result in grade.results), grade.results
    assert grade.artifacts[ARTIFACTS]["history"]["metrics"]["val_accuracy"][-1] == 0.125
