"""The cross-kernel noise plugin's arithmetic (tests/reliability/cross_kernel_noise.py): what it records and sums up."""

import json

import numpy as np
import pytest
from cross_kernel_noise import _needed, summarize


def test_needed_atol_and_relative_error_hand_computed():
    max_abs, needed, max_rel = _needed(np.array([1.0, 2.5, np.nan]), np.array([1.1, 2.0, np.nan]), rtol=0.1)
    assert max_abs == pytest.approx(0.5) and max_rel == pytest.approx(0.25)
    assert needed == pytest.approx(0.5 - 0.1 * 2.0)  # max(|a - d| - rtol |d|), NaN pairs ignored


def test_summarize_takes_the_worst_per_setting(tmp_path):
    def record(setting, needed, passed=True, atol=1e-4):
        return {
            "setting": setting,
            "test": "t",
            "site": "tests/x.py:1",
            "kind": "numpy",
            "rtol": 0,
            "atol": atol,
            "max_abs": needed,
            "needed_atol": needed,
            "max_rel": 0.0,
            "passed": passed,
        }

    lines = [record("default", 2e-5), record("default", 4e-5), record("avx2", 1.5e-4, passed=False)]
    lines.append({"setting": "avx2", "test": "t", "kind": "warning", "message": "m vs golden: {}"})
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    table = summarize([str(path)]).splitlines()
    assert table[0] == "| call site | rtol | atol | default | avx2 | max / atol |"
    assert table[2] == "| tests/x.py:1 | 0 | 0.0001 | 4.0e-05 | 1.5e-04 | 1.50 (failed in a run) |"
