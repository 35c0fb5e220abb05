"""Shared test fixtures: where the golden MMPose fixtures and the bundled data live.

`$HFPOSE_GOLDEN` (default `../shared/golden`) and `$HFPOSE_DATA` (default `../shared/data`), both relative to the
repository root, so the same tests run unchanged against other fixture sets with the same layout.
"""

import os
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
