# Two entry points for humans (see README): `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean postgres

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job: the Discord bot when DISCORD_TOKEN is set, otherwise the same conversation in the terminal.
run: $(STAMP)
	$(BIN)/python -m bot

# Lint, then the whole test suite (the PostgreSQL tests start their own server from the binaries `postgres` installs).
test: $(STAMP) postgres
	$(BIN)/ruff check bot tests bench
	$(BIN)/python -m pytest -q

# The PostgreSQL server binaries the storage tests start a throwaway server from (Debian package).
postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "PostgreSQL server binaries found"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	else \
		echo "PostgreSQL server binaries not found (install Debian's 'postgresql'): its tests skip, or fail with CI=true"; \
	fi

bench: $(STAMP) postgres
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
