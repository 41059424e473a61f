# The README's commands. `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The oldest versions requirements.txt allows (requirements-oldest.txt), for `make unit-oldest`.
OLDEST_VENV ?= .venv-oldest
OLDEST_PY := $(OLDEST_VENV)/bin/python
OLDEST_STAMP := $(OLDEST_VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 3
# pytest-xdist workers for the test targets (each test file, each notebook, stays in one worker).
WORKERS ?= 2
XDIST := -n $(WORKERS) --dist loadfile

.PHONY: install test unit unit-jax unit-oldest notebooks figures student lab bench clean

$(STAMP): requirements.txt requirements-jax.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-jax.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

$(OLDEST_STAMP): requirements-oldest.txt pyproject.toml
	test -x $(OLDEST_PY) || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_PY) -m pip install -q --upgrade pip
	$(OLDEST_PY) -m pip install -q -r requirements-oldest.txt
	$(OLDEST_PY) -m pip install -q --no-deps -e .
	touch $(OLDEST_STAMP)

install: $(STAMP) $(OLDEST_STAMP)

# Unit tests on TensorFlow and on JAX, on the oldest allowed stack, then every notebook in quick mode.
test: install
	$(MAKE) unit unit-jax unit-oldest notebooks

unit: install
	KERAS_BACKEND=tensorflow $(PY) -m pytest tests -q $(XDIST)

# On JAX only the tests whose result can depend on the backend (marked `backend`): the discipline of every
# model the trainer builds, the games, the reference loops, layers, checkpointed seed states, the fused step.
unit-jax: install
	KERAS_BACKEND=jax $(PY) -m pytest tests -q $(XDIST) -m backend

# The tests whose result can depend on the versions (marked `backend` or `versions`) on tensorflow 2.20 +
# keras 3.13.2 (Colab's stack) and every other lower bound of requirements.txt.
unit-oldest: install
	KERAS_BACKEND=tensorflow $(OLDEST_PY) -m pytest tests -q $(XDIST) -m "backend or versions"

# Every notebook in quick mode with nbval (02 on; their figures go to build/nbval-figures/) and, in the same
# pytest-xdist session, notebook 01 twice at once: it must run and write byte-identical PNG files
# (tests/test_figures_reproducible.py).
NBVAL_FIGURES := $(CURDIR)/build/nbval-figures
notebooks: install
	rm -rf $(NBVAL_FIGURES)
	GAN_QUICK=1 GAN_FIGURES_DIR=$(NBVAL_FIGURES) GAN_FIGURES_TWICE=1 $(PY) -m pytest --nbval-lax --nbval-current-env -q \
	  $(XDIST) tests/test_figures_reproducible.py $(filter-out notebooks/01_%,$(wildcard notebooks/*.ipynb))

# Full mode: re-run every notebook in place and write figures/NN_name/. QUICK=1: quick mode, executed
# copies in build/quick/ and figures in figures/quick/ (the stored notebooks and figures stay as they are).
figures: install
	GAN_QUICK=$(QUICK) $(PY) scripts/run_notebooks.py notebooks/*.ipynb

# Student copies of the notebooks: solutions become exercises (scripts/make_student.py).
student: install
	$(PY) scripts/make_student.py notebooks/*.ipynb --out build/student

# Benchmark (benchmarks/bench.py): loop overhead, time to quality, notebook times, the TF tutorial's DCGAN.
# All parts take one to two hours; e.g. make bench BENCH_ARGS="--only loop" or BENCH_ARGS=--quick.
bench: $(STAMP)
	$(PY) -m benchmarks $(BENCH_ARGS)

# JupyterLab on notebooks/ in the user environment only (not .venv-oldest). As root (containers, cloud machines)
# it adds --allow-root, without which JupyterLab refuses to start; LAB_ARGS passes options, e.g.
# make lab LAB_ARGS="--port=8890 --no-browser --ip=0.0.0.0".
LAB_ARGS ?=
LAB_ROOT = $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(LAB_ROOT) $(LAB_ARGS) notebooks

clean:
	rm -rf $(VENV) $(OLDEST_VENV) build .pytest_cache
