"""Helpers shared by the golden-fixture tests (a plain module: test files must not import `conftest`, whose name
is not unique once sub-directories have their own)."""

from pathlib import Path

import numpy as np


def load_golden(golden_dir: Path, relative: str):
    """np.load a golden npz (no pickle)."""
    return np.load(Path(golden_dir) / relative, allow_pickle=False)


# The fixture whose pixels the `fixture_pixels` tests need: MMPose 1.3.2's top-down affine crops. The models/*.npz
# fixtures of the same generator run record no versions of their own (golden README: same environment, OpenCV 5.0.0).
PIXEL_FIXTURE = "transforms/topdown_affine.npz"


def fixture_provenance(golden_dir: Path, relative: str) -> dict | None:
    """The fixture's `provenance_json` (seed and library versions), or None for files without one."""
    import json

    with load_golden(golden_dir, relative) as z:
        return json.loads(str(z["provenance_json"])) if "provenance_json" in z.files else None


def fixture_opencv_version(golden_dir: Path, relative: str = PIXEL_FIXTURE) -> str | None:
    """OpenCV version (e.g. "5.0.0") recorded in a fixture's provenance; None if the fixture records none."""
    provenance = fixture_provenance(golden_dir, relative) or {}
    return provenance.get("opencv")


def installed_opencv_version() -> str:
    """`cv2.__version__` (e.g. "5.0.0"; the wheel's fourth number, 5.0.0.93, is packaging only)."""
    import cv2

    return cv2.__version__
