# Two entry points, both self-installing on a fresh machine:
#   make study   -> the main job (end-to-end gap-filling study, no LLM)
#   make test    -> the whole test suite
# Developer shortcut: make test-fast -> the suite without the tests marked slow (fastText training,
# whole studies, notebooks, fault injection)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Local mirror of the public files (air-gapped offices, CI). Fetchers fall back to the network when unset.
export STATCODGEN_MIRROR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
# Cache of fetched files (see data/README.md); the library's own default is ~/.cache/statcodgen.
export STATCODGEN_DATA_HOME ?= $(abspath data/cache)

.PHONY: study test test-fast install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

study: $(STAMP)
	$(PY) -m statcodgen run configs/ons_study.toml

test: $(STAMP)
	$(PY) -m pytest -q -ra

test-fast: $(STAMP)
	$(PY) -m pytest -q -ra -m "not slow"

clean:
	rm -rf $(VENV) runs .pytest_cache
