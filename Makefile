# shashin: `make demo`, `make run PHOTOS=~/Pictures`, `make test`.
# Each installs what is missing first (Debian packages with apt when root or sudo is there,
# then a virtualenv in .venv), so on a fresh Debian machine one command does everything.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
DB ?= shashin.db
PHOTOS ?=
DEMO_DIR ?= demo-library

RUN_PACKAGES := libmagickwand-6.q16-6 libimage-exiftool-perl
TEST_PACKAGES := $(RUN_PACKAGES) chromium
# djpeg: the decode-only bound the scan benchmark measures against.
BENCH_PACKAGES := $(TEST_PACKAGES) libjpeg-turbo-progs

.PHONY: demo run test setup setup-test system-packages system-test-packages system-bench-packages bench clean

# The hint follows a scan where some files failed too (exit status 1, each named above): the rest is there to review.
REVIEW_HINT := echo "Now review the copies: $(VENV)/bin/datasette \"$(DB)\" --root  (open the sign-in link it prints)"

demo: setup
	$(VENV)/bin/python -m shashin.demo "$(DEMO_DIR)"
	$(VENV)/bin/shashin-scan --db "$(DB)" "$(DEMO_DIR)"; status=$$?; [ $$status -gt 1 ] || $(REVIEW_HINT); exit $$status

# PHOTOS is one folder, quoted: a name with spaces ("/media/Old Laptop") stays one folder.
run: setup
	@test -n "$(PHOTOS)" || { echo "usage: make run PHOTOS=~/Pictures (or make demo)" >&2; exit 2; }
	$(VENV)/bin/shashin-scan --db "$(DB)" "$(PHOTOS)"; status=$$?; [ $$status -gt 1 ] || $(REVIEW_HINT); exit $$status

test: setup-test
	$(VENV)/bin/python -m pytest -q

setup: system-packages $(VENV)/.installed-run
setup-test: system-test-packages $(VENV)/.installed-test

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

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q -e '.[demo]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q -e '.[demo,test]'
	touch $@ $(VENV)/.installed-run

bench: system-bench-packages setup-test
	for script in benchmarks/bench_*.py; do $(VENV)/bin/python $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_DIR) build *.egg-info
