# shashin: `make demo`, `make run PHOTOS=~/Pictures`, `make test`.
# Each installs what is missing first (Debian packages with apt when root or sudo is there,
# then a virtualenv in .venv), so on a fresh Debian machine one command does everything.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
# The review plugin is tested on both Datasette lines pyproject.toml allows, each in its own virtualenv
# (as datasette-write tests "<1.0" and ">=1.0a10"): the 0.65 line in .venv, the 1.0 alpha in this one.
VENV_DATASETTE1 ?= .venv-datasette1
DATASETTE_065 := datasette>=0.65.5,<1.0
DATASETTE_1 := datasette==1.0a41
# pytest-xdist workers of the main suite: its tests wait on subprocesses and disks as much as they compute.
TEST_WORKERS ?= auto
DB ?= shashin.db
PHOTOS ?=
DEMO_DIR ?= demo-library

RUN_PACKAGES := libmagickwand-6.q16-6 libimage-exiftool-perl
TEST_PACKAGES := $(RUN_PACKAGES) chromium
# djpeg: the decode-only bound the scan benchmark measures against; convert (imagemagick): its 100 MP JPEG.
BENCH_PACKAGES := $(TEST_PACKAGES) libjpeg-turbo-progs imagemagick

.PHONY: demo run test lint test-datasette065 test-datasette1 setup setup-test system-packages system-test-packages system-bench-packages bench clean

# The hint follows a scan where some files failed too (exit status 1, each named above): the rest is there to review.
REVIEW_HINT := echo "Now review the copies: $(VENV)/bin/datasette \"$(DB)\" --root  (open the sign-in link it prints)"

demo: setup
	$(VENV)/bin/python -m shashin.demo "$(DEMO_DIR)"
	$(VENV)/bin/shashin-scan --db "$(DB)" "$(DEMO_DIR)"; status=$$?; [ $$status -gt 1 ] || $(REVIEW_HINT); exit $$status

# PHOTOS is one folder, quoted: a name with spaces ("/media/Old Laptop") stays one folder.
run: setup
	@test -n "$(PHOTOS)" || { echo "usage: make run PHOTOS=~/Pictures (or make demo)" >&2; exit 2; }
	$(VENV)/bin/shashin-scan --db "$(DB)" "$(PHOTOS)"; status=$$?; [ $$status -gt 1 ] || $(REVIEW_HINT); exit $$status

# Both at once (each suite's output when it ends): a suite leaves the cores idle while it waits.
test: setup-test lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-datasette065 test-datasette1

# Part of the test command, so CI runs it: ruff (pycodestyle, pyflakes, bugbear, import order,
# the format) and mypy over the package; settings in pyproject.toml.
lint: setup-test
	$(VENV)/bin/ruff check shashin datasette_plugins tests benchmarks
	$(VENV)/bin/ruff format --check shashin datasette_plugins tests benchmarks
	$(VENV)/bin/mypy

test-datasette065:
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS)

# A basetemp of its own: a second pytest starting on the shared one makes it private again (0700)
# while the other run's tests that act as a second user need it open.
test-datasette1:
	$(VENV_DATASETTE1)/bin/python -m pytest -q --basetemp=/tmp/shashin-tests-datasette1 tests/test_review_*.py

setup: system-packages $(VENV)/.installed-run
setup-test: system-test-packages $(VENV)/.installed-test $(VENV_DATASETTE1)/.installed-test

# Installs only what dpkg does not already have; `apt-get update` runs once, and only then.
define apt_install
	@missing=""; \
	for package in $(1); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; \
	done; \
	$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null; then sudo="sudo"; \
	  else echo "Missing Debian packages; as root, run: apt-get update && apt-get install -y$$missing" >&2; exit 1; fi; \
	  echo "Installing Debian packages:$$missing"; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q$$missing; \
	fi
endef

system-packages:
	$(call apt_install,$(RUN_PACKAGES))

system-test-packages:
	$(call apt_install,$(TEST_PACKAGES))

system-bench-packages:
	$(call apt_install,$(BENCH_PACKAGES))

%/bin/python:
	$(PYTHON) -m venv $*
	$*/bin/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q -e '.[demo]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q -e '.[demo,test]' '$(DATASETTE_065)'
	touch $@ $(VENV)/.installed-run

$(VENV_DATASETTE1)/.installed-test: pyproject.toml | $(VENV_DATASETTE1)/bin/python
	$(VENV_DATASETTE1)/bin/python -m pip install -q -e '.[demo,test]' '$(DATASETTE_1)'
	touch $@

bench: system-bench-packages setup-test
	for script in benchmarks/bench_*.py; do $(VENV)/bin/python $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) $(VENV_DATASETTE1) $(DEMO_DIR) build *.egg-info
