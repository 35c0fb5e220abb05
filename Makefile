# Two commands do everything on a fresh machine: `make demo` and `make test`.
#
# Every target runs in `.venv`, built in this checkout from the committed lock file (requirements-lock.txt, exact
# versions of every runtime and dev dependency, compiled by pip-tools from setup.cfg under requirements-pins.txt).
# `make lock` refreshes the lock; `make test-latest` runs the suite against the newest versions setup.cfg allows.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK := requirements-lock.txt
PINS := requirements-pins.txt
STAMP := $(VENV)/.hfpose-installed
export HF_HUB_OFFLINE ?= 1
export OMP_WAIT_POLICY ?= PASSIVE
HFPOSE_DATA ?= ../shared/data
export HFPOSE_DATA
PYTEST := $(PY) -m pytest -q -p no:cacheprovider
# The second CPU instruction set the golden tests must hold on (oneDNN and MKL limited to AVX2, as on a machine
# without AVX-512); CI runs them under it as well as under the default.
ISA_ENV := ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2
LATEST ?= .venv-latest

# The stamp only counts if `hfpose` imports from this checkout (a moved or copied checkout reinstalls).
HFPOSE_ORIGIN := $(shell $(PY) -c "import importlib.util as u, os; s = u.find_spec('hfpose'); print(os.path.realpath(s.origin) if s and s.origin else '')" 2>/dev/null)
ifneq ($(HFPOSE_ORIGIN),$(realpath $(CURDIR))/src/hfpose/__init__.py)
$(shell rm -f $(STAMP))
endif

.PHONY: install system-deps lock demo test test-isa test-all test-latest bench bench-gpu bench-precision lint format clean

# The one system package the tests need: Debian's Chromium, driven headless by Playwright in the demo-page test
# (Playwright's own browser download cannot run here). Installed when missing and apt-get is usable (root).
CHROMIUM ?= /usr/bin/chromium
system-deps:
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "warning: $(CHROMIUM) missing; the demo-page test needs it: sudo apt-get install -y chromium"

# A fresh clone builds .venv from nothing; an existing one is synced to the lock (pip-sync removes anything that is
# not in it, so a package installed by hand cannot make a test pass). torch comes from the lock as 2.13.0+cpu.
# xtcocotools (MMPose's COCOeval, the dev-only reference of the COCO metric tests) has wheels built against numpy 1.x
# only: it is built from its sdist against the locked numpy 2 (about a minute, once).
$(STAMP): $(LOCK) setup.cfg pyproject.toml | system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --no-binary xtcocotools -r $(LOCK)
	$(VENV)/bin/pip-sync -q --pip-args "--no-binary xtcocotools" $(LOCK)
	@$(PY) -c "import xtcocotools.cocoeval" 2>/dev/null || $(PY) -m pip install -q --no-deps --force-reinstall \
		--no-binary xtcocotools "$$(grep -E '^xtcocotools==' $(LOCK))"
	$(PY) -m pip install -q --no-deps -e .
	$(PY) scripts/fetch_transformers_tests.py
	@touch $(STAMP)

install: $(STAMP)

# Refresh the lock (UPGRADE=1 moves every unpinned package to its newest version).
lock: $(STAMP)
	$(VENV)/bin/pip-compile -q --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
		$(if $(UPGRADE),--upgrade) -c $(PINS) -o $(LOCK) setup.cfg

demo: $(STAMP)
	$(PY) scripts/demo.py --data-root $(HFPOSE_DATA)/coco-mini --output-dir outputs/demo

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PYTEST) -m "not slow and not gpu"

# The golden tests again with oneDNN/MKL limited to AVX2 (the kernels of another CPU).
test-isa: $(STAMP)
	$(ISA_ENV) $(PYTEST) -m "golden and not slow and not gpu"

test-all: $(STAMP)
	$(PYTEST)

# The newest versions setup.cfg allows, in a second venv (torch held at 2.13.0 by a constraint: the only CPU wheel
# this machine's index has; anything newer is a multi-GB CUDA build). Tests that need the fixtures' exact OpenCV
# pixels (marker fixture_pixels) are deselected and counted.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	echo "torch==2.13.0" > $(LATEST)/torch-constraint.txt
	$(LATEST)/bin/python -m pip install -q --no-binary xtcocotools -c $(LATEST)/torch-constraint.txt \
		--upgrade --upgrade-strategy eager -e ".[dev]"
	@mkdir -p outputs
	$(LATEST)/bin/python -m pip freeze --exclude-editable > outputs/test-latest-versions.txt
	$(LATEST)/bin/python scripts/fetch_transformers_tests.py
	$(LATEST)/bin/python -m pytest -q -p no:cacheprovider -m "not slow and not gpu and not fixture_pixels"
	@echo "deselected (fixture_pixels: need the fixtures' OpenCV build):" \
		$$($(LATEST)/bin/python -m pytest -q -p no:cacheprovider --collect-only -m "fixture_pixels and not slow and not gpu" | grep -c '::')

bench: $(STAMP)
	$(PY) benchmarks/run.py --output-dir outputs/bench

# The GPU lines alone, under 5 minutes. Needs a CUDA build of torch (the locked .venv has the CPU wheel): point PY at
# an interpreter that has one (`make bench-gpu PY=/path/to/python`); without CUDA it says why in one line and exits 3.
bench-gpu:
	PYTHON=$(PY) benchmarks/gpu.sh

# bfloat16 vs float32 on the golden converted models (keypoint deviation and speed): about 90 s of CPU time at 2
# threads (under a minute on an idle 2-core machine, 2m50 on a shared one).
bench-precision: $(STAMP)
	$(PY) benchmarks/precision.py --output-dir outputs/bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf outputs $(VENV) $(LATEST) *.egg-info src/*.egg-info .install.stamp
