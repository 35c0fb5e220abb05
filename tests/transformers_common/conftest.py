"""transformers' own common tests (`ModelTesterMixin`, `ConfigTester`, `BackboneTesterMixin`,
`ImageProcessingTestMixin`) run against every hfpose model class and both image processors.

The mixins are not in the transformers wheel. `scripts/fetch_transformers_tests.py` (run by `make install`) extracts
the top-level ``tests/*.py`` of the pinned transformers' PyPI source distribution as the package
``transformers_tests``; this conftest puts it on `sys.path`. When it is absent (or `parameterized`, which the mixins
import, is not installed), each test file here collects as one failing test that says how to fix it, and the rest
of the suite runs. The sdist lacks four modules those files import; minimal stand-ins are installed here:

- ``exporters.test_export.ExportTesterMixin`` (a base of `ModelTesterMixin`): an empty mixin, so transformers'
  export tests (dynamo/ONNX/OpenVINO/ExecuTorch/TensorRT drivers, their own test module upstream) do not run here;
  hfpose's ONNX export has its own tests (tests/test_onnx.py).
- ``generation.test_utils.GenerationTesterMixin``: an empty class (no hfpose model generates; `ModelTesterMixin`
  only checks that non-generative models do not inherit it).
- ``fetch_hub_objects_for_ci.url_to_local_path`` (from the repository's ``utils/``, imported by
  `test_image_processing_common`): raises, as hfpose's tests never reach the Hub; the only mixin tests that load
  Hub images compare two backends, and skip themselves for processors with one (hfpose's).
- ``utils.test_configuration_utils.config_common_kwargs``: non-default values for every field of
  `PreTrainedConfig` that a config takes as a keyword (read from the dataclass, not copied), used by
  `ConfigTester.check_config_arguments_init`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import types
from pathlib import Path

import pytest

FETCH_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fetch_transformers_tests.py"
FETCH_HINT = f"run `{Path(sys.executable).name} scripts/fetch_transformers_tests.py` (part of `make install`)"

# Markers the transformers mixins put on some tests; registered so `--strict-markers` accepts them.
TRANSFORMERS_MARKERS = (
    "accelerate_tests",
    "flash_attn_test",
    "flash_attn_3_test",
    "flash_attn_4_test",
    "torch_compile_test",
    "generate",
    "is_training_test",
)


def _find_tests() -> tuple[Path, bool]:
    spec = importlib.util.spec_from_file_location("_hfpose_fetch_transformers_tests", FETCH_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = module.tests_root()
    return root, module.is_fetched(root)


def _config_common_kwargs() -> dict:
    import torch  # noqa: F401  (dtype "float16" is checked as torch.float16)
    from transformers import PreTrainedConfig

    non_default = {
        "output_hidden_states": True,
        "return_dict": False,
        "dtype": "float16",
        "chunk_size_feed_forward": 5,
        "architectures": ["HfposeTestModel"],
        "id2label": {0: "label"},
        "label2id": {"label": "0"},
        "problem_type": "regression",
    }
    fields = {field.name for field in dataclasses.fields(PreTrainedConfig)} - {
        "transformers_version",
        "is_encoder_decoder",
    }
    missing = sorted(fields - set(non_default))
    if missing:  # a newer transformers added a common field: say so rather than test less
        raise RuntimeError(
            f"the config_common_kwargs stand-in (tests/transformers_common/conftest.py) lacks the "
            f"PreTrainedConfig fields {missing}: add a non-default value for each"
        )
    return non_default


def _install_standins() -> None:
    def module(name: str, **attributes) -> None:
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
        for key, value in attributes.items():
            setattr(sys.modules[name], key, value)

    class ExportTesterMixin:
        """Stand-in: transformers' export test module is not in its sdist (see the conftest docstring)."""

    class GenerationTesterMixin:
        """Stand-in: no hfpose model generates."""

    module("transformers_tests.exporters")
    module("transformers_tests.exporters.test_export", ExportTesterMixin=ExportTesterMixin)
    module("transformers_tests.generation")
    module("transformers_tests.generation.test_utils", GenerationTesterMixin=GenerationTesterMixin)

    def url_to_local_path(url):
        """Stand-in: hfpose's tests never reach the Hub (HF_HUB_OFFLINE), so no Hub test image is available."""
        raise FileNotFoundError(f"{url}: Hub test images are not available offline")

    module("fetch_hub_objects_for_ci", url_to_local_path=url_to_local_path)
    module("transformers_tests.utils")
    module("transformers_tests.utils.test_configuration_utils", config_common_kwargs=_config_common_kwargs())


TESTS_ROOT, FETCHED = _find_tests()
# The mixins import `parameterized` (a dev dependency of hfpose, in setup.cfg and the lock).
MISSING = (
    f"transformers' common tests are not in {TESTS_ROOT}; {FETCH_HINT}"
    if not FETCHED
    else None
    if importlib.util.find_spec("parameterized") is not None
    else "transformers' common tests import `parameterized`, a dev dependency: run `make install`"
)
if MISSING is None:
    if str(TESTS_ROOT) not in sys.path:
        sys.path.insert(0, str(TESTS_ROOT))
    try:
        _install_standins()
    except RuntimeError as error:
        MISSING = str(error)


def pytest_configure(config):
    for marker in TRANSFORMERS_MARKERS:
        config.addinivalue_line("markers", f"{marker}: used by transformers' common test mixins")


class _MissingTests(pytest.Item):
    def runtest(self):
        pytest.fail(MISSING, pytrace=False)

    def reportinfo(self):
        return self.path, None, self.name


class _MissingTestsModule(pytest.File):
    def collect(self):
        yield _MissingTests.from_parent(self, name="transformers_common_tests_fetched")


def pytest_pycollect_makemodule(module_path, parent):
    if MISSING is not None:
        return _MissingTestsModule.from_parent(parent, path=module_path)
    return None
