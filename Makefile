# The two commands the README starts with:
#   make run    the main job: build the lessons from the solutions, run every solution, print a table
#   make test   the maintainers' test suite
# Both create .venv on first use and reuse it; it is rebuilt when pyproject.toml changes.

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lessons clean-venv

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m autograder.course

test: $(BIN)/.installed
	$(BIN)/python -m pytest

test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not slow"

lessons: $(BIN)/.installed
	$(BIN)/nbgrader generate_assignment mnist --no-db --force

clean-venv:
	rm -rf $(VENV)
