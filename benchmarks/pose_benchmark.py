# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Side-by-side speed and memory benchmark of hfpose and the peers a user would pick instead (``make bench``).

Every ratio is hfpose ÷ peer measured **in the same process, interleaved** (A B A B ...), so that load from other
processes on a shared machine hits both sides alike; each number is the median of ``repeats`` timed runs after
``warmup`` untimed ones, with min and max kept. Torch runs with ``OMP_WAIT_POLICY=PASSIVE`` (set before torch is
imported: each thread count runs in its own subprocess) and ``torch.set_num_threads(t)``, OpenCV with
``cv2.setNumThreads(t)``.

Lines:

1. Top-down preprocessing per person crop, 1 / 8 / 32 boxes per image: `TopDownPoseImageProcessor` vs transformers'
   ``VitPoseImageProcessorPil()`` (defaults) vs a bare OpenCV floor (``cv2.warpAffine`` + float32 numpy normalize
   written straight into the NCHW output; see `opencv_floor`).
2. Model forward, batch 1 and 32, every top-down method at its input size, eager (``torch.inference_mode``), eager
   channels-last, and `hfpose.inference.optimize_for_inference` (Inductor + freezing), vs a bare transformers
   ``ResNetBackbone`` (ResNet-50) at the same input: the floor F. The physical floor, measured in the same process:
   ``fma_floor`` = network FLOPs / the core's float32 FMA peak (a C kernel of independent FMA chains compiled here
   with ``cc -O3 -march=native``, times the thread count, or torch's best matmul / oneDNN convolution when higher;
   `fp32_peak`), each network's time given as a fraction of it; ``mm_floor`` = FLOPs / one 2048^2 ``torch.mm``'s
   rate, kept as a second reference (MKL's sgemm runs below the FMA peak).
3. End-to-end `KeypointDetectionPipeline` on coco-mini images with GT boxes (8 per image), flip test on / off, with
   the time split into decode / preprocess / forward / post-process.
4. Decoding per person (regression post-processing, soft-argmax, UDP heatmap + DARK refinement) and
   associative-embedding grouping per image.
5. Training: one data worker's samples/s (`TopDownTrainTransform` incl. image decoding) vs optimizer-step samples/s;
   the hfpose RLE step vs a bare loop (same ResNet-50 + a linear layer + L1 loss, plain Adam, same batch).
6. Bottom-up HRNet-w32 (associative embedding) end to end at 512, flip test on / off, vs one eager network pass.
7. Peak RSS of the top-down pipeline for 32 persons (flip test on).
8. The real bottom-up workload: HRNet-w32 over all coco-mini val images at their own sizes with flip test, first call
   included, eager and onnxruntime (Inductor opt-in), images/s, one-eager-pass-equivalents per image, peak RSS per
   variant in a fresh process (`benchmarks/real_bottomup.py`).
9. The real top-down workload: RLE over every coco-mini val image with its GT boxes, flip on / off, eager /
   onnxruntime / Inductor, each in a fresh process (persons/s, F and FMA-floor ratios, first call, peak RSS); see
   ``benchmarks/real_topdown.py``.
10. GPU (`benchmarks/gpu_benchmark.py`, with lines 2 / 3 or ``--lines 10``): batched forward, end to end and the
   on-device crop, only where ``torch.cuda.is_available()``; otherwise one ``gpu/skipped`` row with the reason.

Usage: ``python benchmarks/run.py --output-dir outputs/bench [--threads 1 2] [--quick]``; writes
``results.json`` and ``results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "BenchConfig",
    "compile_fma_kernel",
    "fma_peak_per_core",
    "fp32_peak",
    "measure",
    "measure_interleaved",
    "opencv_floor",
    "run_worker",
    "run",
    "format_table",
    "main",
]

# Speed targets (hfpose ÷ peer; "max" = at most, "min" = at least).
TARGETS = {
    "preprocess_vs_vitpose": ("max", 0.1),
    "preprocess_vs_floor": ("max", 1.3),
    "e2e_flip_per_person_vs_F": ("max", 1.0),
    "e2e_noflip_per_person_vs_F": ("max", 0.55),
    "e2e_flip_per_person_vs_fma_floor": ("max", 1.35),
    "forward_vs_fma_floor": ("max", 1.3),
    "decode_per_person_vs_F": ("max", 0.05),
    "bottomup_flip_vs_one_pass": ("max", 1.3),
    "real_bottomup_flip_vs_one_pass": ("max", 1.5),
    "grouping_share": ("max", 0.10),
    "train_step_vs_bare": ("max", 1.05),
    "worker_vs_step_samples": ("min", 3.0),
}


def _top_down_methods() -> list[str]:
    from hfpose.models import pose_methods

    return [name for name, method in pose_methods().items() if not method.bottom_up]


@dataclass
class BenchConfig:
    """What to run. ``quick`` uses tiny models and sizes (smoke test only, numbers meaningless)."""

    data_root: str = "../shared/data"
    threads: int = 1
    repeats: int = 5
    warmup: int = 1
    quick: bool = False
    lines: list = field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 7, 8, 9])
    compile: bool = True
    # every top-down method of the method index (hfpose.models.pose_methods), regression first
    methods: list = field(default_factory=lambda: _top_down_methods())
    # Inductor rows (the second backend) for RLE only: the integral models never take Inductor (their golden
    # tolerances), their pipeline path (onnxruntime) is timed as "pipeline" for every method
    compiled_methods: list = field(default_factory=lambda: ["rle"])
    e2e_methods: list = field(default_factory=lambda: ["rle"])
    large_batch: int = 32
    large_batch_repeats: int = 1
    e2e_repeats: int = 3
    chunk_sizes: list = field(default_factory=lambda: [4, 8])  # chunks of 1/2 measured slower (docs/performance.md)
    train_batch: int = 8
    seed: int = 0
    bottomup_noflip_optimized: bool = False  # line 6: also the compiled network without flip (one more compile)


# ------------------------------------------------------------------------------------------------------ timing


def _stats(samples: list[float]) -> dict:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
        "samples": list(samples),
    }


def paired_ratio(a: dict, b: dict) -> float:
    """Median over rounds of ``a_i / b_i`` for two `measure_interleaved` results (robust to load that changes between
    rounds, since both sides of a round ran back to back); ratio of medians when samples are missing."""
    if "samples" in a and "samples" in b and len(a["samples"]) == len(b["samples"]):
        return statistics.median(x / y for x, y in zip(a["samples"], b["samples"]))
    return a["median"] / b["median"]


def measure(fn: Callable[[], object], repeats: int, warmup: int = 1) -> dict:
    """``{"median", "min", "max", "n"}`` seconds of ``fn()`` over ``repeats`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return _stats(samples)


def measure_interleaved(
    fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1, burst: int = 1
) -> dict[str, dict]:
    """`measure` for several functions run round-robin (A B C A B C ...), so load spikes hit all of them.

    ``burst > 1``: within a round each function runs ``burst`` times back to back (A A B B ...) and the round's sample
    is its last run, so every side is timed in its own steady state rather than right after the other side has
    flushed the caches and returned its memory to the OS (which then costs the next side page faults).
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            for _ in range(burst - 1):
                fn()
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: _stats(values) for name, values in samples.items()}


def _scaled(stats: dict, factor: float) -> dict:
    scaled = {key: (value * factor if key not in ("n", "samples") else value) for key, value in stats.items()}
    if "samples" in stats:
        scaled["samples"] = [value * factor for value in stats["samples"]]
    return scaled


class _Recorder:
    def __init__(self, threads: int):
        self.threads = threads
        self.rows: list[dict] = []
        self.stats: dict = {}

    def add(
        self, line: int, name: str, stats: dict | None = None, unit: str = "ms", value: float | None = None, **extra
    ) -> dict:
        row = {"line": line, "name": name, "threads": self.threads, "unit": unit}
        factor = 1e3 if unit == "ms" else 1.0
        if stats is not None:
            row.update(
                median=stats["median"] * factor, min=stats["min"] * factor, max=stats["max"] * factor, n=stats["n"]
            )
            self.stats[(line, name)] = stats
        if value is not None:
            row["median"] = value
        row.update(extra)
        self.rows.append(row)
        print(json.dumps(row), flush=True)
        return row

    def ratio(self, line: int, name: str, numerator, denominator, target: str | None = None, note: str = "") -> dict:
        """Ratio row; numerator / denominator are seconds, or two `measure_interleaved` stats (paired ratio)."""
        if isinstance(numerator, dict) and isinstance(denominator, dict):
            value = paired_ratio(numerator, denominator)
        else:
            numerator = numerator["median"] if isinstance(numerator, dict) else numerator
            denominator = denominator["median"] if isinstance(denominator, dict) else denominator
            value = numerator / denominator if denominator else float("nan")
        row = {"line": line, "name": name, "threads": self.threads, "unit": "ratio", "median": value, "note": note}
        if target is not None:
            kind, bound = TARGETS[target]
            row.update(
                target=target,
                bound=bound,
                kind=kind,
                met=bool(value <= bound) if kind == "max" else bool(value >= bound),
            )
        self.rows.append(row)
        print(json.dumps(row), flush=True)
        return row


# --------------------------------------------------------------------------------------------------------- data


def _coco_records(data_root: str, split: str = "val2017") -> list[dict]:
    """coco-mini images (sorted by file name) with their non-crowd GT person boxes ``[x, y, w, h]``."""
    root = Path(data_root) / "coco-mini"
    with open(root / "annotations" / f"person_keypoints_{split}.json") as handle:
        data = json.load(handle)
    boxes: dict[int, list] = {}
    for ann in data["annotations"]:
        x, y, w, h = ann["bbox"]
        if not ann.get("iscrowd", 0) and w > 1 and h > 1:
            boxes.setdefault(ann["image_id"], []).append([float(x), float(y), float(w), float(h)])
    records = [
        {"path": str(root / split / image["file_name"]), "boxes": boxes[image["id"]]}
        for image in sorted(data["images"], key=lambda i: i["file_name"])
        if image["id"] in boxes
    ]
    return records


def _boxes_for(record: dict, count: int, seed: int) -> list[list[float]]:
    """``count`` boxes: the image's GT boxes cycled, repeats jittered by up to 5 % (fixed seed) so crops differ."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        x, y, w, h = record["boxes"][i % len(record["boxes"])]
        if i >= len(record["boxes"]):
            dx, dy, dw, dh = rng.uniform(-0.05, 0.05, 4)
            x, y, w, h = x + dx * w, y + dy * h, w * (1 + dw), h * (1 + dh)
        out.append([x, y, w, h])
    return out


def _decode(path: str):
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# ------------------------------------------------------------------------------------------------------ line 1


def opencv_floor(
    image, boxes, size=(192, 256), padding: float = 1.25, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)
):
    """The bare OpenCV floor of top-down preprocessing: ``(P, 3, h, w)`` float32 torch tensor.

    Box → centre/scale (aspect fixed) → `get_warp_matrix` → ``cv2.warpAffine`` (bilinear, border 0) →
    ``(x - 255 mean) * (1 / (255 std))`` in float32, written channel by channel into the preallocated NCHW array
    (the fastest plain numpy form we found; ``astype`` + broadcast + ``transpose`` is 4-6x slower). No validation.
    """
    import cv2
    import numpy as np
    import torch

    from hfpose.geometry import get_warp_matrix

    width, height = size
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    center = boxes[:, :2] + boxes[:, 2:] * 0.5
    scale = boxes[:, 2:] * padding
    aspect = width / height
    wide = scale[:, 0] > scale[:, 1] * aspect
    scale = np.where(
        wide[:, None],
        np.stack([scale[:, 0], scale[:, 0] / aspect], 1),
        np.stack([scale[:, 1] * aspect, scale[:, 1]], 1),
    )
    offset = np.asarray(mean, np.float32) * 255
    factor = 1 / (np.asarray(std, np.float32) * 255)
    out = np.empty((len(boxes), 3, height, width), np.float32)
    for i in range(len(boxes)):
        matrix = get_warp_matrix(center[i], scale[i], 0.0, (width, height))
        crop = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR)
        for c, plane in enumerate(cv2.split(crop)):
            np.subtract(plane, offset[c], out=out[i, c], dtype=np.float32)
            out[i, c] *= factor[c]
    return torch.from_numpy(out)


def line_preprocessing(cfg: BenchConfig, rec: _Recorder, records: list[dict]) -> None:
    import numpy as np
    from transformers import VitPoseImageProcessorPil

    from hfpose.image_processing_topdown import TopDownPoseImageProcessor

    size = (48, 64) if cfg.quick else (192, 256)
    ours = TopDownPoseImageProcessor(size={"height": size[1], "width": size[0]})
    vitpose = (
        VitPoseImageProcessorPil()
        if not cfg.quick
        else VitPoseImageProcessorPil(size={"height": size[1], "width": size[0]})
    )
    images = [_decode(r["path"]) for r in records[: (1 if cfg.quick else 3)]]
    for count in (1, 8, 32):
        boxes = [_boxes_for(r, count, cfg.seed) for r in records[: len(images)]]
        crops = count * len(images)
        # Same work, checked once: the floor computes centre/scale in float32, which moves a few bilinear weights
        # across a rounding boundary: at most 1 grey level (1 / (255 * 0.224) after normalization) on < 0.1 %.
        ours_out = ours(images, boxes=boxes, return_tensors="pt")["pixel_values"].numpy()
        floor_out = np.concatenate([opencv_floor(im, b, size).numpy() for im, b in zip(images, boxes)])
        difference = np.abs(ours_out - floor_out)
        if difference.max() > 1 / (255 * 0.224) + 1e-4 or (difference > 1e-4).mean() > 1e-3:
            raise AssertionError(f"floor and hfpose crops differ: max {difference.max()}")
        fns = {
            "hfpose": lambda b=boxes: ours(images, boxes=b, return_tensors="pt"),
            "floor": lambda b=boxes: [opencv_floor(im, bb, size) for im, bb in zip(images, b)],
            "vitpose": lambda b=boxes: vitpose(images, boxes=b, return_tensors="pt"),
        }
        # Cheap line: 4x the repeats (VitPose, the slow side, only every 4th round).
        fast = measure_interleaved({k: fns[k] for k in ("hfpose", "floor")}, repeats=4 * cfg.repeats, warmup=cfg.warmup)
        # VitPose rounds: each processor twice in a row, the second call timed (steady state of each side, as when
        # a user runs one of them over many images); the first call, right after the other side, is reported too.
        slow = measure_interleaved({k: fns[k] for k in ("hfpose", "vitpose")}, repeats=cfg.repeats, warmup=0, burst=2)
        cold = measure_interleaved({k: fns[k] for k in ("hfpose", "vitpose")}, repeats=cfg.repeats, warmup=0)
        result = {**fast, "vitpose": slow["vitpose"]}
        for name, stats in result.items():
            rec.add(1, f"preprocess/{name}/boxes={count}", _scaled(stats, 1 / crops), note="per crop")
        rec.ratio(
            1,
            f"preprocess/hfpose÷vitpose/boxes={count}",
            slow["hfpose"],
            slow["vitpose"],
            "preprocess_vs_vitpose",
            note="median of per-round ratios, each side timed on its 2nd call in a row",
        )
        rec.ratio(
            1,
            f"preprocess/hfpose÷vitpose/boxes={count}/right_after_peer",
            cold["hfpose"],
            cold["vitpose"],
            note="median of per-round ratios, each side timed right after the other (A B A B ...)",
        )
        rec.ratio(
            1,
            f"preprocess/hfpose÷floor/boxes={count}",
            fast["hfpose"],
            fast["floor"],
            "preprocess_vs_floor",
            note="median of per-round ratios",
        )


# ------------------------------------------------------------------------------------------------------ line 2


_PEAK_CACHE: dict = {}

# Independent FMA chains, one function per vector width (16, 32, 64 bytes: SSE, AVX2, AVX-512). Each iteration runs
# CHAINS vector multiply-adds with no dependency between them: 12 chains hide the 4-cycle FMA latency of 2 FMA ports
# (needs >= 8) and, with the two constants, fit in the 16 vector registers of AVX2 (32 with AVX-512). A width the
# machine lacks is split by the compiler (and spills): slower, so the best width wins in `fma_peak_per_core`.
_FMA_SOURCE = r"""
#define CHAINS 12
#define KERNEL(NAME, BYTES)                                                                              \
    typedef float NAME##_vector __attribute__((vector_size(BYTES)));                                      \
    float NAME(long iterations, float seed) {                                                             \
        NAME##_vector acc[CHAINS], m, c;                                                                  \
        for (int j = 0; j < (int)(BYTES / sizeof(float)); j++) { m[j] = 0.999999f; c[j] = 1e-6f * seed; } \
        for (int i = 0; i < CHAINS; i++) acc[i] = m * (float)(i + 1);                                       \
        for (long n = 0; n < iterations; n++) {                                                            \
            _Pragma("GCC unroll 12")                                                                      \
            for (int i = 0; i < CHAINS; i++) acc[i] = acc[i] * m + c;                                       \
        }                                                                                                 \
        float total = 0.0f;                                                                               \
        for (int i = 0; i < CHAINS; i++)                                                                  \
            for (int j = 0; j < (int)(BYTES / sizeof(float)); j++) total += acc[i][j];                    \
        return total;                                                                                     \
    }
KERNEL(fma16, 16)
KERNEL(fma32, 32)
KERNEL(fma64, 64)
int fma_chains(void) { return CHAINS; }
"""


def compile_fma_kernel(directory: str | os.PathLike | None = None, compiler: str | None = None):
    """Compile the FMA kernel with the machine's C compiler (``$CC`` or ``cc``; ``-O3 -march=native
    -ffp-contract=fast``) into a shared library and load it with `ctypes`.

    Returns:
        The `ctypes.CDLL`, with ``fma16`` / ``fma32`` / ``fma64(iterations, seed) -> float`` (``fma_chains()`` vector
        FMAs of 16 / 32 / 64 bytes per iteration) or ``None`` when no compiler is found or the build fails (the
        benchmark then falls back on the library kernels, `library_peak`).
    """
    import ctypes
    import shutil
    import tempfile

    compiler = compiler or os.environ.get("CC") or "cc"
    if shutil.which(compiler) is None:
        return None
    directory = Path(directory or tempfile.mkdtemp(prefix="hfpose_fma_"))
    source, library = directory / "fma.c", directory / "fma.so"
    source.write_text(_FMA_SOURCE)
    command = [compiler, "-O3", "-march=native", "-ffp-contract=fast", "-shared", "-fPIC", str(source), "-o"]
    try:
        subprocess.run(command + [str(library)], check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        return None
    kernel = ctypes.CDLL(str(library))
    for name in ("fma16", "fma32", "fma64"):
        getattr(kernel, name).argtypes = [ctypes.c_long, ctypes.c_float]
        getattr(kernel, name).restype = ctypes.c_float
    kernel.fma_chains.restype = ctypes.c_int
    return kernel


def fma_peak_per_core(kernel=None, seconds: float = 0.05, repeats: int = 5) -> dict:
    """Peak float32 FLOP/s of one core: the best over vector widths and ``repeats`` runs of the FMA kernel
    (`compile_fma_kernel`), each run sized to take about ``seconds``; 2 FLOP per lane per FMA.

    Returns:
        ``{"flops": best FLOP/s, "width_bits": vector width of the best, "by_width": {bits: FLOP/s}}``, or ``{}``
        without a compiler.
    """
    kernel = kernel or compile_fma_kernel()
    if kernel is None:
        return {}
    chains = kernel.fma_chains()
    by_width = {}
    for name, lanes in (("fma16", 4), ("fma32", 8), ("fma64", 16)):
        function = getattr(kernel, name)
        iterations = 10_000
        while True:  # calibrate: about `seconds` per run
            start = time.perf_counter()
            function(iterations, 1.0)
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / 4 or iterations > 1 << 40:
                break
            iterations *= 4
        iterations = max(1, int(iterations * seconds / max(elapsed, 1e-9)))
        best = min(measure(lambda f=function, n=iterations: f(n, 1.0), repeats=repeats, warmup=1)["samples"])
        by_width[lanes * 32] = 2 * lanes * chains * iterations / best
    width = max(by_width, key=by_width.get)
    return {"flops": by_width[width], "width_bits": width, "by_width": by_width}


def fp32_matmul_peak(quick: bool = False) -> float:
    """Float32 FLOP/s of one ``torch.mm`` of two 2048 x 2048 matrices (256 with ``quick``), best of 5, at this
    process's thread count: the second reference (``mm_floor`` rows). Not a floor: MKL's sgemm runs below the core's
    FMA peak (about 0.8x on the Intel reference machine, lower on AMD, where oneDNN's convolutions beat it).
    Cached per process (one thread count each)."""
    import torch

    if ("mm", quick) not in _PEAK_CACHE:
        n = 256 if quick else 2048
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(2):
            torch.mm(a, b)
        best = min(measure(lambda: torch.mm(a, b), repeats=5, warmup=0)["samples"])
        _PEAK_CACHE[("mm", quick)] = 2 * n**3 / best
    return _PEAK_CACHE[("mm", quick)]


def library_peak(quick: bool = False) -> float:
    """Best float32 FLOP/s of torch's own kernels at this process's thread count: ``torch.mm`` (square, 512-2048)
    and oneDNN convolutions (3x3 and 1x1, 64-256 channels, 56x56) under ``torch.inference_mode``, best of 3 each."""
    import torch

    if ("library", quick) not in _PEAK_CACHE:
        best = 0.0
        with torch.inference_mode():
            for n in (128, 256) if quick else (512, 1024, 2048):
                a, b = torch.randn(n, n), torch.randn(n, n)
                seconds = min(measure(lambda: torch.mm(a, b), repeats=3, warmup=1)["samples"])
                best = max(best, 2 * n**3 / seconds)
            for channels, kernel, size in ((32, 3, 28),) if quick else ((64, 3, 56), (256, 1, 56), (128, 3, 28)):
                conv = torch.nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False).eval()
                x = torch.randn(1, channels, size, size)
                seconds = min(measure(lambda: conv(x), repeats=3, warmup=1)["samples"])
                best = max(best, 2 * channels * channels * kernel * kernel * size * size / seconds)
        _PEAK_CACHE[("library", quick)] = best
    return _PEAK_CACHE[("library", quick)]


def fp32_peak(threads: int, quick: bool = False) -> dict:
    """The physical floor's rate, measured in this process: the higher of (one core's FMA peak, `fma_peak_per_core`)
    x ``threads`` and torch's best kernel (`library_peak`) at ``threads``. Cached per process.

    Returns:
        ``{"flops": FLOP/s, "source": "fma_kernel" | "library", "per_core": FMA FLOP/s of one core or None,
        "width_bits": ..., "library": FLOP/s}``.
    """
    if ("peak", quick) not in _PEAK_CACHE:
        fma = fma_peak_per_core(seconds=0.02 if quick else 0.05, repeats=3 if quick else 5)
        library = library_peak(quick)
        kernel = fma.get("flops", 0.0) * threads
        _PEAK_CACHE[("peak", quick)] = {
            "flops": max(kernel, library),
            "source": "fma_kernel" if kernel >= library else "library",
            "per_core": fma.get("flops"),
            "width_bits": fma.get("width_bits"),
            "library": library,
        }
    return _PEAK_CACHE[("peak", quick)]


def model_flops(model, pixel_values) -> float:
    """Floating-point operations (2 per multiply-add) of one ``model(pixel_values=...)`` call, counted by
    `torch.utils.flop_counter.FlopCounterMode` (convolutions, matmuls; element-wise ops are not counted)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(pixel_values=pixel_values)
    return float(counter.get_total_flops())


def record_peak(rec: _Recorder, line: int, quick: bool) -> dict:
    """Add the rows of the floor's rates measured in this process (`fp32_peak`, `fp32_matmul_peak`); returns
    `fp32_peak`'s dict."""
    peak = fp32_peak(rec.threads, quick)
    if peak["per_core"] is not None:
        rec.add(
            line,
            "peak/fma_kernel_per_core",
            unit="GFLOP/s",
            value=peak["per_core"] / 1e9,
            width_bits=peak["width_bits"],
            note="independent float32 FMA chains, C compiled here with -O3 -march=native, one core",
        )
    rec.add(line, "peak/library_best", unit="GFLOP/s", value=peak["library"] / 1e9, note="best torch.mm / oneDNN conv")
    rec.add(
        line,
        "peak/torch_mm_2048",
        unit="GFLOP/s",
        value=fp32_matmul_peak(quick) / 1e9,
        note="one torch.mm of 2048x2048 (256 with --quick): the mm_floor reference",
    )
    rec.add(
        line,
        "peak/fp32_floor_rate",
        unit="GFLOP/s",
        value=peak["flops"] / 1e9,
        source=peak["source"],
        note=f"max(FMA per core x {rec.threads} thread(s), library best): the fma_floor rows",
    )
    return peak


def _record_floor(rec: _Recorder, line: int, name: str, flops: float, quick: bool) -> dict:
    """Add the ``GFLOP``, ``fma_floor`` (FLOPs / the core's FMA peak x threads, `fp32_peak`: the physical floor) and
    ``mm_floor`` (FLOPs / one 2048^2 ``torch.mm``'s rate: a second reference) rows for one forward; returns both
    floors in seconds, ``{"fma": s, "mm": s}``."""
    peak = fp32_peak(rec.threads, quick)["flops"]
    mm = fp32_matmul_peak(quick)
    rec.add(line, f"{name}/gflop", unit="GFLOP", value=flops / 1e9, note="FlopCounterMode, 2 per multiply-add")
    rec.add(
        line,
        f"{name}/fma_floor",
        unit="ms",
        value=flops / peak * 1e3,
        note=f"GFLOP / fp32 peak ({peak / 1e9:.0f} GFLOP/s at {rec.threads} thread(s), same process)",
    )
    rec.add(
        line,
        f"{name}/mm_floor",
        unit="ms",
        value=flops / mm * 1e3,
        note=f"GFLOP / torch.mm 2048^2 rate ({mm / 1e9:.0f} GFLOP/s at {rec.threads} thread(s), same process)",
    )
    return {"fma": flops / peak, "mm": flops / mm}


def _tiny_backbone_config():
    from transformers import ResNetConfig

    return ResNetConfig(
        embedding_size=8,
        hidden_sizes=[8, 16, 24, 32],
        depths=[1, 1, 1, 1],
        layer_type="bottleneck",
        out_features=["stage4"],
    )


_MODELS: dict = {}
_OPTIMIZED: dict = {}


def cached_model(method: str, quick: bool = False):
    """`build_model`, built once per worker (the optimized wrapper of `cached_optimized` shares it)."""
    if (method, quick) not in _MODELS:
        _MODELS[(method, quick)] = build_model(method, quick)
    return _MODELS[(method, quick)]


def cached_optimized(method: str, quick: bool = False):
    """`optimize_for_inference` of `cached_model`, so each worker compiles a method once (per input shape)."""
    from hfpose.inference import optimize_for_inference

    if (method, quick) not in _OPTIMIZED:
        _OPTIMIZED[(method, quick)] = optimize_for_inference(cached_model(method, quick))
    return _OPTIMIZED[(method, quick)]


def _pipeline_forward(model):
    """The network callable `KeypointDetectionPipeline.forward_model` would run for ``model`` on CPU (the model
    itself where `should_optimize` says eager, or where the pipeline's backend is Inductor, timed as ``optimized``)."""
    from hfpose.inference import default_options, optimize_for_inference, should_optimize

    if not should_optimize(model):
        return model
    options = default_options(model)
    if options.get("backend") != "onnxruntime":
        return model
    return optimize_for_inference(model, **options)


def build_model(method: str, quick: bool = False):
    """Random-weight hfpose model with its default (headline) config; ``quick``: tiny ResNet and input."""
    import torch
    from transformers import AutoConfig, AutoModelForPoseEstimation

    import hfpose  # noqa: F401  (registers the model types)

    torch.manual_seed(0)
    kwargs = {}
    if quick:
        kwargs = {"backbone_config": _tiny_backbone_config().to_dict(), "input_size": [64, 64]}
        if method in ("rle", "deeppose"):
            kwargs["input_size"] = [48, 64]
    config = AutoConfig.for_model(f"hfpose_{method}", **kwargs)
    return AutoModelForPoseEstimation.from_config(config).eval()


def build_floor(quick: bool = False):
    """The floor F: a bare transformers ``ResNetBackbone`` (ResNet-50, last stage), random weights."""
    import torch
    from transformers import ResNetBackbone, ResNetConfig

    torch.manual_seed(0)
    config = _tiny_backbone_config() if quick else ResNetConfig(out_features=["stage4"])
    return ResNetBackbone(config).eval()


def _input_hw(model) -> tuple[int, int]:
    width, height = model.config.input_size
    return int(height), int(width)


def line_forward(cfg: BenchConfig, rec: _Recorder, floors: dict) -> dict:
    """Returns ``{method: {"eager_b1": s, "optimized_b1": s}}`` and fills ``floors[(h, w)]`` with F in seconds."""
    import torch

    summary = {}
    large_floors: dict = {}
    floor = build_floor(cfg.quick)
    for method in cfg.methods:
        model = cached_model(method, cfg.quick)
        height, width = _input_hw(model)
        x1 = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(cfg.seed))
        fns = {"F": lambda: floor(x1), "eager": lambda: model(pixel_values=x1)}
        if method == cfg.methods[0]:  # channels-last: no gain measured in four sessions; kept as one check
            model_cl = build_model(method, cfg.quick).to(memory_format=torch.channels_last)
            x1_cl = x1.contiguous(memory_format=torch.channels_last)
            fns["eager_channels_last"] = lambda: model_cl(pixel_values=x1_cl)
        optimized = None
        if cfg.compile and method in cfg.compiled_methods:
            optimized = cached_optimized(method, cfg.quick)
            start = time.perf_counter()
            optimized(x1)
            rec.add(
                2,
                f"forward/{method}/compile_warmup",
                unit="s",
                value=time.perf_counter() - start,
                note="one-off, per input shape; amortized below",
            )
            with torch.inference_mode():
                reference = model(pixel_values=x1)
            rec.add(
                2,
                f"forward/{method}/optimized_max_abs_diff_keypoints",
                unit="abs",
                value=float((optimized(x1).keypoints - reference.keypoints).abs().max()),
                note="normalized coordinates, vs eager",
            )
            fns["optimized"] = lambda: optimized(x1)
        # The pipeline's own forward (`should_optimize` / `default_options`: onnxruntime when installed) is the
        # headline of the forward-vs-FMA-floor target; the Inductor rows above stay as the second backend.
        pipeline_forward = _pipeline_forward(model) if cfg.compile else None
        if pipeline_forward is not None and pipeline_forward is not model:
            start = time.perf_counter()
            pipeline_forward(x1)
            rec.add(
                2,
                f"forward/{method}/pipeline_warmup",
                unit="s",
                value=time.perf_counter() - start,
                note=f"one-off ({pipeline_forward.backend} export + session)",
            )
            fns["pipeline"] = lambda: pipeline_forward(x1)
        with torch.inference_mode():
            result = measure_interleaved(fns, repeats=cfg.repeats, warmup=cfg.warmup)
        floors[(height, width)] = result["F"]["median"]
        floor_seconds = _record_floor(rec, 2, f"forward/{method}", model_flops(model, x1), cfg.quick)
        for kind, what in (("fma", "the core's FMA peak"), ("mm", "the torch.mm 2048^2 rate")):
            rec.ratio(
                2,
                f"forward/{method}/{kind}_floor÷F/b1",
                floor_seconds[kind],
                result["F"]["median"],
                note=f"one crop's FLOPs / {what}, in units of F",
            )
        for name, stats in result.items():
            rec.add(2, f"forward/{method}/{name}/b1", stats, input=f"{width}x{height}")
        headline = next(name for name in ("pipeline", "optimized", "eager") if name in fns)
        for name in fns:
            if name != "F":
                rec.ratio(2, f"forward/{method}/{name}÷F/b1", result[name], result["F"])
                rec.ratio(
                    2,
                    f"forward/{method}/{name}÷fma_floor/b1",
                    result[name],
                    floor_seconds["fma"],
                    "forward_vs_fma_floor" if name == headline else None,
                    note="time / (FLOPs / fp32 FMA peak)",
                )
        summary[method] = {
            "eager_b1": result["eager"]["median"],
            "optimized_b1": result.get("optimized", result["eager"])["median"],
            "F": result["F"]["median"],
        }
        if optimized is not None:
            calls = 100
            amortized = result["optimized"]["median"] + optimized.stats.compile_seconds / calls
            rec.add(2, f"forward/{method}/optimized_amortized_{calls}_calls/b1", unit="ms", value=amortized * 1e3)
        # Batch size per forward of the optimized path: 8 crops run as chunks of 1, 2, 4 or 8 (one graph each).
        if optimized is not None and method == cfg.compiled_methods[0]:
            from hfpose.inference import OptimizedPoseModel

            x8 = torch.randn(8, 3, height, width, generator=torch.Generator().manual_seed(cfg.seed))
            chunked = {}
            for chunk in cfg.chunk_sizes:
                runner = optimized if chunk == optimized.batch_size else OptimizedPoseModel(model, batch_size=chunk)
                start = time.perf_counter()
                runner(x8)
                rec.add(
                    2,
                    f"forward/{method}/optimized_chunk{chunk}/compile_warmup",
                    unit="s",
                    value=time.perf_counter() - start,
                )
                chunked[f"chunk{chunk}"] = lambda r=runner: r(x8)
            chunked["eager_chunk1"] = lambda: [model(pixel_values=x8[i : i + 1]) for i in range(8)]
            chunked["eager_chunk8"] = lambda: model(pixel_values=x8)
            with torch.inference_mode():
                result_c = measure_interleaved(chunked, repeats=cfg.repeats, warmup=1)
            for name, stats in result_c.items():
                rec.add(
                    2,
                    f"forward/{method}/optimized_{name}/8_crops"
                    if not name.startswith("eager")
                    else f"forward/{method}/{name}/8_crops",
                    _scaled(stats, 1 / 8),
                    note="per image",
                )
            best = min((n for n in result_c if n.startswith("chunk")), key=lambda n: result_c[n]["median"])
            rec.ratio(
                2,
                f"forward/{method}/optimized_{best}÷eager_chunk1/8_crops",
                result_c[best],
                result_c["eager_chunk1"],
                note=f"fastest chunk size here: {best}",
            )

        # Large batch, per image (compiled methods only, to keep `make bench` under 15 minutes); the floor at batch 32
        # is measured once per input size.
        if method not in cfg.compiled_methods:
            continue
        batch = cfg.large_batch
        xb = torch.randn(batch, 3, height, width, generator=torch.Generator().manual_seed(cfg.seed))
        fns_b = {"eager": lambda: model(pixel_values=xb)}
        if (height, width) not in large_floors:
            fns_b["F"] = lambda: floor(xb)
        if optimized is not None:
            fns_b["optimized"] = lambda: optimized(xb)
        with torch.inference_mode():
            result_b = measure_interleaved(fns_b, repeats=cfg.large_batch_repeats, warmup=1)
        if "F" in result_b:
            large_floors[(height, width)] = result_b.pop("F")
            rec.add(
                2,
                f"forward/F_{width}x{height}/b{batch}",
                _scaled(large_floors[(height, width)], 1 / batch),
                note="per image",
            )
        for name, stats in result_b.items():
            rec.add(2, f"forward/{method}/{name}/b{batch}", _scaled(stats, 1 / batch), note="per image")
        rec.ratio(
            2,
            f"forward/{method}/eager÷F/b{batch}",
            result_b["eager"]["median"],
            large_floors[(height, width)]["median"],
        )
        rec.ratio(
            2,
            f"forward/{method}/eager_b{batch}÷eager_b1/per_image",
            result_b["eager"]["median"] / batch,
            result["eager"]["median"],
            note="> 1: batching costs per image on this CPU",
        )
    return summary


# ------------------------------------------------------------------------------------------------------ line 3


def _pipeline_for(model, processor, forward=None):
    """The keypoint-detection pipeline on ``model``, running ``forward`` (default: ``model`` itself, i.e. eager,
    whatever `should_optimize` would choose) as its network, so that each variant measures what its name says."""
    from hfpose.pipelines.keypoint_detection import KeypointDetectionPipeline

    pipe = KeypointDetectionPipeline(model=model, image_processor=processor)
    pipe._forward_model = model if forward is None else forward
    pipe._forward_model_source = pipe.model
    return pipe


def _topdown_processor(model):
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor

    width, height = model.config.input_size
    return TopDownPoseImageProcessor(
        size={"height": int(height), "width": int(width)},
        flip_indices=list(model.config.flip_indices),
        keypoint_names=[model.config.id2label[i] for i in range(model.config.num_labels)],
    )


def _split_pipeline_run(pipe, paths: list[str], boxes: list, flip_test: bool, times: dict) -> int:
    """One pass of the pipeline's own stages over the images, accumulating the seconds of each stage."""
    import torch

    persons = 0
    for path, image_boxes in zip(paths, boxes):
        start = time.perf_counter()
        image = _decode(path)
        t1 = time.perf_counter()
        model_inputs = pipe.preprocess({"image": image, "boxes": image_boxes})
        t2 = time.perf_counter()
        with torch.inference_mode():
            model_outputs = pipe._forward(model_inputs, flip_test=flip_test)
        t3 = time.perf_counter()
        result = pipe.postprocess(model_outputs)
        t4 = time.perf_counter()
        persons += len(result)
        for key, value in (
            ("decode", t1 - start),
            ("preprocess", t2 - t1),
            ("forward", t3 - t2),
            ("postprocess", t4 - t3),
        ):
            times[key] += value
    return persons


def line_end_to_end(cfg: BenchConfig, rec: _Recorder, records: list[dict], floors: dict) -> None:
    import torch

    count = 8
    chosen = records[: (1 if cfg.quick else 2)]
    paths = [r["path"] for r in chosen]
    boxes = [_boxes_for(r, count, cfg.seed) for r in chosen]
    for method in cfg.e2e_methods:
        model = cached_model(method, cfg.quick)
        processor = _topdown_processor(model)
        variants = {"eager": _pipeline_for(model, processor)}
        if cfg.compile:
            # "optimized" = what the pipeline runs by default (`default_options`: onnxruntime when installed);
            # "inductor" = torch.compile + freezing (HFPOSE_OPTIMIZE=inductor), timed alongside when not the default.
            from hfpose.inference import default_options, optimize_for_inference

            options = default_options(model)
            networks = {
                "optimized": optimize_for_inference(model, **options)
                if options
                else cached_optimized(method, cfg.quick)
            }
            if options.get("backend") == "onnxruntime":
                networks["inductor"] = cached_optimized(method, cfg.quick)
            for name, network_fn in networks.items():
                pipe = _pipeline_for(model, processor, network_fn)
                start = time.perf_counter()
                with torch.inference_mode():
                    pipe._forward(pipe.preprocess({"image": _decode(paths[0]), "boxes": boxes[0][:1]}), flip_test=False)
                rec.add(
                    3,
                    f"e2e/{method}/{name}/warmup",
                    unit="s",
                    value=time.perf_counter() - start,
                    backend=network_fn.backend,
                    note="one-off first call (export + session, or compile of the "
                    "remainder graph; line 2 compiled Inductor's chunk graph already)",
                )
                variants[name] = pipe
        height, width = _input_hw(model)
        floor = build_floor(cfg.quick)
        x1 = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(cfg.seed))

        def floor_run():
            with torch.inference_mode():
                floor(x1)

        for flip_test in (True, False):
            splits = {name: {k: 0.0 for k in ("decode", "preprocess", "forward", "postprocess")} for name in variants}
            persons = {name: 0 for name in variants}

            def runner(name):
                def run():
                    persons[name] += _split_pipeline_run(variants[name], paths, boxes, flip_test, splits[name])

                return run

            fns = {name: runner(name) for name in variants}
            fns["F"] = floor_run  # F in the same rounds: per-person ratios are paired
            result = measure_interleaved(fns, repeats=cfg.e2e_repeats, warmup=cfg.warmup)
            floor_stats = result.pop("F")
            floor_seconds = floor_stats["median"]
            flip = "flip" if flip_test else "noflip"
            views = 2 if flip_test else 1
            flops = model_flops(model, x1) * views
            arithmetic = flops / fp32_peak(rec.threads, cfg.quick)["flops"]
            rec.ratio(
                3,
                f"e2e/{method}/fma_floor/{flip}/per_person÷F",
                arithmetic,
                floor_seconds,
                note="network FLOPs per person (x2 with flip test) / the core's fp32 FMA peak: the physical floor",
            )
            rec.ratio(
                3,
                f"e2e/{method}/mm_floor/{flip}/per_person÷F",
                flops / fp32_matmul_peak(cfg.quick),
                floor_seconds,
                note="network FLOPs per person (x2 with flip test) / the torch.mm 2048^2 rate (a reference)",
            )
            total_persons = count * len(paths)
            rec.add(3, f"e2e/{method}/F/{flip}_rounds", floor_stats, input=f"{width}x{height}")
            for name, stats in result.items():
                per_person = _scaled(stats, 1 / total_persons)
                rec.add(
                    3,
                    f"e2e/{method}/{name}/{flip}/per_person",
                    per_person,
                    persons_per_s=total_persons / stats["median"],
                )
                runs = cfg.e2e_repeats + cfg.warmup
                total = sum(splits[name].values())
                rec.add(
                    3,
                    f"e2e/{method}/{name}/{flip}/split",
                    unit="share",
                    value=None,
                    **{k: round(v / total, 4) for k, v in splits[name].items()},
                    decode_ms_per_image=splits[name]["decode"] / runs / len(paths) * 1e3,
                )
                rec.ratio(
                    3,
                    f"e2e/{method}/{name}/{flip}/per_person÷F",
                    per_person,
                    floor_stats,
                    ("e2e_flip_per_person_vs_F" if flip_test else "e2e_noflip_per_person_vs_F")
                    if name == ("optimized" if cfg.compile else "eager")
                    else None,
                    note=f"F = bare ResNet-50 b1 at {width}x{height}: {floor_seconds * 1e3:.1f} ms",
                )
                rec.ratio(
                    3,
                    f"e2e/{method}/{name}/{flip}/per_person÷fma_floor",
                    per_person["median"],
                    arithmetic,
                    "e2e_flip_per_person_vs_fma_floor"
                    if flip_test and name == ("optimized" if cfg.compile else "eager")
                    else None,
                    note="end-to-end time per person / (its network FLOPs / fp32 FMA peak)",
                )


# ------------------------------------------------------------------------------------------------------ line 4


def line_decoding(cfg: BenchConfig, rec: _Recorder, floors: dict) -> None:
    import numpy as np
    import torch

    from hfpose.codecs.udp_heatmap import UDPHeatmap
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor
    from hfpose.keypoints import COCO_KEYPOINTS
    from hfpose.models.integral_utils import flat_softmax, soft_argmax

    rng = np.random.default_rng(cfg.seed)
    persons, k = 32, 17
    boxes = [[[10.0 + i, 20.0, 100.0, 200.0] for i in range(persons)]]
    processor = TopDownPoseImageProcessor(flip_indices=list(COCO_KEYPOINTS.flip_indices))
    keypoints = torch.from_numpy(rng.uniform(0, 1, (persons, k, 2)).astype(np.float32))
    sigma = torch.from_numpy(rng.uniform(0, 1, (persons, k, 2)).astype(np.float32))
    outputs = {"keypoints": keypoints, "sigma": sigma}
    flipped = {"keypoints": keypoints.flip(0), "sigma": sigma}
    logits = torch.from_numpy(rng.normal(size=(persons, k, 64, 64)).astype(np.float32))
    udp = UDPHeatmap((192, 256), (48, 64))
    heatmaps = rng.uniform(0, 1, (persons, k, 64, 48)).astype(np.float32)

    def regression():
        processor.post_process_pose_estimation(outputs, boxes, outputs_flipped=flipped)

    def integral():
        with torch.inference_mode():
            soft_argmax(flat_softmax(logits))

    def udp_decode():
        for person in range(persons):
            udp.decode(heatmaps[person])

    result = measure_interleaved(
        {"regression": regression, "integral": integral, "udp_heatmap": udp_decode},
        repeats=cfg.repeats,
        warmup=cfg.warmup,
    )
    floor = floors.get((256, 192)) or next(iter(floors.values()), None)
    for name, stats in result.items():
        per_person = _scaled(stats, 1 / persons)
        rec.add(4, f"decode/{name}/per_person", per_person)
        if floor:
            rec.ratio(
                4,
                f"decode/{name}/per_person÷F",
                per_person["median"],
                floor,
                "decode_per_person_vs_F" if name != "udp_heatmap" else None,
                note="regression: flip-averaged post-processing to image px; integral: softmax + soft-argmax",
            )


# ------------------------------------------------------------------------------------------------------ line 5


def line_training(cfg: BenchConfig, rec: _Recorder) -> None:
    import numpy as np
    import torch

    from hfpose.data import TopDownTrainTransform, load_coco_keypoints

    dataset = load_coco_keypoints(Path(cfg.data_root) / "coco-mini", split="train2017", mode="topdown")
    size = (48, 64) if cfg.quick else (192, 256)
    transform = TopDownTrainTransform(input_size=size, seed=cfg.seed)
    rows = [dataset[i] for i in range(min(len(dataset), 8 if cfg.quick else 48))]
    worker = measure(
        lambda: [transform.transform_example(row) for row in rows], repeats=max(2, cfg.repeats // 2), warmup=1
    )
    worker_samples_per_s = len(rows) / worker["median"]
    rec.add(
        5,
        "train/data_worker",
        _scaled(worker, 1 / len(rows)),
        note="per sample: decode + augment + crop + targets",
        samples_per_s=worker_samples_per_s,
    )

    batch = 2 if cfg.quick else cfg.train_batch
    samples = [transform.transform_example(rows[i % len(rows)]) for i in range(batch)]
    pixel_values = torch.from_numpy(np.stack([s["pixel_values"] for s in samples]))
    labels = torch.from_numpy(np.stack([s["labels"] for s in samples]))
    weights = torch.from_numpy(np.stack([s["label_weights"] for s in samples]))

    model = build_model("rle", cfg.quick).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    bare_backbone = build_floor(cfg.quick).train()
    channels = bare_backbone.config.hidden_sizes[-1]
    bare_head = torch.nn.Linear(channels, labels.shape[1] * 2)
    bare_optimizer = torch.optim.Adam(list(bare_backbone.parameters()) + list(bare_head.parameters()), lr=1e-4)

    def hfpose_step():
        loss = model(pixel_values=pixel_values, labels=labels, label_weights=weights).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def bare_step():
        features = bare_backbone(pixel_values).feature_maps[-1].mean((2, 3))
        prediction = bare_head(features).view(batch, -1, 2)
        loss = ((prediction - labels).abs() * weights[..., None]).mean()
        loss.backward()
        bare_optimizer.step()
        bare_optimizer.zero_grad(set_to_none=True)

    # At least 6 interleaved rounds: one step is 1-2 s and other processes share the machine; with 2 rounds the ratio
    # moved between 0.98 and 1.18 from run to run (6 rounds, same settings: 1.01 and 0.98).
    result = measure_interleaved(
        {"hfpose_rle": hfpose_step, "bare": bare_step}, repeats=2 if cfg.quick else max(6, cfg.repeats), warmup=1
    )
    for name, stats in result.items():
        rec.add(5, f"train/step/{name}/batch={batch}", stats, samples_per_s=batch / stats["median"])
    rec.ratio(
        5,
        "train/step/hfpose÷bare",
        result["hfpose_rle"],
        result["bare"],
        "train_step_vs_bare",
        note="RLE (ResNet-50 + linear + RealNVP RLE loss) vs ResNet-50 + linear + L1",
    )
    rec.ratio(
        5,
        "train/worker_samples_per_s÷step_samples_per_s",
        worker_samples_per_s,
        batch / result["hfpose_rle"]["median"],
        "worker_vs_step_samples",
    )


# ------------------------------------------------------------------------------------------------------ line 6


def _same_size_paths(processor, records: list[dict], count: int) -> list[str]:
    """``count`` image paths (in record order) whose bottom-up input has the same size, so a compiled network needs one
    graph per batch size; falls back to the first ``count`` images."""
    by_shape: dict = {}
    for record in records[:40]:
        shape = tuple(processor(images=[_decode(record["path"])], return_tensors="pt")["pixel_values"].shape)
        by_shape.setdefault(shape, []).append(record["path"])
        if len(by_shape[shape]) == count:
            return by_shape[shape]
    return [r["path"] for r in records[:count]]


def line_bottomup(cfg: BenchConfig, rec: _Recorder, records: list[dict]) -> dict:
    """Bottom-up AE HRNet-w32 end to end per image, flip test on and off, against one eager network pass.

    Variants: ``eager`` (the network called once per view, as MMPose does) and, with ``cfg.compile``, ``optimized``
    (what the pipeline runs by default: `optimize_for_inference` with `default_options`, the image and its mirror
    image in one compiled forward). Compile warm-up is measured on its own row and amortized over 100 images.
    """
    import torch
    from transformers import AutoConfig, AutoModelForPoseEstimation

    from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
    from hfpose.inference import default_options, optimize_for_inference

    torch.manual_seed(0)
    if cfg.quick:
        config = AutoConfig.for_model("hfpose_ae_hrnet", input_size=[128, 128])
        processor = BottomUpPoseImageProcessor(input_size=128)
    else:
        config = AutoConfig.for_model("hfpose_ae_hrnet")
        processor = BottomUpPoseImageProcessor()
    model = AutoModelForPoseEstimation.from_config(config).eval()
    paths = _same_size_paths(processor, records, 1 if cfg.quick else 2)
    inputs_cache = {path: processor(images=[_decode(path)], return_tensors="pt") for path in paths}
    networks = {"eager": None}
    warmups = {}
    if cfg.compile:
        # "optimized" is what the pipeline runs by default (`default_options`: onnxruntime when installed, one export
        # for every input size); "inductor" is torch.compile + freezing (HFPOSE_OPTIMIZE=inductor), timed alongside.
        options = default_options(model)
        candidates = {"optimized": options}
        # Inductor (a 30-45 s compile per input size) at 1 thread only, to keep `make bench` under 15 minutes
        if options.get("backend") == "onnxruntime" and cfg.threads == 1:
            candidates["inductor"] = {"batch_size": None, "max_shapes": 8}
        pixel_values = inputs_cache[paths[0]]["pixel_values"]
        for name, kwargs in candidates.items():
            network_fn = optimize_for_inference(model, **kwargs)
            start = time.perf_counter()
            network_fn(pixel_values=torch.cat([pixel_values, pixel_values.flip(-1)]))
            warmups[name] = time.perf_counter() - start
            backend = kwargs.get("backend", "inductor")
            rec.add(
                6,
                f"bottomup/hrnet_w32/{name}/warmup/flip",
                unit="s",
                value=warmups[name],
                backend=backend,
                note="one-off: "
                + (
                    "ONNX export + session + first run, every input size"
                    if backend == "onnxruntime"
                    else "compile + first run, per input size (batch 2)"
                ),
            )
            networks[name] = network_fn
    # Optimized without flip would compile a second graph (batch 1, about 45 s on one core) for a row without a
    # target: run it with `--bottomup-noflip-optimized`. Measured once: 0.66x one eager pass (docs/performance.md).
    variants = [("eager", True), ("eager", False)] + [(name, True) for name in networks if name != "eager"]
    if cfg.compile and cfg.bottomup_noflip_optimized:
        variants.append(("optimized", False))
    splits = {key: {"decode": 0.0, "preprocess": 0.0, "network": 0.0, "grouping": 0.0} for key in variants}

    def network(name: str, pixel_values, flip_test: bool):
        if name == "eager":
            outputs = model(pixel_values=pixel_values)
            return outputs, (model(pixel_values=pixel_values.flip(-1)) if flip_test else None)
        if not flip_test:
            return networks[name](pixel_values=pixel_values), None
        from hfpose.pipelines.keypoint_detection import _split_outputs

        return _split_outputs(networks[name](pixel_values=torch.cat([pixel_values, pixel_values.flip(-1)])), 1)

    def run(name: str, flip_test: bool):
        times = splits[(name, flip_test)]
        for path in paths:
            start = time.perf_counter()
            image = _decode(path)
            t1 = time.perf_counter()
            inputs = processor(images=[image], return_tensors="pt")
            t2 = time.perf_counter()
            with torch.inference_mode():
                outputs, flipped = network(name, inputs["pixel_values"], flip_test)
            t3 = time.perf_counter()
            processor.post_process_pose_estimation(
                outputs, base_size=inputs.get("base_size"), scale=inputs["scale"], outputs_flipped=flipped
            )
            t4 = time.perf_counter()
            for key, value in (
                ("decode", t1 - start),
                ("preprocess", t2 - t1),
                ("network", t3 - t2),
                ("grouping", t4 - t3),
            ):
                times[key] += value

    def one_pass():
        with torch.inference_mode():
            for path in paths:
                model(pixel_values=inputs_cache[path]["pixel_values"])

    fns = {"one_pass": one_pass}
    for name, flip in variants:
        fns[f"{name}/{'flip' if flip else 'noflip'}"] = lambda n=name, f=flip: run(n, f)
    repeats = max(2, cfg.repeats // 2)
    result = measure_interleaved(fns, repeats=repeats, warmup=1)
    shape = str(tuple(inputs_cache[paths[0]]["pixel_values"].shape[-2:]))
    for name, stats in result.items():
        rec.add(6, f"bottomup/hrnet_w32/{name}/per_image", _scaled(stats, 1 / len(paths)), input=shape)
    for name, flip in variants:
        total = sum(splits[(name, flip)].values())
        rec.add(
            6,
            f"bottomup/hrnet_w32/{name}/{'flip' if flip else 'noflip'}/split",
            unit="share",
            **{k: round(v / total, 4) for k, v in splits[(name, flip)].items()},
        )
    headline = "optimized" if cfg.compile else "eager"
    view = inputs_cache[paths[0]]["pixel_values"]
    floor_view = _record_floor(rec, 6, "bottomup/hrnet_w32/one_view", model_flops(model, view), cfg.quick)
    for kind, what in (("fma", "fp32 FMA peak"), ("mm", "torch.mm 2048^2 rate")):
        rec.ratio(
            6,
            f"bottomup/{kind}_floor/flip÷one_pass",
            2 * floor_view[kind],
            result["one_pass"]["median"] / len(paths),
            note=f"2 views x network FLOPs / {what}, in units of one eager pass",
        )
    rec.ratio(
        6,
        "bottomup/one_pass÷fma_floor",
        result["one_pass"]["median"] / len(paths),
        floor_view["fma"],
        note="one eager pass per image / (one view's FLOPs / fp32 FMA peak)",
    )
    for name, flip in variants:
        key = f"{name}/{'flip' if flip else 'noflip'}"
        rec.ratio(
            6,
            f"bottomup/{key}÷one_pass",
            result[key],
            result["one_pass"],
            "bottomup_flip_vs_one_pass" if (name == headline and flip) else None,
        )
    calls = 100
    for name, warmup in warmups.items():
        per_image = result[f"{name}/flip"]["median"] / len(paths)
        rec.add(
            6,
            f"bottomup/hrnet_w32/{name}/flip/amortized_{calls}_images",
            unit="ms",
            value=(per_image + warmup / calls) * 1e3,
            note=f"median + flip warm-up / {calls} (one input size)",
        )
        rec.ratio(
            6,
            f"bottomup/{name}_amortized_{calls}/flip÷one_pass",
            per_image + warmup / calls,
            result["one_pass"]["median"] / len(paths),
        )
    share = splits[(headline, True)]["grouping"] / sum(splits[(headline, True)].values())
    rec.ratio(
        4,
        "decode/ae_grouping/share_of_bottomup_flip",
        share,
        1.0,
        "grouping_share",
        note="aggregation + AE grouping + refinement, per image",
    )
    runs = repeats + 1
    rec.add(
        4,
        "decode/ae_grouping/per_image",
        unit="ms",
        value=splits[(headline, True)]["grouping"] / runs / len(paths) * 1e3,
    )
    return {}


# ------------------------------------------------------------------------------------------------------ line 7


def _read_status(field_name: str) -> float | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024  # kB -> MiB
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM (peak RSS) to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def memory_probe(variant: str, cfg: BenchConfig) -> dict:
    """Peak RSS of a fresh process running the RLE pipeline on one image with 32 boxes, flip test on.

    Returns ``{"rss_before_mib", "peak_mib", "peak_increase_mib", "reset"}``: RSS after building the model and one
    warm-up call (which compiles, for ``variant == "optimized"``), and the peak (VmHWM) during the measured call.
    """
    import torch

    records = _coco_records(cfg.data_root)
    record = records[0]
    path, boxes = record["path"], _boxes_for(record, 32, cfg.seed)
    model = build_model("rle", cfg.quick)
    forward = None
    if variant == "optimized":
        from hfpose.inference import default_options, optimize_for_inference

        forward = optimize_for_inference(model, **default_options(model))  # the pipeline's default
    pipe = _pipeline_for(model, _topdown_processor(model), forward)
    pipe(path, boxes=boxes[:4], flip_test=True)  # warm-up (and compile) outside the measured window
    before = _read_status("VmRSS")
    reset = _reset_peak_rss()
    with torch.inference_mode():
        pipe(path, boxes=boxes, flip_test=True)
    peak = _read_status("VmHWM")
    return {
        "rss_before_mib": before,
        "peak_mib": peak,
        "reset": reset,
        "peak_increase_mib": (peak - before) if (peak and before and reset) else None,
    }


def line_memory(cfg: BenchConfig, rec: _Recorder, records: list[dict]) -> None:
    """Each variant in its own subprocess (same thread settings), so that earlier lines do not pollute the peak; at
    1 thread only (line 9 gives every variant's peak RSS at both thread counts)."""
    if cfg.threads != 1 and not cfg.quick:
        return
    variants = ["eager"] + (["optimized"] if cfg.compile else [])
    for name in variants:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--memory-probe",
            name,
            "--config",
            json.dumps(asdict(cfg)),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
        if completed.returncode != 0:
            raise RuntimeError(f"memory probe {name} failed: {completed.stderr[-2000:]}")
        probe = json.loads(completed.stdout.strip().splitlines()[-1])
        rec.add(
            7,
            f"memory/rle/{name}/32_persons_flip",
            unit="MiB",
            value=probe["peak_mib"],
            rss_before_mib=probe["rss_before_mib"],
            peak_increase_mib=probe["peak_increase_mib"],
            note="fresh process: peak RSS (VmHWM) during the call; rss_before = model + warm-up",
        )


# ------------------------------------------------------------------------------------------------------ line 9


def _line_real_topdown(cfg: BenchConfig, rec: _Recorder) -> None:
    from real_topdown import line_real_topdown  # benchmarks/real_topdown.py

    line_real_topdown(cfg, rec)


# --------------------------------------------------------------------------------------------------------- driver


def run_worker(cfg: BenchConfig) -> list[dict]:
    """Run the selected lines in this process at ``cfg.threads`` threads; returns the rows."""
    import cv2
    import torch

    torch.set_num_threads(cfg.threads)
    cv2.setNumThreads(cfg.threads)
    rec = _Recorder(cfg.threads)
    records = _coco_records(cfg.data_root)
    floors: dict = {}
    started = time.perf_counter()
    steps = {
        1: lambda: line_preprocessing(cfg, rec, records),
        2: lambda: line_forward(cfg, rec, floors),
        3: lambda: line_end_to_end(cfg, rec, records, floors),
        4: lambda: line_decoding(cfg, rec, floors),
        5: lambda: line_training(cfg, rec),
        6: lambda: line_bottomup(cfg, rec, records),
        7: lambda: line_memory(cfg, rec, records),
        8: lambda: __import__("real_bottomup").line_real_bottomup(cfg, rec),  # benchmarks/real_bottomup.py
        9: lambda: _line_real_topdown(cfg, rec),
    }
    # GPU line (benchmarks/gpu_benchmark.py): with the forward or end-to-end lines, or alone; measured only where
    # torch.cuda.is_available(), else one "gpu/skipped" row says why.
    from gpu_benchmark import GPU_LINE, gpu_line

    steps[GPU_LINE] = lambda: gpu_line(cfg, rec, records)
    selected = sorted(set(cfg.lines) | ({GPU_LINE} if set(cfg.lines) & {2, 3} else set()))
    if set(cfg.lines) & {2, 3, 6, 9}:  # the floor's rates, measured once in this process before the networks run
        start = time.perf_counter()
        record_peak(rec, 2, cfg.quick)
        rec.add(2, "peak/wall", unit="s", value=time.perf_counter() - start)
    for line in selected:
        start = time.perf_counter()
        try:
            steps[line]()
        except Exception as error:  # noqa: BLE001 - a broken line is reported, the others still run
            rec.add(line, f"line{line}/error", unit="error", value=None, error=f"{type(error).__name__}: {error}")
        rec.add(line, f"line{line}/wall", unit="s", value=time.perf_counter() - start)
    rec.add(0, "worker/wall", unit="s", value=time.perf_counter() - started)
    return rec.rows


def _machine() -> dict:
    import torch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor(),
    }
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import transformers

        info["transformers"] = transformers.__version__
        import cv2

        info["opencv"] = cv2.__version__
    except ImportError:
        pass
    return info


def _fmt(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ratio" or unit == "share":
        return f"{value:.3f}"
    return f"{value:.2f}"


def format_table(rows: list[dict]) -> str:
    """Markdown: the ratio rows against their targets (1 and 2 threads side by side), then every measurement."""
    ratio_rows = [r for r in rows if r.get("unit") == "ratio"]
    threads = sorted({r["threads"] for r in rows})
    names = list(dict.fromkeys(r["name"] for r in ratio_rows))
    lines = [
        "| line | ratio (hfpose ÷ peer) | "
        + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in threads)
        + " | target | met |",
        "|---|---|" + "---|" * len(threads) + "---|---|",
    ]
    for name in names:
        cells, target, met = [], "", []
        line = ""
        for t in threads:
            row = next((r for r in ratio_rows if r["name"] == name and r["threads"] == t), None)
            cells.append(_fmt(row["median"], "ratio") if row else "-")
            if row:
                line = row["line"]
                if "bound" in row:
                    target = f"{'≤' if row['kind'] == 'max' else '≥'} {row['bound']}"
                    met.append("yes" if row["met"] else "NO")
        lines.append(f"| {line} | {name} | " + " | ".join(cells) + f" | {target} | {'/'.join(met)} |")
    lines += [
        "",
        "| line | measurement | threads | median | min | max | unit | extra |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("unit") == "ratio":
            continue
        extra = {
            k: v for k, v in r.items() if k not in ("line", "name", "threads", "unit", "median", "min", "max", "n")
        }
        extra_text = ", ".join(f"{k}={round(v, 4) if isinstance(v, float) else v}" for k, v in extra.items())
        lines.append(
            f"| {r['line']} | {r['name']} | {r['threads']} | {_fmt(r.get('median'), r['unit'])} | "
            f"{_fmt(r.get('min'), r['unit'])} | {_fmt(r.get('max'), r['unit'])} | {r['unit']} | {extra_text} |"
        )
    return "\n".join(lines) + "\n"


def run(output_dir: str | os.PathLike, threads: list[int], cfg: BenchConfig) -> dict:
    """Run one worker subprocess per thread count (environment set before torch is imported) and write the report."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    started = time.perf_counter()
    for count in threads:
        env = dict(
            os.environ,
            OMP_NUM_THREADS=str(count),
            MKL_NUM_THREADS=str(count),
            OMP_WAIT_POLICY="PASSIVE",
            HF_HUB_OFFLINE=os.environ.get("HF_HUB_OFFLINE", "1"),
        )
        worker_cfg = BenchConfig(**{**asdict(cfg), "threads": count})
        part = output_dir / f"rows_{count}thread.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            "--config",
            json.dumps(asdict(worker_cfg)),
            "--rows",
            str(part),
        ]
        print(f"# worker: {count} thread(s)", flush=True)
        completed = subprocess.run(command, env=env)
        if completed.returncode != 0:
            raise RuntimeError(f"benchmark worker ({count} threads) exited with {completed.returncode}")
        rows.extend(json.loads(part.read_text()))
        part.unlink()
    report = {
        "machine": _machine(),
        "config": asdict(cfg),
        "threads": threads,
        "environment": {"OMP_WAIT_POLICY": "PASSIVE", "thread counts run in separate subprocesses": True},
        "wall_seconds": time.perf_counter() - started,
        "rows": rows,
    }
    (output_dir / "results.json").write_text(json.dumps(report, indent=1))
    table = format_table(rows)
    header = (
        f"# hfpose benchmark\n\nMachine: {report['machine'].get('cpu', report['machine']['processor'])}, "
        f"{report['machine']['cpus']} CPUs; torch {report['machine']['torch']}; OMP_WAIT_POLICY=PASSIVE; "
        f"total wall {report['wall_seconds']:.0f} s.\n\n"
    )
    (output_dir / "results.md").write_text(header + table)
    print(header + table)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", default="outputs/bench")
    parser.add_argument("--data-root", default=os.environ.get("HFPOSE_DATA", "../shared/data"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=BenchConfig.repeats)
    parser.add_argument("--warmup", type=int, default=BenchConfig.warmup)
    parser.add_argument("--lines", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7, 8, 9])
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    parser.add_argument("--quick", action="store_true", help="tiny models and sizes (smoke test; numbers meaningless)")
    parser.add_argument(
        "--bottomup-noflip-optimized",
        action="store_true",
        help="line 6: also time the compiled bottom-up network without flip (one more compile)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--rows", help=argparse.SUPPRESS)
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        import cv2
        import torch

        cfg = BenchConfig(**json.loads(args.config))
        torch.set_num_threads(cfg.threads)
        cv2.setNumThreads(cfg.threads)
        print(json.dumps(memory_probe(args.memory_probe, cfg)))
        return 0
    if args.worker:
        cfg = BenchConfig(**json.loads(args.config))
        rows = run_worker(cfg)
        Path(args.rows).write_text(json.dumps(rows))
        return 0
    cfg = BenchConfig(
        data_root=args.data_root,
        repeats=args.repeats,
        warmup=args.warmup,
        quick=args.quick,
        lines=args.lines,
        compile=not args.no_compile,
        bottomup_noflip_optimized=args.bottomup_noflip_optimized,
    )
    if args.quick:
        cfg.large_batch = 4
        cfg.e2e_repeats = 2
        cfg.methods = ["rle", "ipr"]
        cfg.compiled_methods = ["rle"]
        cfg.e2e_methods = ["rle"]
    run(args.output_dir, args.threads, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
