# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The real bottom-up workload: HRNet-w32 (associative embedding, 512, flip test) over every coco-mini val image at its
own input size, as ``hfpose evaluate`` runs it (`hfpose.training.evaluation_loop.predict_bottomup`: decode, UDP
resize, the image and its mirror image in one forward, aggregation, grouping), first call and warm-ups included.

Variants, each in a **fresh subprocess** (so that its peak RSS, VmHWM, is its own and no warm-up is inherited):

- ``onnxruntime``: the default optimized forward (`hfpose.inference.default_options`: one in-memory ONNX export with
  dynamic height and width, one session, every input size);
- ``eager``: the same loop with ``HFPOSE_OPTIMIZE=0`` semantics (``optimize=False``);
- ``inductor``: ``torch.compile`` with freezing, one graph per input size (``max_shapes`` 8 by default; 30-45 s of
  compile per size on one core).

Weights: random (seed 0), with the final layer scaled so that the maps are of order 1 (`_calibrate_maps`): the parser
then groups up to 30 candidates per keypoint on every image, a pessimistic post-processing load.

The yardstick, "one-eager-pass-equivalents per image": for each image, one eager batch-1 forward without flip at that
image's input shape. Each distinct shape is timed once after one warm-up forward of that shape, and weighted by the
number of images of that shape; a variant's ratio is its total wall time over its images divided by the sum of their
one-pass times. The first call (the export or compile plus the first image) is also reported on its own row.

Time budget of the ``make bench`` line (`line_real_bottomup`, both thread counts together at most about 5 minutes on
an idle 2-core machine): onnxruntime over all 79 images (one pass, no repeats: about 110 s at 1 thread, 60 s at 2),
eager over the first ``eager_images`` (8) images, the one-pass yardstick for every distinct shape (12 at 512: two
forwards each), and Inductor only when asked (``variants`` including ``"inductor"``, or standalone:
``python benchmarks/real_bottomup.py --variants eager onnxruntime inductor``), since its compiles alone (8 sizes x
30-45 s) exceed the budget.

``--quick``: a tiny HRNet at input 128 over 3 images (smoke test; numbers meaningless).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["DEFAULT_VARIANTS", "LINE", "line_real_bottomup", "run_variant", "one_pass_times", "main"]

LINE = 8  # line number of the rows in `make bench` (benchmarks/pose_benchmark.py)
DEFAULT_VARIANTS = ("eager", "onnxruntime")
TARGET = "real_bottomup_flip_vs_one_pass"  # key of benchmarks/pose_benchmark.py TARGETS (at most 1.5)


def _records(data_root: str, quick: bool) -> list[dict]:
    from hfpose.training.evaluation_loop import coco_images

    root = Path(data_root) / "coco-mini"
    records = coco_images(root / "annotations" / "person_keypoints_val2017.json", root / "val2017")
    records = sorted(records, key=lambda record: str(record["path"]))
    return records[:3] if quick else records


def _model_and_processor(quick: bool):
    import torch
    from transformers import AutoConfig, AutoModelForPoseEstimation

    import hfpose  # noqa: F401  (registers the model types)
    from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor

    torch.manual_seed(0)
    if quick:
        from hfpose.models.hrnet import HRNetConfig

        backbone = HRNetConfig(
            stem_channels=8,
            stage1_channels=4,
            stage1_num_blocks=1,
            hidden_sizes=[4, 8, 16, 32],
            num_modules=[1, 1, 1],
            num_blocks=[1, 1, 1],
        )
        config = AutoConfig.for_model("hfpose_ae_hrnet", backbone_config=backbone, input_size=[128, 128])
        processor = BottomUpPoseImageProcessor(input_size=128)
    else:
        config = AutoConfig.for_model("hfpose_ae_hrnet")  # HRNet-w32 AE at 512 (the headline config)
        processor = BottomUpPoseImageProcessor()
    model = AutoModelForPoseEstimation.from_config(config).eval()
    _calibrate_maps(model)
    return model, processor


def _calibrate_maps(model, std: float = 0.3) -> None:
    """Scale the final 1x1 convolution so that the output maps have standard deviation ``std``.

    The default random init gives maps of about 1e-10, on which the parser finds nobody, so grouping and refinement
    would cost nothing; scaled, the random maps have peaks above the 0.1 detection threshold everywhere and the parser
    groups up to ``max_num_people`` candidates per keypoint: a pessimistic post-processing load (a trained model's maps
    peak only at people), so the line's timings include the grouping rather than leave it out.
    """
    import torch

    final = getattr(model, "final_layer", None)
    if not isinstance(final, torch.nn.Conv2d):
        return
    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        maps = model(pixel_values=torch.randn(1, 3, 128, 128, generator=generator)).heatmaps[-1]
        factor = std / max(float(maps.std()), 1e-30)
        final.weight.mul_(factor)
        if final.bias is not None:
            final.bias.mul_(factor)


def _input_shapes(processor, records: list[dict]) -> list[tuple[int, int]]:
    """Each record's network input ``(h_in, w_in)`` at scale factor 1, from the image header (no decoding)."""
    from PIL import Image

    from hfpose.image_processing_bottomup import get_multi_scale_size

    shapes = []
    for record in records:
        with Image.open(record["path"]) as image:
            width, height = image.size
            if image.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # EXIF orientations that swap the sides
                width, height = height, width
        (w_in, h_in), _, _ = get_multi_scale_size(
            (width, height), processor.input_size_pair, 1.0, min(processor.scale_factors), processor.base_length
        )
        shapes.append((h_in, w_in))
    return shapes


def one_pass_times(model, shapes: list[tuple[int, int]]) -> dict:
    """Seconds of one eager batch-1 forward (no flip) per distinct ``(h, w)`` input shape: one warm-up forward of that
    shape, then one timed forward."""
    import torch

    times = {}
    with torch.inference_mode():
        for shape in sorted(set(shapes)):
            pixel_values = torch.randn(1, 3, *shape)
            model(pixel_values=pixel_values)
            start = time.perf_counter()
            model(pixel_values=pixel_values)
            times[shape] = time.perf_counter() - start
    return times


def run_variant(variant: str, threads: int, quick: bool, data_root: str, max_images: int | None = None) -> dict:
    """One variant over the records, in this process (call it in a fresh one: `line_real_bottomup` does).

    Returns ``{"variant", "threads", "images", "first_call_s", "total_s", "images_per_s", "persons", "shapes"
    (input (h, w) per image), "rss_after_model_mib", "peak_rss_mib", "compiled_shapes", "warmup_s"}``; for the eager
    variant also ``"one_pass_s"``: `one_pass_times` of every distinct shape of **all** records (measured after the peak
    RSS is read).
    """
    import cv2
    import torch
    from pose_benchmark import _read_status  # VmRSS / VmHWM in MiB (Linux), None elsewhere

    from hfpose.inference import default_options, optimize_for_inference
    from hfpose.training.evaluation_loop import predict_bottomup

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    records_all = _records(data_root, quick)
    records = records_all if max_images is None else records_all[:max_images]
    model, processor = _model_and_processor(quick)
    rss_after_model = _read_status("VmRSS")
    if variant == "eager":
        forward, optimize = model, False
    elif variant == "onnxruntime":
        forward, optimize = optimize_for_inference(model, **{**default_options(model), "backend": "onnxruntime"}), None
    elif variant == "inductor":
        forward, optimize = optimize_for_inference(model, batch_size=None, max_shapes=8, backend="inductor"), None
    else:
        raise ValueError(f"variant must be one of eager, onnxruntime, inductor; got {variant!r}")
    start = time.perf_counter()
    persons = len(predict_bottomup(forward, processor, records[:1], flip_test=True, optimize=optimize))
    first_call = time.perf_counter() - start
    persons += len(predict_bottomup(forward, processor, records[1:], flip_test=True, optimize=optimize))
    total = time.perf_counter() - start
    peak = _read_status("VmHWM")
    stats = getattr(forward, "stats", None)
    result = {
        "variant": variant,
        "threads": threads,
        "images": len(records),
        "first_call_s": first_call,
        "total_s": total,
        "images_per_s": len(records) / total,
        "persons": persons,
        "shapes": _input_shapes(processor, records),
        "rss_after_model_mib": rss_after_model,
        "peak_rss_mib": peak,
        "compiled_shapes": None if stats is None else len(stats.compiled_shapes),
        "warmup_s": None if stats is None else stats.compile_seconds,
    }
    if variant == "eager":
        times = one_pass_times(model, _input_shapes(processor, records_all))
        result["one_pass_s"] = [[list(shape), seconds] for shape, seconds in times.items()]
    return result


def _subprocess_variant(variant: str, threads: int, quick: bool, data_root: str, max_images: int | None) -> dict:
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        HF_HUB_OFFLINE=os.environ.get("HF_HUB_OFFLINE", "1"),
    )
    command = [sys.executable, str(Path(__file__).resolve()), "--variant", variant, "--threads", str(threads)]
    command += ["--data-root", data_root] + (["--quick"] if quick else [])
    command += [] if max_images is None else ["--max-images", str(max_images)]
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    if completed.returncode != 0:
        raise RuntimeError(f"real bottom-up variant {variant} failed: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def line_real_bottomup(cfg, rec, records=None, variants=None, eager_images: int | None = 8) -> dict:
    """The ``make bench`` line (number `LINE`): every variant in a fresh subprocess at ``cfg.threads`` threads.

    ``cfg``: a `BenchConfig` (``quick``, ``threads``, ``data_root``, ``compile``: without it only eager runs);
    ``rec``: the benchmark's row recorder; ``records`` is unused (the line takes every val image, not only those with
    person boxes). ``variants``: default `DEFAULT_VARIANTS` (Inductor is opt-in, see the module docstring);
    ``eager_images``: images of the eager variant (None: all). Returns ``{variant: run_variant result}``.
    """
    import math

    variants = list(variants or DEFAULT_VARIANTS)
    if not cfg.compile:
        variants = [name for name in variants if name == "eager"]
    if "eager" in variants:
        variants.remove("eager")
    variants.insert(0, "eager")  # first: it also measures the one-pass yardstick of every shape
    results = {}
    for variant in variants:
        max_images = eager_images if variant == "eager" else None
        results[variant] = _subprocess_variant(variant, cfg.threads, cfg.quick, cfg.data_root, max_images)
    one_pass = {tuple(shape): seconds for shape, seconds in results["eager"]["one_pass_s"]}
    all_shapes = collections.Counter(tuple(shape) for shape in results.get("onnxruntime", results["eager"])["shapes"])
    weighted = sum(one_pass[shape] * count for shape, count in all_shapes.items()) / sum(all_shapes.values())
    rec.add(
        LINE,
        "real_bottomup/hrnet_w32/one_pass/per_image",
        unit="ms",
        value=weighted * 1e3,
        shapes=len(one_pass),
        note="eager batch 1, no flip, each distinct input shape timed once after a warm-up, weighted by image counts",
    )
    for variant, result in results.items():
        name = f"real_bottomup/hrnet_w32/{variant}"
        images = result["images"]
        rec.add(LINE, f"{name}/images_per_s", unit="img/s", value=result["images_per_s"], images=images)
        rec.add(LINE, f"{name}/total", unit="s", value=result["total_s"], images=images, persons=result["persons"])
        rec.add(
            LINE,
            f"{name}/first_call",
            unit="s",
            value=result["first_call_s"],
            warmup_s=result["warmup_s"],
            note="first image: export / compile + first forward + post-processing",
        )
        rec.add(
            LINE,
            f"{name}/peak_rss",
            unit="MiB",
            value=result["peak_rss_mib"],
            rss_after_model_mib=result["rss_after_model_mib"],
            compiled_shapes=result["compiled_shapes"],
            note="fresh process: VmHWM over model build + the whole run",
        )
        denominator = sum(one_pass[tuple(shape)] for shape in result["shapes"])
        value = result["total_s"] / denominator if denominator else math.nan
        rec.ratio(
            LINE,
            f"real_bottomup/{variant}/flip÷one_pass_equivalents",
            result["total_s"],
            denominator,
            TARGET if variant == "onnxruntime" else None,
            note=f"{images} images at their own sizes, warm-ups included; {value:.3f} one eager pass per image",
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", help="run one variant in this process and print its JSON (used by the line)")
    parser.add_argument("--variants", nargs="+", default=list(DEFAULT_VARIANTS), help="standalone: variants to run")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--data-root", default=os.environ.get("HFPOSE_DATA", "../shared/data"))
    parser.add_argument("--quick", action="store_true", help="tiny HRNet, 3 images (smoke test)")
    parser.add_argument("--max-images", type=int, default=None)
    parser.add_argument("--eager-images", type=int, default=8, help="standalone: images of the eager variant (0: all)")
    parser.add_argument("--output", help="standalone: write the rows to this JSON file")
    args = parser.parse_args(argv)
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.threads[0], args.quick, args.data_root, args.max_images)))
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pose_benchmark import BenchConfig, _Recorder

    rows = []
    for threads in args.threads:
        rec = _Recorder(threads)
        cfg = BenchConfig(data_root=args.data_root, threads=threads, quick=args.quick, lines=[LINE])
        line_real_bottomup(cfg, rec, variants=args.variants, eager_images=args.eager_images or None)
        rows.extend(rec.rows)
    if args.output:
        Path(args.output).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
