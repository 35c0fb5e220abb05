"""Shared test fixtures: where the golden MMPose fixtures and the bundled data live.

`$HFPOSE_GOLDEN` (default `../shared/golden`) and `$HFPOSE_DATA` (default `../shared/data`), both relative to the
repository root, so the same tests run unchanged against other fixture sets with the same layout.
"""

import os
import sys
from pathlib import Path

import pytest

# The pipeline compiles RLE/DeepPose by default (hfpose.inference); tests that are not about that path stay eager
# so that each does not pay a compile. tests/test_inference.py covers the optimized path explicitly.
os.environ.setdefault("HFPOSE_OPTIMIZE", "0")
# The training loop's Arrow cache of parsed annotation files (hfpose.data.cache): one per test session, not ~/.cache.
if "HFPOSE_CACHE" not in os.environ:
    import tempfile

    os.environ["HFPOSE_CACHE"] = tempfile.mkdtemp(prefix="hfpose-test-cache-")

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLDEN_DIR = Path(os.environ.get("HFPOSE_GOLDEN", REPO_ROOT / ".." / "shared" / "golden")).resolve()
DATA_DIR = Path(os.environ.get("HFPOSE_DATA", REPO_ROOT / ".." / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    if not GOLDEN_DIR.is_dir():
        pytest.fail(f"golden fixtures not found at {GOLDEN_DIR}; set HFPOSE_GOLDEN")
    return GOLDEN_DIR


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.fail(f"data not found at {DATA_DIR}; set HFPOSE_DATA")
    return DATA_DIR


@pytest.fixture(scope="session")
def coco_mini(data_dir) -> Path:
    return data_dir / "coco-mini"


@pytest.fixture(scope="session")
def mpii_mini(data_dir) -> Path:
    return data_dir / "mpii-mini"


# ------------------------------------------------------------------------------------------------ report header
# A red run on someone else's machine should say what differs: library versions, the fixtures' OpenCV, and the CPU
# kernels (ATen's vector ISA and the one oneDNN dispatches to, read from oneDNN's own verbose banner in-process).
HEADER_PACKAGES = (
    "torch",
    "numpy",
    "opencv-python-headless",
    "opencv-python",
    "onnxruntime",
    "transformers",
    "pycocotools",
    "xtcocotools",
)


def _distribution_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def onednn_isa() -> str:
    """The ISA oneDNN dispatches to (e.g. "Intel AVX2" under ONEDNN_MAX_CPU_ISA=AVX2): one tiny oneDNN convolution
    with verbose mode on, its stdout banner read through a temporary file descriptor (about 10 ms)."""
    import tempfile

    import torch

    if not torch.backends.mkldnn.is_available():
        return "oneDNN not built"
    with tempfile.TemporaryFile() as sink:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(sink.fileno(), 1)
        try:
            with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
                torch.mkldnn_convolution(
                    torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), None, [0, 0], [1, 1], [1, 1], 1
                )
        except RuntimeError as error:  # a build without the op: say so instead of failing the session
            return f"unknown ({error})".splitlines()[0]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        sink.seek(0)
        banner = sink.read().decode(errors="replace")
    isa = [line.split(",isa:", 1)[1].strip() for line in banner.splitlines() if ",isa:" in line]
    return isa[0] if isa else "unknown (no oneDNN banner; ONEDNN_VERBOSE already consumed?)"


def pytest_report_header(config):
    import torch
    from golden_utils import fixture_opencv_version, installed_opencv_version

    versions = ", ".join(f"{name} {v}" for name in HEADER_PACKAGES if (v := _distribution_version(name)))
    limits = (
        ", ".join(
            f"{k}={os.environ[k]}"
            for k in ("ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "OMP_NUM_THREADS", "ONEDNN_DEFAULT_FPMATH_MODE")
            if k in os.environ
        )
        or "none"
    )
    fixture_cv = fixture_opencv_version(GOLDEN_DIR) if GOLDEN_DIR.is_dir() else None
    installed_cv = installed_opencv_version()
    pixels = (
        "fixture_pixels tests valid"
        if fixture_cv and installed_cv == fixture_cv
        else "fixture_pixels tests expected to fail here (deselect with -m 'not fixture_pixels')"
    )
    return [
        f"hfpose versions: {versions}",
        (
            f"CPU kernels: ATen {torch.backends.cpu.get_cpu_capability()}, oneDNN {onednn_isa()}, "
            f"threads {torch.get_num_threads()}; limits: {limits}"
        ),
        f"golden fixtures' OpenCV {fixture_cv or 'unknown'} (provenance), installed {installed_cv}: {pixels}",
    ]
