# Two entry points: `make demo` runs the main job on the demo data, `make test` runs every check.
# Both set themselves up on a machine with Python >= 3.10, git and Node.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
RUNTIME := $(VENV)/.installed
OPENAPI := node_modules/@octokit/openapi/generated/api.github.com.json

.PHONY: demo test test-fast lint typecheck unit unit-fast docs bench clean constraints browser

PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

$(RUNTIME): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $(RUNTIME)

# The test environment holds the docs extra too: the suite builds the site (tests/test_docs.py).
$(STAMP): $(RUNTIME)
	$(PIP) -e '.[test,docs]'
	touch $(STAMP)

$(OPENAPI): package.json
	npm install --no-audit --no-fund --silent
	touch $(OPENAPI)

# The browser test renders every report in headless Chromium: Debian's package, through apt
# when it is missing (CHROMIUM names another build). Without root or apt the test is skipped.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-color-emoji; } \
		|| echo "make: apt-get could not install chromium: the browser test will be skipped"; \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		{ sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-color-emoji; } \
		|| echo "make: apt-get could not install chromium: the browser test will be skipped"; \
	else \
		echo "make: $(CHROMIUM) is missing and apt-get cannot install it here: the browser test (tests/test_browser.py) will be skipped"; \
	fi

demo: $(RUNTIME)
	$(BIN)/mlops-actions run
	@printf '\nwrote: metrics.json, confusion_matrix.json, model/model.skops, model/card.json, and the report (path above; the run cache is beside it, outside the workspace)\n'
	@printf 'next: change mlops.model.params in params.yaml and run `make demo` again, or `%s compare` to see the change\n' '$(BIN)/mlops-actions'

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(OPENAPI) browser
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest -n 2 -q

test: lint typecheck unit

# The inner loop: everything but the tests marked slow (real dvc or act run many times).
unit-fast: $(STAMP) $(OPENAPI)
	$(BIN)/pytest -n 2 -q -m "not slow"

test-fast: lint typecheck unit-fast

# The reference site, into site/ (the suite builds it too, into a temp directory).
docs: $(RUNTIME)
	$(PIP) -e '.[docs]'
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(STAMP) $(OPENAPI)
	$(PIP) -e '.[bench]'
	$(BIN)/python -m bench

# The test and docs extras, as `make test` installs them (bench's matplotlib stays unpinned).
# setuptools is kept (--all): it builds this package, and install.sh constrains build dependencies.
constraints: pyproject.toml
	rm -rf .constraints-venv && $(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/python -m pip install --quiet --upgrade setuptools -e '.[test,docs]'
	{ sed -n '1,2p' constraints.txt; .constraints-venv/bin/python -m pip freeze --all --exclude pip --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .constraints-venv

clean:
	rm -rf $(VENV) node_modules .mlops-cache model site
