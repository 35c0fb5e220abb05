"""Helpers shared by the golden-fixture tests (a plain module: test files must not import `conftest`, whose name
is not unique once sub-directories have their own)."""

from pathlib import Path

import numpy as np


def load_golden(golden_dir: Path, relative: str):
    """np.load a golden npz (no pickle)."""
    return np.load(Path(golden_dir) / relative, allow_pickle=False)
