#!/usr/bin/env python
# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""GPU lines of ``make bench`` (line ``GPU_LINE``), and their stand-alone runner for a lent GPU machine.

Every function takes a ``device`` so the same code runs on the CPU in the tests with tiny models. Rows have the format
of ``benchmarks/pose_benchmark.py`` (`_Recorder`); times are medians of ``repeats`` runs after ``warmup`` untimed
ones, measured with CUDA events around the work (and ``torch.cuda.synchronize``) on a CUDA device, with
``time.perf_counter`` elsewhere.

- ``gpu/forward/<model>/<dtype>/b<batch>``: one network forward at batch 1 / 32 / 128 (RLE-R50 at 256x192), and the
  bottom-up AE HRNet-w32 at 512x512, batch 1; float32 and bfloat16 (``model.to(dtype)``, what
  ``pipeline(..., dtype=...)`` runs), with ``crops_per_s``.
- ``gpu/e2e/rle/<dtype>/flip/per_person`` and ``persons_per_s``: ``pipeline("keypoint-detection", device=...)`` end to
  end on coco-mini images with 8 person boxes each, flip test on (the crops are made on the CPU by OpenCV, as in the
  library, and copied to the device).
- ``gpu/crop/...``: the top-down crops made on the device by `grid_sample_crops` (``affine_grid`` + bilinear
  ``grid_sample`` of the processor's own affine matrices) against the processor's OpenCV crops on the CPU plus the
  copy to the device, with their difference in grey levels. This stays a benchmark row: it is not bit-exact with
  MMPose's ``cv2.warpAffine`` crop (so it would move golden results), and without a GPU to measure it on, there is no
  measurement that it wins; the library keeps the OpenCV crop.

``python benchmarks/gpu_benchmark.py --output-dir DIR`` (what ``benchmarks/gpu.sh`` / ``make bench-gpu`` run) needs a
CUDA build of torch and a visible GPU; without them it prints one line saying which is missing and exits with 3.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported
os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

__all__ = [
    "GPU_LINE",
    "GpuConfig",
    "cuda_status",
    "time_on_device",
    "crop_theta",
    "grid_sample_crops",
    "line_gpu_forward",
    "line_gpu_end_to_end",
    "line_gpu_crop",
    "gpu_config_for",
    "gpu_line",
    "run_gpu",
    "main",
]

GPU_LINE = 10


class GpuConfig:
    """What the GPU lines run; ``quick``: tiny models and inputs (the CPU tests), numbers meaningless."""

    def __init__(
        self,
        quick: bool = False,
        batch_sizes: tuple[int, ...] = (1, 32, 128),
        dtypes: tuple[str, ...] = ("float32", "bfloat16"),
        repeats: int = 10,
        warmup: int = 3,
        images: int = 4,
        boxes_per_image: int = 8,
        crop_boxes: tuple[int, ...] = (8, 32),
        deadline: float | None = None,
    ):
        self.quick = quick
        self.batch_sizes = tuple(batch_sizes)
        self.dtypes = tuple(dtypes)
        self.repeats = repeats
        self.warmup = warmup
        self.images = images
        self.boxes_per_image = boxes_per_image
        self.crop_boxes = tuple(crop_boxes)
        self.deadline = deadline  # time.perf_counter() value after which the remaining steps are skipped


def cuda_status() -> tuple[bool, str]:
    """``(usable, reason)``: whether this torch can run on a CUDA GPU, and if not, a one-line reason and the fix."""
    import torch

    if torch.version.cuda is None:
        return False, (
            f"torch {torch.__version__} is a CPU-only build (the locked .venv's wheel): the GPU lines need a CUDA "
            "build of torch in the environment (bring it with the machine; the GPU machine has no network)"
        )
    if not torch.cuda.is_available():
        return False, f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU (torch.cuda.is_available())"
    return True, f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}"


def _stats(samples: list[float]) -> dict:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
        "samples": list(samples),
    }


def time_on_device(fn: Callable[[], object], device, repeats: int, warmup: int = 1) -> dict:
    """Seconds of ``fn()`` on ``device`` (`pose_benchmark.measure`'s statistics dict).

    CUDA: each run is bracketed by two CUDA events on the current stream, after a ``torch.cuda.synchronize`` (work
    queued before does not count), and read after synchronizing (the run's kernels all count, not just their
    launch). Elsewhere: ``time.perf_counter`` around the call (CPU kernels are synchronous).
    """
    import torch

    device = torch.device(device)
    for _ in range(warmup):
        fn()
    samples = []
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(device)
            samples.append(start.elapsed_time(end) / 1e3)
    else:
        for _ in range(repeats):
            begin = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - begin)
    return _stats(samples)


# ---------------------------------------------------------------------------------------------- on-device crop


def crop_theta(matrices, image_size: tuple[int, int], output_size: tuple[int, int]):
    """``affine_grid`` parameters of ``cv2.warpAffine`` crops: float64 ``(N, 2, 3)`` torch tensor.

    ``cv2.warpAffine(image, M, (w, h))`` samples output pixel ``(u, v)`` at image point ``M^-1 (u, v, 1)``, with pixel
    centres at integer coordinates. ``affine_grid(theta, size, align_corners=False)`` gives output pixel ``u`` the
    normalized coordinate ``u_n = (2u + 1) / w - 1``, and ``grid_sample(..., align_corners=False)`` reads normalized
    ``x_n`` at image point ``x = ((x_n + 1) W - 1) / 2``: both put pixel centres at integers, the image's edge at
    ``-0.5`` and ``W - 0.5``, i.e. OpenCV's convention. So ``theta = N_image · M^-1 · N_output^-1`` with
    ``N_s(x) = (2x + 1) / s - 1`` per axis.

    Args:
        matrices: ``(N, 2, 3)`` image px → crop px (the processor's `get_warp_matrix` / `get_udp_warp_matrix`).
        image_size: ``(W, H)`` of the image. output_size: ``(w, h)`` of the crop.
    Raises:
        ValueError: if ``matrices`` is not ``(N, 2, 3)`` or a matrix is singular.
    """
    import numpy as np
    import torch

    matrices = np.asarray(matrices, dtype=np.float64)
    if matrices.ndim != 3 or matrices.shape[1:] != (2, 3):
        raise ValueError(f"matrices must have shape (N, 2, 3) (image px -> crop px); got {matrices.shape}")
    full = np.zeros((len(matrices), 3, 3))
    full[:, :2] = matrices
    full[:, 2, 2] = 1.0
    if np.any(np.abs(np.linalg.det(full)) < 1e-12):
        raise ValueError("a crop matrix is singular (zero-size box?): cannot invert it")

    def normalizer(width: float, height: float) -> np.ndarray:
        return np.array([[2.0 / width, 0.0, 1.0 / width - 1.0], [0.0, 2.0 / height, 1.0 / height - 1.0], [0, 0, 1.0]])

    theta = normalizer(*image_size) @ np.linalg.inv(full) @ np.linalg.inv(normalizer(*output_size))
    return torch.from_numpy(theta[:, :2].copy())


def grid_sample_crops(image, matrices, output_size: tuple[int, int], mean=None, std=None, round_to_uint8=True):
    """Top-down crops of one image made on its device: ``affine_grid`` + bilinear ``grid_sample`` (zeros outside
    the image, as ``cv2.warpAffine``'s constant-0 border), then the processor's normalization.

    Args:
        image (`torch.Tensor` of shape `(H, W, 3)`, uint8 or float): RGB image, on the device the crops are made on.
        matrices: ``(N, 2, 3)`` image px → crop px (numpy or torch), see `crop_theta`.
        output_size: ``(w, h)`` of the crops.
        mean, std: ``(3,)`` per-channel values in grey levels (the processor's ``255 * image_mean``, ``255 *
            image_std``); both ``None``: no normalization (grey levels).
        round_to_uint8: round the interpolated grey levels to integers in [0, 255] first, as OpenCV's uint8 warp does.
    Returns:
        ``(N, 3, h, w)`` float32 tensor on ``image``'s device.
    Raises:
        ValueError: if ``image`` is not ``(H, W, 3)``; see `crop_theta`.

    Differs from ``cv2.warpAffine`` (``INTER_LINEAR``, uint8) by OpenCV's fixed-point bilinear weights (15-bit) and
    rounding; measured in ``tests/test_gpu_benchmark.py``.
    """
    import torch
    import torch.nn.functional as functional

    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be an (H, W, 3) RGB tensor; got shape {tuple(image.shape)}")
    height, width = image.shape[:2]
    theta = crop_theta(
        matrices.cpu().numpy() if isinstance(matrices, torch.Tensor) else matrices, (width, height), output_size
    )
    count = theta.shape[0]
    planes = image.permute(2, 0, 1).unsqueeze(0).float()
    grid = functional.affine_grid(
        theta.to(image.device, torch.float32), [count, 3, output_size[1], output_size[0]], align_corners=False
    )
    crops = functional.grid_sample(
        planes.expand(count, -1, -1, -1), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    if round_to_uint8:
        crops = crops.round().clamp_(0, 255)
    if mean is not None and std is not None:
        mean = torch.as_tensor(mean, dtype=torch.float32, device=image.device).view(1, 3, 1, 1)
        std = torch.as_tensor(std, dtype=torch.float32, device=image.device).view(1, 3, 1, 1)
        crops = (crops - mean) / std
    return crops


def processor_matrices(processor, boxes):
    """The ``(N, 2, 3)`` image px → crop px matrices the top-down processor warps ``boxes`` (COCO xywh) with."""
    import numpy as np

    from hfpose.geometry import get_udp_warp_matrix, get_warp_matrix

    center, scale = processor.boxes_to_center_scale(np.asarray(boxes, dtype=np.float32))
    size = (int(processor.size.width), int(processor.size.height))
    warp = get_udp_warp_matrix if processor.use_udp else get_warp_matrix
    return np.stack([warp(c, s, 0.0, size) for c, s in zip(center, scale)])


# -------------------------------------------------------------------------------------------------------- models


def _tiny_hrnet_kwargs() -> dict:
    return dict(
        stem_channels=8,
        stage1_channels=4,
        stage1_num_blocks=1,
        hidden_sizes=[4, 8, 16, 32],
        num_modules=[1, 1, 1],
        num_blocks=[1, 1, 1],
    )


def build_gpu_models(quick: bool) -> dict:
    """``{"rle": (model, (h, w)), "ae_hrnet": (model, (h, w))}``: random weights, eval mode, on the CPU; ``quick``:
    tiny backbones and inputs."""
    import torch
    from pose_benchmark import build_model
    from transformers import AutoConfig, AutoModelForPoseEstimation

    import hfpose  # noqa: F401  (registers the model types)

    rle = build_model("rle", quick)
    torch.manual_seed(0)
    if quick:
        from hfpose.models.hrnet import HRNetConfig

        config = AutoConfig.for_model(
            "hfpose_ae_hrnet", backbone_config=HRNetConfig(**_tiny_hrnet_kwargs()).to_dict(), input_size=[64, 64]
        )
    else:
        config = AutoConfig.for_model("hfpose_ae_hrnet")
    hrnet = AutoModelForPoseEstimation.from_config(config).eval()
    width, height = rle.config.input_size
    side = int(min(hrnet.config.input_size))
    return {"rle": (rle, (int(height), int(width))), "ae_hrnet": (hrnet, (side, side))}


def _dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def _past_deadline(cfg: GpuConfig) -> bool:
    return cfg.deadline is not None and time.perf_counter() > cfg.deadline


# ----------------------------------------------------------------------------------------------------- the lines


def line_gpu_forward(cfg: GpuConfig, rec, device, models: dict | None = None) -> None:
    """Forward rows: RLE at every ``cfg.batch_sizes``, AE HRNet at batch 1; each dtype of ``cfg.dtypes``."""
    import copy

    import torch

    models = build_gpu_models(cfg.quick) if models is None else models
    plan = [("rle", cfg.batch_sizes), ("ae_hrnet", (1,))]
    for name, batches in plan:
        base, (height, width) = models[name]
        for dtype_name in cfg.dtypes:
            if _past_deadline(cfg):
                rec.add(GPU_LINE, f"gpu/forward/{name}/{dtype_name}/skipped", unit="skipped", value=None)
                continue
            model = copy.deepcopy(base).to(device=device, dtype=_dtype(dtype_name))
            for batch in batches:
                pixel_values = torch.randn(batch, 3, height, width, generator=torch.Generator().manual_seed(batch)).to(
                    device=device, dtype=_dtype(dtype_name)
                )
                with torch.inference_mode():
                    stats = time_on_device(
                        lambda m=model, x=pixel_values: m(pixel_values=x), device, cfg.repeats, cfg.warmup
                    )
                rec.add(
                    GPU_LINE,
                    f"gpu/forward/{name}/{dtype_name}/b{batch}",
                    stats,
                    crops_per_s=batch / stats["median"],
                    input=f"{width}x{height}",
                    device=str(device),
                )
            del model
            if torch.device(device).type == "cuda":
                torch.cuda.empty_cache()


def line_gpu_end_to_end(cfg: GpuConfig, rec, device, records: list[dict], models: dict | None = None) -> None:
    """End-to-end rows: ``pipeline("keypoint-detection", model=..., device=device)`` (RLE, flip test, the processor's
    OpenCV crops) on ``cfg.images`` coco-mini images with ``cfg.boxes_per_image`` boxes each, per dtype."""
    import copy

    import torch
    from pose_benchmark import _boxes_for, _decode, _topdown_processor
    from transformers import pipeline

    if not records:
        rec.add(GPU_LINE, "gpu/e2e/skipped", unit="skipped", value=None, reason="no coco-mini images")
        return
    models = build_gpu_models(cfg.quick) if models is None else models
    base = models["rle"][0]
    chosen = records[: cfg.images]
    images = [_decode(r["path"]) for r in chosen]
    boxes = [_boxes_for(r, cfg.boxes_per_image, 0) for r in chosen]
    for dtype_name in cfg.dtypes:
        if _past_deadline(cfg):
            rec.add(GPU_LINE, f"gpu/e2e/rle/{dtype_name}/skipped", unit="skipped", value=None)
            continue
        model = copy.deepcopy(base).to(_dtype(dtype_name))
        estimator = pipeline("keypoint-detection", model=model, image_processor=_topdown_processor(base), device=device)
        if estimator.model.device.type != torch.device(device).type or estimator.model.dtype != _dtype(dtype_name):
            raise AssertionError(f"pipeline runs on {estimator.model.device} in {estimator.model.dtype}")
        persons = sum(len(image_boxes) for image_boxes in boxes)
        stats = time_on_device(
            lambda e=estimator: e(images, boxes=boxes), device, max(1, cfg.repeats // 3), max(1, cfg.warmup // 2)
        )
        rec.add(
            GPU_LINE,
            f"gpu/e2e/rle/{dtype_name}/flip/per_person",
            {key: (value / persons if key not in ("n", "samples") else value) for key, value in stats.items()},
            persons_per_s=persons / stats["median"],
            persons=persons,
            device=str(device),
        )
        del estimator, model
        if torch.device(device).type == "cuda":
            torch.cuda.empty_cache()


def line_gpu_crop(cfg: GpuConfig, rec, device, records: list[dict]) -> None:
    """Crop rows: the processor's OpenCV crops (CPU) + copy to ``device`` vs `grid_sample_crops` on ``device`` (image
    copied there as uint8), at each ``cfg.crop_boxes`` boxes per image; plus their largest and mean difference."""
    import numpy as np
    import torch
    from pose_benchmark import _boxes_for, _decode

    from hfpose.image_processing_topdown import TopDownPoseImageProcessor

    if not records:
        rec.add(GPU_LINE, "gpu/crop/skipped", unit="skipped", value=None, reason="no coco-mini images")
        return
    size = (48, 64) if cfg.quick else (192, 256)
    processor = TopDownPoseImageProcessor(size={"height": size[1], "width": size[0]})
    mean = 255 * np.asarray(processor.image_mean, np.float64)
    std = 255 * np.asarray(processor.image_std, np.float64)
    record = records[0]
    image = np.array(_decode(record["path"]))  # writable (torch.from_numpy of a read-only array warns)
    for count in cfg.crop_boxes:
        if _past_deadline(cfg):
            rec.add(GPU_LINE, f"gpu/crop/boxes={count}/skipped", unit="skipped", value=None)
            continue
        boxes = _boxes_for(record, count, 0)
        matrices = processor_matrices(processor, boxes)

        def opencv():
            pixels = processor(images=[image], boxes=[boxes], return_tensors="pt")["pixel_values"]
            return pixels.to(device, non_blocking=False)

        def on_device():
            return grid_sample_crops(torch.from_numpy(image).to(device), matrices, size, mean, std)

        reference, ours = opencv().float().cpu(), on_device().float().cpu()
        difference = (ours - reference).abs() * torch.from_numpy(std.astype(np.float32)).view(1, 3, 1, 1)
        stats = {
            "opencv_cpu": time_on_device(opencv, device, cfg.repeats, cfg.warmup),
            "grid_sample": time_on_device(on_device, device, cfg.repeats, cfg.warmup),
        }
        for name, value in stats.items():
            rec.add(GPU_LINE, f"gpu/crop/{name}/boxes={count}", value, device=str(device))
        rec.ratio(
            GPU_LINE,
            f"gpu/crop/grid_sample÷opencv_cpu/boxes={count}",
            stats["grid_sample"]["median"],
            stats["opencv_cpu"]["median"],
            note="< 1: the on-device crop wins (the library keeps OpenCV's: bit-exact with MMPose)",
        )
        rec.add(
            GPU_LINE,
            f"gpu/crop/difference/boxes={count}",
            unit="grey levels",
            value=float(difference.max()),
            mean=float(difference.mean()),
            share_above_1=float((difference > 1.0 + 1e-3).float().mean()),
        )


def gpu_config_for(quick: bool) -> GpuConfig:
    """The default `GpuConfig`, or (``quick``) tiny models, batches 1 and 4, 2 repeats, one image with 2 boxes."""
    if quick:
        return GpuConfig(quick=True, batch_sizes=(1, 4), repeats=2, warmup=1, images=1, boxes_per_image=2)
    return GpuConfig()


def _gpu_config(cfg) -> GpuConfig:
    """A `GpuConfig` as given, or the one for a `pose_benchmark.BenchConfig` (its ``quick`` carries over)."""
    return cfg if isinstance(cfg, GpuConfig) else gpu_config_for(bool(getattr(cfg, "quick", False)))


def gpu_line(cfg, rec, records: list[dict], device=None) -> list[dict]:
    """``make bench``'s GPU line: the three GPU lines on ``device`` (default ``"cuda"``) when `cuda_status` says CUDA
    is usable (or ``device`` is given), else one ``gpu/skipped`` row with the reason and no measurement. ``cfg``: a
    `GpuConfig`, or the worker's `pose_benchmark.BenchConfig` (see `_gpu_config`)."""
    usable, reason = cuda_status()
    if device is None and not usable:
        print(f"# GPU lines skipped: {reason}", flush=True)
        rec.add(GPU_LINE, "gpu/skipped", unit="skipped", value=None, reason=reason)
        return rec.rows
    gpu_cfg = _gpu_config(cfg)
    device = "cuda" if device is None else device
    rec.add(GPU_LINE, "gpu/device", unit="device", value=None, device=str(device), detail=reason if usable else "")
    models = build_gpu_models(gpu_cfg.quick)
    for name, step in (
        ("forward", lambda: line_gpu_forward(gpu_cfg, rec, device, models)),
        ("e2e", lambda: line_gpu_end_to_end(gpu_cfg, rec, device, records, models)),
        ("crop", lambda: line_gpu_crop(gpu_cfg, rec, device, records)),
    ):
        start = time.perf_counter()
        try:
            step()
        except Exception as error:  # noqa: BLE001 - a broken step is reported, the others still run
            rec.add(GPU_LINE, f"gpu/{name}/error", unit="error", value=None, error=f"{type(error).__name__}: {error}")
        rec.add(GPU_LINE, f"gpu/{name}/wall", unit="s", value=time.perf_counter() - start)
    return rec.rows


# ------------------------------------------------------------------------------------------------------ runner


def run_gpu(output_dir: str | os.PathLike, data_root: str, budget_s: float, device=None, quick: bool = False) -> dict:
    """Stand-alone GPU run (``benchmarks/gpu.sh``): the GPU lines within ``budget_s`` seconds (steps that would start
    after it are skipped, each with a row), results written to ``output_dir`` (``gpu_results.json`` / ``.md``)."""
    import torch
    from pose_benchmark import _coco_records, _machine, _Recorder, format_table

    started = time.perf_counter()
    rec = _Recorder(torch.get_num_threads())
    cfg = gpu_config_for(quick)
    cfg.deadline = started + budget_s
    try:
        records = _coco_records(data_root)
    except OSError as error:  # the forward rows need no data; the end-to-end and crop rows say they were skipped
        print(f"gpu_benchmark: no coco-mini under {data_root} ({error}); end-to-end and crop rows skipped", flush=True)
        records = []
    gpu_line(cfg, rec, records, device=device)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    report = {"machine": _machine(), "wall_seconds": time.perf_counter() - started, "rows": rec.rows}
    (output_dir / "gpu_results.json").write_text(json.dumps(report, indent=1))
    where = f"device {device or 'cuda'} ({cuda_status()[1]})"
    header = f"# hfpose GPU lines\n\n{where}; total wall {report['wall_seconds']:.0f} s.\n\n"
    (output_dir / "gpu_results.md").write_text(header + format_table(rec.rows))
    print(header + format_table(rec.rows))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", default=os.environ.get("OUT") or "outputs/bench-gpu")
    parser.add_argument("--data-root", default=os.environ.get("HFPOSE_DATA", "../shared/data"))
    parser.add_argument("--budget", type=float, default=240.0, help="seconds; later steps are skipped")
    parser.add_argument("--device", default=None, help="default: cuda (a CPU run needs --device cpu)")
    parser.add_argument("--quick", action="store_true", help="tiny models (smoke test; numbers meaningless)")
    args = parser.parse_args(argv)
    usable, reason = cuda_status()
    if args.device is None and not usable:
        print(f"gpu_benchmark: not run: {reason}")
        return 3
    run_gpu(args.output_dir, args.data_root, args.budget, device=args.device, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
