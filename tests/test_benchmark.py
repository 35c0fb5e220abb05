"""Smoke tests of the benchmark machinery (`benchmarks/pose_benchmark.py`, `make bench`) with tiny settings.

No timing assertions: timings on a shared machine are not testable. What is tested: the timing helpers return
consistent statistics, the OpenCV floor does the same work as the processor (within 1 grey level), ratio rows carry
their targets, the Markdown table has one row per ratio and thread count, and a quick worker run produces every line.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from pose_benchmark import (  # noqa: E402  (benchmarks/ is not part of the package)
    TARGETS,
    BenchConfig,
    _boxes_for,
    _coco_records,
    _decode,
    _Recorder,
    compile_fma_kernel,
    fma_peak_per_core,
    format_table,
    fp32_matmul_peak,
    fp32_peak,
    measure,
    measure_interleaved,
    model_flops,
    opencv_floor,
    run_worker,
)

from hfpose.image_processing_topdown import TopDownPoseImageProcessor  # noqa: E402


def test_measure_statistics_are_ordered_and_counted():
    calls = []
    stats = measure(lambda: calls.append(time.sleep(0.001)), repeats=3, warmup=2)
    assert len(calls) == 5 and stats["n"] == 3
    assert 0.0009 <= stats["min"] <= stats["median"] <= stats["max"]


def test_measure_interleaved_runs_round_robin():
    order = []
    result = measure_interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, repeats=2, warmup=1)
    assert order == ["a", "b"] * 3
    assert set(result) == {"a", "b"} and all(r["n"] == 2 for r in result.values())


def test_measure_interleaved_burst_times_the_last_call_of_each_burst():
    order, durations = [], iter([0.0, 0.02, 0.0, 0.02] * 2)

    def work(name):
        order.append(name)
        time.sleep(next(durations))

    result = measure_interleaved({"a": lambda: work("a"), "b": lambda: work("b")}, repeats=2, warmup=0, burst=2)
    assert order == ["a", "a", "b", "b"] * 2
    assert all(r["min"] >= 0.015 for r in result.values())  # the slow (second) call of each burst was timed


def test_model_flops_counts_two_per_multiply_add_and_peak_is_plausible():
    import torch

    class Conv(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)

        def forward(self, pixel_values):
            return self.conv(pixel_values)

    assert model_flops(Conv(), torch.zeros(2, 3, 10, 12)) == 2 * (2 * 8 * 10 * 12) * (3 * 3 * 3)
    peak = fp32_matmul_peak(quick=True)
    assert 1e8 < peak < 1e14  # FLOP/s of a CPU core or two


@pytest.fixture(scope="module")
def fma_kernel(tmp_path_factory):
    kernel = compile_fma_kernel(tmp_path_factory.mktemp("fma"))
    if kernel is None:
        pytest.skip("no C compiler (cc / $CC) on this machine: the benchmark falls back on torch's kernels")
    return kernel


@pytest.mark.parametrize(("name", "lanes"), [("fma16", 4), ("fma32", 8), ("fma64", 16)])
def test_fma_kernel_computes_its_chains(fma_kernel, name, lanes):
    """The compiled kernel really runs ``iterations`` multiply-adds on every chain and lane: its sum equals the
    closed form of ``a <- a * m + c`` (float64 of the float32 constants), so the compiler cannot have dropped the
    work being timed."""
    m, c = float(np.float32(0.999999)), float(np.float32(1e-6) * np.float32(2.0))  # the kernel's float32 constants
    chains = fma_kernel.fma_chains()
    for iterations in (0, 1, 1000, 100_000):
        power = m**iterations
        expected = lanes * sum(power * m * (i + 1) + c * (1 - power) / (1 - m) for i in range(chains))
        got = getattr(fma_kernel, name)(iterations, 2.0)
        # float32 rounding: at most about half an ulp of a value near 1 per step (2^-24 relative per iteration).
        assert got == pytest.approx(expected, rel=1e-5 + iterations * 2**-24), (name, iterations)
        assert iterations < 100_000 or abs(got - lanes * m * chains * (chains + 1) / 2) > 0.05 * expected  # work done


def test_fma_peak_is_per_core_and_bounds_the_library(fma_kernel):
    import torch

    peak = fma_peak_per_core(fma_kernel, seconds=0.01, repeats=2)
    assert set(peak["by_width"]) == {128, 256, 512} and peak["flops"] == max(peak["by_width"].values())
    assert 1e9 < peak["flops"] < 1e13  # one core: 1 GFLOP/s .. 10 TFLOP/s
    assert peak["by_width"][256] > 1.5 * peak["by_width"][128]  # vector width pays: these are SIMD FMAs
    combined = fp32_peak(torch.get_num_threads(), quick=True)
    assert combined["flops"] >= combined["library"] > 0
    assert combined["flops"] >= combined["per_core"] * torch.get_num_threads() * (1 - 1e-12)


def test_ratio_rows_carry_targets_and_table_lists_both_thread_counts():
    rows = []
    for threads, value in ((1, 0.05), (2, 0.2)):
        rec = _Recorder(threads)
        rec.add(1, "x", {"median": 0.001, "min": 0.0009, "max": 0.002, "n": 3})
        rec.ratio(1, "r", value, 1.0, "preprocess_vs_vitpose")
        rows += rec.rows
    ratio = [r for r in rows if r["unit"] == "ratio"]
    assert [r["met"] for r in ratio] == [True, False]  # bound 0.1, "at most"
    assert ratio[0]["bound"] == TARGETS["preprocess_vs_vitpose"][1]
    assert rows[0]["median"] == pytest.approx(1.0)  # seconds reported as ms
    table = format_table(rows)
    assert "| 1 | r | 0.050 | 0.200 | ≤ 0.1 | yes/NO |" in table
    assert "| 1 | x | 2 | 1.00 | 0.90 | 2.00 | ms |" in table


def test_opencv_floor_matches_processor(data_dir):
    record = _coco_records(str(data_dir))[0]
    image, boxes = _decode(record["path"]), _boxes_for(record, 8, seed=0)
    ours = TopDownPoseImageProcessor(size={"height": 64, "width": 48})(image, boxes=boxes)["pixel_values"]
    floor = opencv_floor(image, boxes, (48, 64)).numpy()
    assert floor.shape == ours.shape == (8, 3, 64, 48)
    difference = np.abs(floor - ours)
    assert difference.max() <= 1 / (255 * 0.224) + 1e-4  # at most one grey level (float32 vs float64 centre)
    assert (difference > 1e-4).mean() < 1e-3


def test_boxes_for_cycles_and_jitters_deterministically(data_dir):
    record = _coco_records(str(data_dir))[0]
    first, second = _boxes_for(record, 5, seed=0), _boxes_for(record, 5, seed=0)
    assert first == second and len(first) == 5
    n = len(record["boxes"])
    assert first[:n] == record["boxes"][:n]


def test_quick_worker_produces_every_line(data_dir, tmp_path):
    # Lines 1, 4, 5 and 7 with tiny settings and no torch.compile (the compiled path is tested in test_inference.py).
    cfg = BenchConfig(
        data_root=str(data_dir),
        repeats=1,
        warmup=0,
        quick=True,
        lines=[1, 4, 5, 7],
        compile=False,
        methods=["rle"],
        e2e_methods=["rle"],
    )
    rows = run_worker(cfg)
    assert not [r for r in rows if r["unit"] == "error"], [r for r in rows if r["unit"] == "error"]
    lines = {r["line"] for r in rows}
    assert {1, 4, 5, 7} <= lines
    ratios = {r["name"]: r for r in rows if r["unit"] == "ratio"}
    for count in (1, 8, 32):
        assert ratios[f"preprocess/hfpose÷vitpose/boxes={count}"]["target"] == "preprocess_vs_vitpose"
        assert ratios[f"preprocess/hfpose÷floor/boxes={count}"]["median"] > 0
    assert "train/step/hfpose÷bare" in ratios
    json.dumps(rows)  # the report is JSON-serializable
    assert format_table(rows).count("\n") > len(ratios)


def test_quick_end_to_end_and_bottom_up_lines_measure_what_they_name(data_dir):
    """Lines 3 and 6, tiny settings, eager only: the "eager" pipeline really runs the eager model (it used to be
    compiled by the pipeline's default), and line 6 reports the flip ratio against its target."""
    from pose_benchmark import _pipeline_for, _topdown_processor, cached_model, cached_optimized

    model = cached_model("rle", quick=True)
    assert _pipeline_for(model, _topdown_processor(model)).forward_model is model
    fast = cached_optimized("rle", quick=True)
    assert _pipeline_for(model, _topdown_processor(model), fast).forward_model is fast
    cfg = BenchConfig(
        data_root=str(data_dir),
        repeats=1,
        warmup=0,
        quick=True,
        lines=[3, 6],
        compile=False,
        methods=["rle"],
        e2e_methods=["rle"],
    )
    rows = run_worker(cfg)
    assert not [r for r in rows if r["unit"] == "error"], [r for r in rows if r["unit"] == "error"]
    ratios = {r["name"]: r for r in rows if r["unit"] == "ratio"}
    assert ratios["e2e/rle/eager/flip/per_person÷F"]["target"] == "e2e_flip_per_person_vs_F"
    fma_ratio = ratios["e2e/rle/eager/flip/per_person÷fma_floor"]
    assert fma_ratio["target"] == "e2e_flip_per_person_vs_fma_floor" and fma_ratio["median"] > 0
    # The physical floor is below the torch.mm reference (its rate is the higher of the two).
    assert (
        0
        < ratios["e2e/rle/fma_floor/flip/per_person÷F"]["median"]
        <= ratios["e2e/rle/mm_floor/flip/per_person÷F"]["median"]
    )
    assert {"peak/fp32_floor_rate", "peak/torch_mm_2048"} <= {r["name"] for r in rows}
    assert ratios["bottomup/eager/flip÷one_pass"]["target"] == "bottomup_flip_vs_one_pass"
    assert ratios["bottomup/eager/flip÷one_pass"]["median"] > ratios["bottomup/eager/noflip÷one_pass"]["median"] > 0


def test_real_topdown_records_are_the_evaluation_boxes(data_dir):
    from real_topdown import real_topdown_records

    from hfpose.evaluation import gt_boxes

    records = real_topdown_records(str(data_dir))
    ann_file = Path(data_dir) / "coco-mini" / "annotations" / "person_keypoints_val2017.json"
    expected = sum(1 for instances in gt_boxes(ann_file).values() for box, _, _ in instances if box[2] > 0 < box[3])
    assert sum(len(r["boxes"]) for r in records) == expected > 0
    assert all(Path(r["path"]).is_file() and r["boxes"] for r in records)
    assert all(w > 0 and h > 0 for r in records for _, _, w, h in r["boxes"])
    assert [r["path"] for r in records] == sorted(r["path"] for r in records)


def test_quick_real_topdown_line_reports_every_variant(data_dir):
    """Line 9 with the tiny model on 3 images, eager and onnxruntime (each in its own subprocess): every row exists
    and is finite and positive (Inductor is left out here: its compile alone takes longer than this test)."""
    import math

    from real_topdown import line_real_topdown

    cfg = BenchConfig(data_root=str(data_dir), quick=True, lines=[9])
    rec = _Recorder(1)
    line_real_topdown(cfg, rec, variants=("eager", "onnxruntime"))
    rows = {r["name"]: r for r in rec.rows}
    for variant in ("eager", "onnxruntime"):
        tag = f"real_topdown/rle/{variant}"
        for name in (
            f"{tag}/F",
            f"{tag}/flip/per_person",
            f"{tag}/noflip/per_person",
            f"{tag}/flip/per_person÷F",
            f"{tag}/noflip/per_person÷fma_floor",
            f"{tag}/first_call",
            f"{tag}/peak_rss",
        ):
            assert math.isfinite(rows[name]["median"]) and rows[name]["median"] > 0, name
        assert rows[f"{tag}/flip/per_person"]["persons"] == 4 and rows[f"{tag}/flip/per_person"]["images"] == 3
        assert rows[f"{tag}/peak_rss"]["median"] >= rows[f"{tag}/peak_rss"]["rss_model_mib"] > 0
    assert rows["real_topdown/rle/onnxruntime/warmup"]["median"] > 0 == rows["real_topdown/rle/eager/warmup"]["median"]


def test_quick_real_bottom_up_line_reports_every_variant(data_dir):
    """Line 8 (`benchmarks/real_bottomup.py`), tiny HRNet over 3 val images at their own sizes: each variant in its
    own process reports images/s, total and first-call seconds, peak RSS, and its one-eager-pass-equivalents, the
    onnxruntime one against its target."""
    import math

    from real_bottomup import LINE, line_real_bottomup

    cfg = BenchConfig(data_root=str(data_dir), quick=True, lines=[LINE])
    rec = _Recorder(1)
    results = line_real_bottomup(cfg, rec)
    assert set(results) == {"eager", "onnxruntime"}
    rows = {row["name"]: row for row in rec.rows}
    for variant in ("eager", "onnxruntime"):
        name = f"real_bottomup/hrnet_w32/{variant}"
        for field_name in ("images_per_s", "total", "first_call", "peak_rss"):
            value = rows[f"{name}/{field_name}"]["median"]
            assert math.isfinite(value) and value > 0, (name, field_name, value)
        assert rows[f"{name}/total"]["median"] >= rows[f"{name}/first_call"]["median"]
        assert rows[f"{name}/peak_rss"]["median"] >= rows[f"{name}/peak_rss"]["rss_after_model_mib"]
        ratio = rows[f"real_bottomup/{variant}/flip÷one_pass_equivalents"]
        assert ratio["unit"] == "ratio" and math.isfinite(ratio["median"]) and ratio["median"] > 0
        assert results[variant]["images"] == 3 and len(results[variant]["shapes"]) == 3
    assert rows["real_bottomup/onnxruntime/flip÷one_pass_equivalents"]["target"] == "real_bottomup_flip_vs_one_pass"
    assert results["onnxruntime"]["compiled_shapes"] >= 1 and results["onnxruntime"]["warmup_s"] > 0
    assert rows["real_bottomup/hrnet_w32/one_pass/per_image"]["median"] > 0
    table = format_table(rec.rows)
    assert "| 8 | real_bottomup/onnxruntime/flip÷one_pass_equivalents |" in table
    assert "| 8 | real_bottomup/eager/flip÷one_pass_equivalents |" in table
