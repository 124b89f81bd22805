# Portmonet: the two commands.
#   make run    install everything and start the whole system with demo data
#   make test   install everything, check the import contracts (.importlinter), run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the system and its tests use (real peers, not mocks).
SYSTEM_PACKAGES := chromium fonts-dejavu-core freeradius-utils freeradius eapoltest faketime graphviz softflowd nfdump
DEMO_SUBSCRIBERS ?= 1000

.PHONY: run test test-dates install system-packages bench clean-db

$(BIN)/portmonet: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || tools/ensure-system-packages.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

install: $(BIN)/portmonet

system-packages:
	@tools/ensure-system-packages.sh $(SYSTEM_PACKAGES)

run: install system-packages
	@mkdir -p zodb/var
	PYTHONWARNINGS=ignore::UserWarning DEMO_SUBSCRIBERS=$(DEMO_SUBSCRIBERS) $(BIN)/honcho -f Procfile start

# The suite, then its time-sensitive part again across a month's midnight,
# on a UTC server and on one in another zone (libfaketime); test-dates runs
# it at all five instants (before a release).
test: install system-packages
	$(BIN)/lint-imports --no-cache
	PYTHONWARNINGS=ignore $(BIN)/pytest -q -p no:cacheprovider
	tools/test-dates.sh --quick

test-dates: install system-packages
	tools/test-dates.sh

bench: install
	$(BIN)/python bench/foundation.py --subscribers 1000000

clean-db:
	rm -rf zodb/var
