# The README's commands. `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: install test unit unit-jax notebooks figures lab clean

$(STAMP): requirements.txt requirements-jax.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-jax.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Unit tests on TensorFlow and on JAX, then every notebook in quick mode.
test: install
	$(MAKE) unit unit-jax notebooks

unit: install
	KERAS_BACKEND=tensorflow $(PY) -m pytest tests -q

unit-jax: install
	KERAS_BACKEND=jax $(PY) -m pytest tests -q

notebooks: install
	GAN_QUICK=1 $(PY) -m pytest --nbval-lax --nbval-current-env -q notebooks/*.ipynb

# Full mode: re-run every notebook in place and write figures/.
figures: install
	GAN_QUICK=$(QUICK) $(PY) scripts/run_notebooks.py notebooks/*.ipynb

lab: install
	$(VENV)/bin/jupyter lab notebooks

clean:
	rm -rf $(VENV) build .pytest_cache
