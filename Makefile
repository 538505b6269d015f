# The two commands the README starts with:
#   make run    the main job: build the lessons from the solutions, run every solution, print a table
#   make test   the maintainers' test suite
# Both create .venv on first use and reuse it; it is rebuilt when pyproject.toml changes.

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint lessons check lab grade gradescope clean-venv sandbox-tools

# pip install, showing what pip says except the "Location '...' is ignored: it is neither a file nor a directory"
# warnings that a pip configured with package folders lacking most packages writes for each package (all of it if pip
# fails). PYTHONWARNINGS below drops setuptools' "Editable installation" note, written on every editable install.
pip_install = $(BIN)/python -m pip install --quiet $(1) >$(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }; \
	grep -v "' is ignored: it is neither a file nor a directory\.$$" $(VENV)/pip.log || true

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(call pip_install,--upgrade pip)
	PYTHONWARNINGS="ignore:Editable installation" $(call pip_install,-e .)
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $@

# $(call apt_tool,COMMAND,PACKAGE,WHY,OTHERWISE): installs Debian's PACKAGE with apt-get when COMMAND is missing and
# this is root with apt-get; elsewhere says what goes without it.
apt_tool = command -v $(1) >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing $(2) (Debian's package) $(3)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else echo "$(2) is not installed: $(4)"; fi; }

# Bubblewrap isolates graded kernels (README: 'What a submission can and cannot do'); without it the grader runs
# unisolated and says what that leaves open.
sandbox-tools:
	@$(call apt_tool,bwrap,bubblewrap,to isolate graded kernels,graded kernels run without it (see mnist-grade --help))

# Debian's Chromium, which tests/course/test_browser.py drives through JupyterLab with Playwright (never Playwright's own
# browser download); without it that test skips.
.PHONY: browser-tools
browser-tools:
	@$(call apt_tool,chromium,chromium,for the browser test,the browser test (tests/course/test_browser.py) will skip)

run: $(BIN)/.installed sandbox-tools
	$(BIN)/python -m autograder.batch.run_course

# Lint, import order and format (ruff, configured in pyproject.toml), and types on the grader's code (mypy).
lint: $(BIN)/.installed
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/mypy

# Two pytest-xdist workers, each test module whole on one, the longest modules first (tests/conftest.py's LONGEST_FIRST)
# so that both finish about together.
IN_PARALLEL := -n 2 --no-loadscope-reorder

test: $(BIN)/.installed sandbox-tools browser-tools lint
	$(BIN)/python -m pytest $(IN_PARALLEL) --durations=15

# No training and no kernel: in every run, a test that starts one without the `kernel` or `slow` marker fails.
test-fast: $(BIN)/.installed lint
	$(BIN)/python -m pytest $(IN_PARALLEL) -m "not slow and not kernel" --durations=10

check: $(BIN)/.installed   ## students: self-check your lessons/mnist notebooks, one test per exercise
	$(BIN)/python -m pytest --pyargs autograder.selfcheck

lab: $(BIN)/.installed     ## students: open the lessons in JupyterLab
	$(BIN)/jupyter lab lessons/mnist

grade: $(BIN)/.installed sandbox-tools   ## instructors: make grade SUBMITTED=path/to/submitted JOBS=2
	$(BIN)/mnist-grade $(SUBMITTED) --jobs $(or $(JOBS),2)

gradescope: $(BIN)/.installed   ## instructors: dist/gradescope-autograder.zip (with MNIST_PATH's data when set)
	$(BIN)/python -m autograder.batch.gradescope build

lessons: $(BIN)/.installed
	$(BIN)/nbgrader generate_assignment mnist --no-db --force

clean-venv:
	rm -rf $(VENV)
