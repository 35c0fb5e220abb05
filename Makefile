# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
export HF_HUB_OFFLINE ?= 1
export OMP_WAIT_POLICY ?= PASSIVE
HFPOSE_DATA ?= ../shared/data
export HFPOSE_DATA
STAMP := .install.stamp

# The stamp only counts if `hfpose` imports from this checkout: an editable install made from another clone (or a
# removed one) is redone rather than silently testing other code.
HFPOSE_ORIGIN := $(shell $(PYTHON) -c "import importlib.util as u, os; s = u.find_spec('hfpose'); print(os.path.realpath(s.origin) if s and s.origin else '')" 2>/dev/null)
ifneq ($(HFPOSE_ORIGIN),$(realpath $(CURDIR))/src/hfpose/__init__.py)
$(shell rm -f $(STAMP))
endif

.PHONY: install demo test test-all bench clean

# torch==2.13.0 is pinned only where no torch is importable (that spec takes the CPU wheel here);
# an existing torch (e.g. a CUDA build) is left alone.
$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -q "torch==2.13.0"
	$(PYTHON) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PYTHON) scripts/demo.py --data-root $(HFPOSE_DATA)/coco-mini --output-dir outputs/demo

test: $(STAMP)
	$(PYTHON) -m pytest -m "not slow and not gpu" -q -p no:cacheprovider

test-all: $(STAMP)
	$(PYTHON) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PYTHON) scripts/benchmark.py --output-dir outputs/bench

clean:
	rm -rf outputs $(STAMP) src/*.egg-info
