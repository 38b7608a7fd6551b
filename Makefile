PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install up test lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	# Source roots on sys.path too, so a package added since the last install imports at once.
	$(BIN)/python -c "import sysconfig,pathlib; pathlib.Path(sysconfig.get_paths()['purelib'],'cortex-roots.pth').write_text(''.join(str(p.resolve())+'\\n' for p in [pathlib.Path('libs'),*sorted(pathlib.Path('services').iterdir())] if p.is_dir()))"
	touch $(STAMP)

up: install
	$(BIN)/cortex up

test: install
	$(BIN)/ruff check libs services tests bench
	$(BIN)/mypy libs services
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check libs services tests bench

typecheck: install
	$(BIN)/mypy libs services

bench: install
	$(BIN)/python bench/submit.py

clean:
	rm -rf $(VENV) .cortex .pytest_cache .mypy_cache .ruff_cache
