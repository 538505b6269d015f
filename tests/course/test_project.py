"""The project's shape: one dependency list, clean notebooks, lessons generated from solutions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
from support.paths import LESSON_NAMES, LESSONS, PROJECT_ROOT, SOLUTIONS

from autograder.lesson.instrument import check_call, is_test_cell
from autograder.spec import SPEC

NBGRADER = str(Path(sys.executable).with_name("nbgrader"))
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_environment_yml_mirrors_pyproject():
    """Does environment.yml list exactly the packages and versions pyproject.toml lists, on Python 3.11?"""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    listed = set(project["dependencies"])
    text = (PROJECT_ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1]
    mirrored = {line.strip()[2:].strip() for line in pip_section.splitlines() if line.strip().startswith("- ")}
    mirrored.discard("--editable .")
    assert mirrored == listed
    assert "python=3.11" in text and project["requires-python"] == "==3.11.*"


def test_the_units_make_test_schedules_by_name_are_test_modules():
    """Do the modules that tests/conftest.py sends out first, or keeps together, exist (a renamed module would
    silently go back to collection order)?"""
    import conftest

    named = {*conftest.LONGEST_FIRST, *conftest.RUN_WITH, *conftest.RUN_WITH.values()}
    assert sorted(name for name in named if not (PROJECT_ROOT / name).is_file()) == []


def test_longest_units_go_out_first_and_the_rest_keep_their_order():
    """Does the collection hook put LONGEST_FIRST's units first in its order, a RUN_WITH module with its unit, and
    leave the other tests, and the tests within a unit, in collection order?"""
    from types import SimpleNamespace

    import conftest

    first, second = conftest.LONGEST_FIRST[:2]
    collected = [
        "tests/a_test.py::one",
        f"{second}::one",
        "tests/b_test.py::one",
        "tests/batch/test_nbgrader_agreement.py::one",
        f"{first}::one",
        f"{second}::two",
        "tests/a_test.py::two",
    ]
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in collected]
    conftest.pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == [
        "tests/batch/test_nbgrader_agreement.py::one",  # RUN_WITH puts it in the first unit, test_examples.py's
        f"{first}::one",
        f"{second}::one",
        f"{second}::two",
        "tests/a_test.py::one",
        "tests/b_test.py::one",
        "tests/a_test.py::two",
    ]


def maintainers_map() -> str:
    """The README's map of the repository: the first code block under 'For maintainers'."""
    section = (PROJECT_ROOT / "README.md").read_text().split("## For maintainers", 1)[1]
    return section.split("```", 2)[1]


def test_readme_map_names_every_grader_module_and_nothing_else():
    """Does the README's map name each module and package of autograder/, and only files that exist?"""
    text = maintainers_map()
    modules = {
        path.name
        for path in (PROJECT_ROOT / "autograder").rglob("*.py")
        if path.name not in {"__init__.py", "__main__.py"}
    }
    packages = {f"{path.parent.name}/" for path in (PROJECT_ROOT / "autograder").glob("*/__init__.py")}
    named = set(re.findall(r"\b[a-z_]+\.py\b", text))
    existing = modules | {path.name for path in PROJECT_ROOT.glob("*/*.py")}
    assert sorted(modules - named) == [], "modules missing from the README's map"
    assert sorted(name for name in packages if name not in text) == [], "packages missing from the README's map"
    assert sorted(named - existing) == [], "the README's map names files that don't exist"


def test_five_lessons_match_the_spec():
    """Are there exactly the spec's lessons, in solutions/ and in lessons/?"""
    assert LESSON_NAMES == list(SPEC.lessons)
    assert sorted(path.stem for path in LESSONS.glob("*.ipynb")) == list(SPEC.lessons)


@pytest.mark.parametrize("folder", [SOLUTIONS, LESSONS], ids=["solutions", "lessons"])
def test_committed_notebooks_have_no_outputs(folder):
    """Are the committed notebooks free of outputs and execution counts?"""
    dirty = [
        f"{path.name} cell {index}"
        for path in sorted(folder.glob("*.ipynb"))
        for index, cell in enumerate(read(path).cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count)
    ]
    assert dirty == []


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_check_cells_carry_the_spec_points_in_order(lesson):
    """Does each solution's check cells call the spec's checks, in the spec's order, with the spec's points?"""
    cells = [cell for cell in read(SOLUTIONS / f"{lesson}.ipynb").cells if is_test_cell(cell)]
    found = [(check_call(cell.source)[0], cell.metadata.nbgrader.points) for cell in cells]
    assert found == list(SPEC.lessons[lesson].items())
    for cell in cells:
        assert cell.source.startswith('"""'), "each check cell opens with a one-line docstring saying what it checks"


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_each_solution_cell_has_one_solution_region(lesson):
    """Is every nbgrader solution cell's answer between BEGIN and END SOLUTION markers?"""
    for cell in read(SOLUTIONS / f"{lesson}.ipynb").cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            assert len(SOLUTION_REGION.findall(cell.source)) == 1, cell.source


def test_lessons_are_exactly_what_nbgrader_generates(tmp_path):
    """Does `nbgrader generate_assignment mnist` reproduce lessons/ byte for byte?"""
    shutil.copytree(SOLUTIONS, tmp_path / "solutions" / "mnist")
    shutil.copy(PROJECT_ROOT / "nbgrader_config.py", tmp_path)
    done = subprocess.run(
        [NBGRADER, "generate_assignment", "mnist", "--no-db", "--force"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    for lesson in LESSON_NAMES:
        generated = (tmp_path / "lessons" / "mnist" / f"{lesson}.ipynb").read_bytes()
        assert generated == (LESSONS / f"{lesson}.ipynb").read_bytes(), f"{lesson}: run `make lessons` and commit"


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_lessons_hold_no_solution_code(lesson):
    """Is every answer replaced by `raise NotImplementedError()`, with no line of the solution left?"""
    solution_cells = [
        c for c in read(SOLUTIONS / f"{lesson}.ipynb").cells if c.metadata.get("nbgrader", {}).get("solution")
    ]
    lesson_cells = {
        c.metadata.nbgrader.grade_id: c for c in read(LESSONS / f"{lesson}.ipynb").cells if "nbgrader" in c.metadata
    }
    lesson_text = (LESSONS / f"{lesson}.ipynb").read_text()
    assert "BEGIN SOLUTION" not in lesson_text
    for cell in solution_cells:
        released = lesson_cells[cell.metadata.nbgrader.grade_id].source
        assert "raise NotImplementedError()" in released
        for line in SOLUTION_REGION.search(cell.source).group(1).splitlines():
            if sum(character.isalnum() for character in line) >= 4:  # skip lone brackets
                assert line.strip() not in released, f"solution line leaked into the lesson: {line.strip()}"
