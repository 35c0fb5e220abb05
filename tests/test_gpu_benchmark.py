"""The GPU lines of ``make bench`` (`benchmarks/gpu_benchmark.py`), run on the CPU with tiny models, and the on-device
crop against the processor's OpenCV crop.

No timing assertions (the numbers of a CPU run mean nothing). What is tested: every GPU line function produces its
rows on ``device="cpu"``; `grid_sample_crops` equals the processor's ``cv2.warpAffine`` crop within a measured
tolerance; without CUDA, ``make bench``'s worker adds no GPU measurement and says why in one line, and the stand-alone
runner (``benchmarks/gpu.sh``) exits 3 with one line.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from gpu_benchmark import (  # noqa: E402  (benchmarks/ is not part of the package)
    GPU_LINE,
    crop_theta,
    cuda_status,
    gpu_config_for,
    gpu_line,
    grid_sample_crops,
    main,
    processor_matrices,
    time_on_device,
)
from pose_benchmark import BenchConfig, _boxes_for, _coco_records, _decode, _Recorder, run_worker  # noqa: E402

from hfpose.image_processing_topdown import TopDownPoseImageProcessor  # noqa: E402

NO_CUDA = not torch.cuda.is_available()


def test_gpu_line_functions_run_on_cpu_with_tiny_models(data_dir):
    rec = _Recorder(1)
    rows = gpu_line(gpu_config_for(True), rec, _coco_records(str(data_dir)), device="cpu")
    errors = [r for r in rows if r["unit"] == "error"]
    assert not errors, errors
    by_name = {r["name"]: r for r in rows}
    assert all(r["line"] == GPU_LINE for r in rows)
    for dtype in ("float32", "bfloat16"):
        for batch in (1, 4):
            row = by_name[f"gpu/forward/rle/{dtype}/b{batch}"]
            assert row["n"] == 2 and 0 < row["min"] <= row["median"] <= row["max"]
            assert row["crops_per_s"] == pytest.approx(batch / (row["median"] / 1e3))
        assert by_name[f"gpu/forward/ae_hrnet/{dtype}/b1"]["median"] > 0
        e2e = by_name[f"gpu/e2e/rle/{dtype}/flip/per_person"]
        assert e2e["persons"] == 2 and e2e["persons_per_s"] > 0
    for count in (8, 32):
        assert by_name[f"gpu/crop/grid_sample÷opencv_cpu/boxes={count}"]["median"] > 0
        assert by_name[f"gpu/crop/difference/boxes={count}"]["median"] <= 1.0 + 1e-3


def test_time_on_device_counts_runs_on_cpu():
    calls = []
    stats = time_on_device(lambda: calls.append(1), "cpu", repeats=3, warmup=2)
    assert len(calls) == 5 and stats["n"] == 3 and 0 <= stats["min"] <= stats["median"] <= stats["max"]


def test_crop_theta_maps_pixel_centres_like_opencv():
    # Identity warp onto a same-size canvas: theta is the identity in normalized coordinates (align_corners=False).
    theta = crop_theta(np.eye(2, 3)[None], (40, 30), (40, 30))
    np.testing.assert_allclose(theta[0].numpy(), np.eye(2, 3), atol=1e-12)
    # A shift by one pixel: output pixel u reads image pixel u + 1, i.e. 2 / W in normalized units.
    shift = np.array([[[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]])
    np.testing.assert_allclose(crop_theta(shift, (40, 30), (40, 30))[0, 0, 2].item(), 2 / 40, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        crop_theta(np.eye(2, 3), (40, 30), (40, 30))
    with pytest.raises(ValueError, match="singular"):
        crop_theta(np.zeros((1, 2, 3)), (40, 30), (40, 30))


@pytest.mark.parametrize("use_udp", [False, True])
def test_grid_sample_crop_equals_opencv_crop(data_dir, use_udp):
    """`grid_sample_crops` vs the processor's ``cv2.warpAffine`` (bilinear, uint8, constant-0 border), normalized.

    Measured on 6 coco-mini images x 8 boxes (standard warp), in grey levels: the largest difference is 1 (OpenCV's
    15-bit fixed-point bilinear weights round a value the other way), on at most 0.06 % of the values; without the
    rounding to uint8 the difference is up to 0.51 on half of them. Bounds: 1 grey level, 0.5 % of the values.
    """
    processor = TopDownPoseImageProcessor(size={"height": 64, "width": 48}, use_udp=use_udp)
    std = 255 * np.asarray(processor.image_std, np.float64)
    mean = 255 * np.asarray(processor.image_mean, np.float64)
    records = _coco_records(str(data_dir))[:6]
    differing, total = 0, 0
    for index, record in enumerate(records):
        image = np.array(_decode(record["path"]))
        boxes = _boxes_for(record, 8, index)
        if index == 0:  # crops that reach past the image edge read the zero border in both
            height, width = image.shape[:2]
            boxes.append([0.0, 0.0, width * 0.3, height * 0.4])
            boxes.append([width * 0.8, height * 0.7, width * 0.2 - 1, height * 0.3 - 1])
        reference = processor(images=[image], boxes=[boxes], return_tensors="pt")["pixel_values"]
        ours = grid_sample_crops(torch.from_numpy(image), processor_matrices(processor, boxes), (48, 64), mean, std)
        assert ours.shape == reference.shape and ours.dtype == torch.float32
        difference = (ours - reference).abs() * torch.from_numpy(std.astype(np.float32)).view(1, 3, 1, 1)
        assert float(difference.max()) <= 1.0 + 1e-3, (record["path"], float(difference.max()))
        differing += int((difference > 1e-3).sum())
        total += difference.numel()
    assert differing / total <= 5e-3, differing / total


def test_grid_sample_crop_rejects_a_non_rgb_image():
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        grid_sample_crops(torch.zeros(3, 10, 10), np.eye(2, 3)[None], (4, 4))


@pytest.mark.skipif(not NO_CUDA, reason="checks the behaviour of a machine without CUDA")
def test_bench_without_cuda_has_no_gpu_rows_and_says_why_in_one_line(data_dir, capsys):
    usable, reason = cuda_status()
    assert not usable and reason
    cfg = BenchConfig(data_root=str(data_dir), repeats=1, warmup=0, quick=True, lines=[GPU_LINE], compile=False)
    rows = run_worker(cfg)
    gpu_rows = [r for r in rows if r["line"] == GPU_LINE and not r["name"].endswith("/wall")]
    assert [r["name"] for r in gpu_rows] == ["gpu/skipped"]
    assert gpu_rows[0]["reason"] == reason and "median" not in gpu_rows[0]
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("# GPU lines skipped")]
    assert said == [f"# GPU lines skipped: {reason}"]
    assert main(["--output-dir", str(data_dir / "never-written")]) == 3
    assert capsys.readouterr().out.strip().count("\n") == 0  # one line


@pytest.mark.skipif(not NO_CUDA, reason="checks the behaviour of a machine without CUDA")
def test_gpu_script_exits_3_with_one_line_without_cuda(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path / "out")}
    completed = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu.sh")], env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 3, completed.stderr
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu.sh: not run:") and "CUDA" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.gpu
@pytest.mark.skipif(NO_CUDA, reason="needs a CUDA build of torch and a GPU")
def test_gpu_lines_on_cuda(data_dir):
    rows = gpu_line(gpu_config_for(True), _Recorder(1), _coco_records(str(data_dir)), device="cuda")
    assert not [r for r in rows if r["unit"] == "error"]
    assert any(r["name"] == "gpu/forward/rle/bfloat16/b4" for r in rows)
