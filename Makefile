# Everything a fresh machine needs: Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q smsctl
	touch $(STAMP)

install: $(STAMP)

# Imports the bundled Twilio export into a throwaway database and prints
# the SMS Numbers table and the Sent SMS Messages Overview.
demo: $(STAMP)
	@bash demo/run.sh $(BIN)/smsctl

test: $(STAMP)
	$(BIN)/python -m pytest

# The benchmark compares with Debian's sqlite3 shell; install it if absent.
# bench.run compiles smsctl's bytecode first, as an installed package has it.
bench: $(STAMP)
	@command -v sqlite3 >/dev/null || (apt-get update && apt-get install -y sqlite3)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build *.egg-info
