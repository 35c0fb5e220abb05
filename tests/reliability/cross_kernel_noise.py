"""Measure the float32 noise behind each tolerance of the golden tests, under one CPU-kernel setting per run.

A pytest plugin (not a test module): every ``np.testing.assert_allclose`` / ``torch.testing.assert_close`` call made by
a test is recorded with its call site, its tolerance and the deviation it actually met, into a JSON-lines file. Run
the same tests under several settings, then summarize: for each call site, the largest ``atol`` that each setting
needed (``max(|actual - desired| - rtol * |desired|)``) next to the tolerance written in the test.

    export PYTHONPATH=tests/reliability:src
    HFPOSE_NOISE_LOG=out/avx2.jsonl HFPOSE_NOISE_SETTING=avx2 ONEDNN_MAX_CPU_ISA=AVX2 \\
        python -m pytest -p cross_kernel_noise -m "golden and not slow" -q
    python tests/reliability/cross_kernel_noise.py out/*.jsonl > table.md

Settings that have no environment variable of their own are set by the plugin:
``HFPOSE_NOISE_MKLDNN=0`` (``torch.backends.mkldnn.enabled = False``) and
``HFPOSE_NOISE_ORT_LEVEL=disable|basic|extended|all`` (``graph_optimization_level`` of every onnxruntime session).
The tests' outcome is not changed (a failing assertion is recorded, then raised as before). docs/portability.md
holds the measured table.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
_LOG = os.environ.get("HFPOSE_NOISE_LOG")
_SETTING = os.environ.get("HFPOSE_NOISE_SETTING", "default")
_current_test = {"nodeid": None}
_records: list[dict] = []


def _call_site() -> str:
    """``tests/...py:line`` of the innermost frame in a test file (helpers included), not this module."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if "/tests/" in filename and not filename.endswith("cross_kernel_noise.py"):
            try:
                filename = str(Path(filename).resolve().relative_to(_REPO))
            except ValueError:
                pass
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


def _needed(actual, desired, rtol: float) -> tuple[float, float, float]:
    """(max |a - d|, max(|a - d| - rtol |d|), max |a - d| / |d|) over the finite pairs (NaN pairs are the assertion's
    business; the relative error over |d| > 0)."""
    import numpy as np

    def as_array(value):
        if hasattr(value, "detach"):
            value = value.detach().cpu()
            value = (value.double() if value.is_floating_point() else value).numpy()
        return np.asarray(value, dtype=np.float64)

    a, d = np.broadcast_arrays(as_array(actual), as_array(desired))
    finite = np.isfinite(a) & np.isfinite(d)
    if not finite.any():
        return 0.0, 0.0, 0.0
    difference, scale = np.abs(a - d)[finite], np.abs(d[finite])
    relative = difference[scale > 0] / scale[scale > 0]
    return (
        float(difference.max()),
        float((difference - rtol * scale).max()),
        float(relative.max()) if relative.size else 0.0,
    )


def _record(kind, actual, desired, rtol, atol, passed):
    try:
        max_abs, needed, max_rel = _needed(actual, desired, rtol)
    except Exception:  # noqa: BLE001  (a measurement must never change a test's outcome)
        return
    _records.append(
        {
            "setting": _SETTING,
            "test": _current_test["nodeid"],
            "site": _call_site(),
            "kind": kind,
            "rtol": rtol,
            "atol": atol,
            "max_abs": max_abs,
            "needed_atol": needed,
            "max_rel": max_rel,
            "passed": passed,
        }
    )


def _install() -> None:
    import numpy as np

    original_numpy = np.testing.assert_allclose

    def assert_allclose(actual, desired, rtol=1e-7, atol=0, *args, **kwargs):
        try:
            original_numpy(actual, desired, rtol, atol, *args, **kwargs)
        except AssertionError:
            _record("numpy", actual, desired, rtol, atol, False)
            raise
        _record("numpy", actual, desired, rtol, atol, True)

    np.testing.assert_allclose = assert_allclose

    import torch

    original_torch = torch.testing.assert_close

    def assert_close(actual, expected, *args, rtol=None, atol=None, **kwargs):
        if rtol is None or atol is None:  # torch's defaults for the dtype
            dtype = getattr(actual, "dtype", torch.float32)
            defaults = {torch.float16: (1e-3, 1e-5), torch.bfloat16: (1.6e-2, 1e-5), torch.float64: (1e-7, 1e-7)}
            rtol_default, atol_default = defaults.get(dtype, (1.3e-6, 1e-5))
            rtol = rtol_default if rtol is None else rtol
            atol = atol_default if atol is None else atol
        try:
            original_torch(actual, expected, *args, rtol=rtol, atol=atol, **kwargs)
        except AssertionError:
            _record("torch", actual, expected, rtol, atol, False)
            raise
        _record("torch", actual, expected, rtol, atol, True)

    torch.testing.assert_close = assert_close

    if os.environ.get("HFPOSE_NOISE_MKLDNN") == "0":
        torch.backends.mkldnn.enabled = False
    level = os.environ.get("HFPOSE_NOISE_ORT_LEVEL")
    if level:
        import onnxruntime

        value = {
            "disable": onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[level]
        original_session = onnxruntime.InferenceSession

        def inference_session(path_or_bytes, sess_options=None, *args, **kwargs):
            sess_options = sess_options or onnxruntime.SessionOptions()
            sess_options.graph_optimization_level = value
            return original_session(path_or_bytes, sess_options, *args, **kwargs)

        onnxruntime.InferenceSession = inference_session


def pytest_configure(config):
    _install()


def pytest_runtest_setup(item):
    _current_test["nodeid"] = item.nodeid


def pytest_warning_recorded(warning_message, when, nodeid, location):
    """Tests that measure more than a tolerance say so in a warning ("... vs golden: {...}"): keep its text."""
    text = str(warning_message.message)
    if " vs golden: " in text:
        _records.append({"setting": _SETTING, "test": nodeid, "kind": "warning", "message": text})


def pytest_unconfigure(config):
    if _LOG:
        Path(_LOG).parent.mkdir(parents=True, exist_ok=True)
        with open(_LOG, "a") as handle:
            handle.writelines(json.dumps(record) + "\n" for record in _records)


def summarize(paths: list[str]) -> str:
    """Markdown table: one row per call site and tolerance, with the largest atol each setting needed (for rtol-only
    tolerances, atol 0: the largest relative error), and that worst case over the tolerance."""
    records = [json.loads(line) for path in paths for line in Path(path).read_text().splitlines() if line]
    records = [record for record in records if record["kind"] != "warning"]
    settings = list(dict.fromkeys(record["setting"] for record in records))
    sites: dict[tuple, dict] = {}
    for record in records:  # one row per call site and tolerance (a helper can be called with several)
        key = (record["site"], record["rtol"], record["atol"])
        row = sites.setdefault(key, {"rtol": record["rtol"], "atol": record["atol"], "needed": {}, "failed": False})
        row["failed"] |= not record["passed"]  # an xfail test, or a tolerance that did not hold
        needed = row["needed"]
        value = record["needed_atol"] if record["atol"] else record.get("max_rel", 0.0)
        needed[record["setting"]] = max(needed.get(record["setting"], 0.0), max(value, 0.0))
    lines = [
        "| call site | rtol | atol | " + " | ".join(settings) + " | max / atol |",
        "|---|---|---|" + "---|" * len(settings) + "---|",
    ]
    for (site, _, _), row in sorted(sites.items(), key=lambda item: (item[0][0], item[0][2])):
        worst = max(row["needed"].values())
        bound = row["atol"] or row["rtol"]
        ratio = f"{worst / bound:.2f}" if bound else ("0" if worst == 0 else "inf")
        cells = [f"{row['needed'].get(s, float('nan')):.1e}" if s in row["needed"] else "" for s in settings]
        ratio += " (failed in a run)" if row["failed"] else ""
        lines.append(f"| {site} | {row['rtol']:g} | {row['atol']:g} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(summarize(sys.argv[1:]), end="")
