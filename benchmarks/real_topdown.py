# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Line 9 of ``make bench``: the real top-down workload, and every network's batch-1 forward against the FMA floor.

`line_real_topdown`: the keypoint-detection pipeline with RLE ResNet-50 (the pipeline's default path) over **all**
coco-mini ``val2017`` images that have ground-truth person boxes, with those boxes (the instances top-down evaluation
uses: ``iscrowd == 0``, ``num_keypoints > 0``, clipped to the image as MMPose, zero-width or zero-height boxes skipped;
`hfpose.evaluation.gt_boxes`), one pass with the flip test and one without, for each network variant:

* ``eager``: the model itself, all crops of an image in one forward;
* ``onnxruntime``: `optimize_for_inference(model, backend="onnxruntime")`, what the pipeline runs by default;
* ``inductor``: `optimize_for_inference(model)` (``torch.compile`` + freezing, ``HFPOSE_OPTIMIZE=inductor``); at 1
  thread only by default (its two compiles cost about 16 s per thread count, see `line_real_topdown`).

Each variant runs in a **fresh subprocess** (`probe_real_topdown`, same thread settings as the worker), so its peak RSS
(``VmHWM``) is its own and its warm-up (ONNX export + session, Inductor compiles) is paid as a new user pays it: the
passes include the first call and every warm-up, which is what a user running `hfpose evaluate` or a loop of pipeline
calls sees. One pass per setting, no repeats: about 80 s at 1 thread (the three probes took 75 CPU seconds, Inductor
35 of them) and 33 s at 2 threads (eager and onnxruntime) on the 2-core reference machine, so about 110 s in all;
each probe's wall and CPU seconds are reported (``.../probe``).
Reported per variant: persons/s (flip on / off), time per person in units of F (one eager batch-1 forward of a bare
ResNet-50, measured by the worker right before and after the subprocess), the time per person over its network FLOPs /
the fp32 FMA peak (x2 with the flip test), the first call's latency, the warm-up seconds, and the peak RSS.

`forward_floor_table` (``python benchmarks/real_topdown.py --forwards``; not part of ``make bench``): every top-down
network at batch 1 (DeepPose / RLE on ResNet-50/101/152, RLE on MobileNetV2, IPR, DSNT, Debias-IPR), eager,
onnxruntime and Inductor interleaved in one process, each time over FLOPs / the fp32 FMA peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

__all__ = ["REAL_VARIANTS", "real_topdown_records", "probe_real_topdown", "line_real_topdown", "forward_floor_table"]

REAL_VARIANTS = ("eager", "onnxruntime", "inductor")


def real_topdown_records(data_root: str, split: str = "val2017", limit: int | None = None) -> list[dict]:
    """coco-mini images (sorted by file name) with the GT person boxes top-down evaluation uses.

    Returns:
        ``[{"path": str, "boxes": [[x, y, w, h], ...]}, ...]``: boxes in image pixels from `hfpose.evaluation.gt_boxes`
        (non-crowd, ``num_keypoints > 0``, clipped to the image), boxes with zero width or height dropped, images
        without a box left out; at most ``limit`` images.
    """
    from hfpose.evaluation import gt_boxes

    root = Path(data_root) / "coco-mini"
    ann_file = root / "annotations" / f"person_keypoints_{split}.json"
    with open(ann_file) as handle:
        images = {image["id"]: image["file_name"] for image in json.load(handle)["images"]}
    records = []
    for image_id, instances in gt_boxes(ann_file).items():
        boxes = [[float(v) for v in box] for box, _, _ in instances if box[2] > 0 and box[3] > 0]
        if boxes:
            records.append({"path": str(root / split / images[image_id]), "boxes": boxes})
    records.sort(key=lambda record: record["path"])
    return records[:limit] if limit else records


def _network_for(variant: str, model):
    from hfpose.inference import optimize_for_inference

    if variant == "eager":
        return None
    if variant == "onnxruntime":
        return optimize_for_inference(model, backend="onnxruntime")
    if variant == "inductor":
        return optimize_for_inference(model)
    raise ValueError(f"variant must be one of {REAL_VARIANTS}; got {variant!r}")


def probe_real_topdown(variant: str, cfg) -> dict:
    """One variant over the real workload, in this (fresh) process: returns timings (seconds) and memory (MiB).

    Returns:
        ``{"persons", "images", "first_call_s", "flip_s", "noflip_s", "warmup_s", "rss_model_mib", "peak_rss_mib"}``:
        ``flip_s`` / ``noflip_s`` are the wall times of one pass over every image (``pipe(path, boxes=...)``: decoding,
        cropping, network, post-processing), the flip pass first, so it includes the first call (``first_call_s``,
        the first image) and every warm-up (``warmup_s``: the optimized wrapper's ``stats.compile_seconds`` after
        both passes, i.e. export + session or one compile per batch shape, each with its first run).
    """
    import torch
    from pose_benchmark import _pipeline_for, _read_status, _topdown_processor, build_model

    records = real_topdown_records(cfg.data_root, limit=3 if cfg.quick else None)
    model = build_model("rle", cfg.quick)
    network = _network_for(variant, model)
    pipe = _pipeline_for(model, _topdown_processor(model), network)
    rss_model = _read_status("VmRSS")
    result = {"variant": variant, "images": len(records), "persons": sum(len(r["boxes"]) for r in records)}
    for flip_test in (True, False):
        start = time.perf_counter()
        for index, record in enumerate(records):
            call = time.perf_counter()
            with torch.inference_mode():
                persons = pipe(record["path"], boxes=record["boxes"], flip_test=flip_test)
            if index == 0 and flip_test:
                result["first_call_s"] = time.perf_counter() - call
            if len(persons) != len(record["boxes"]):
                raise AssertionError(f"{record['path']}: {len(persons)} persons for {len(record['boxes'])} boxes")
        result["flip_s" if flip_test else "noflip_s"] = time.perf_counter() - start
    result["warmup_s"] = network.stats.compile_seconds if network is not None else 0.0
    result["rss_model_mib"] = rss_model
    result["peak_rss_mib"] = _read_status("VmHWM")
    return result


def line_real_topdown(cfg, rec, line: int = 9, variants: tuple | None = None) -> None:
    """The real-workload rows (see the module docstring); each variant in its own subprocess.

    ``variants``: a subset of `REAL_VARIANTS`. Default: all three at 1 thread, eager and onnxruntime at more threads
    (Inductor's two compiles, batch 1 and 4, about 16 s per thread count, would take ``make bench`` past its budget
    for the opt-in backend; ``variants=REAL_VARIANTS`` runs it), only ``eager`` when ``cfg.compile`` is off.
    """
    import torch
    from pose_benchmark import build_floor, build_model, fp32_peak, measure, model_flops

    model = build_model("rle", cfg.quick)
    width, height = model.config.input_size
    x1 = torch.randn(1, 3, int(height), int(width), generator=torch.Generator().manual_seed(cfg.seed))
    flops = model_flops(model, x1)
    del model
    peak = fp32_peak(rec.threads, cfg.quick)["flops"]
    floor = build_floor(cfg.quick)

    def floor_stats():
        with torch.inference_mode():
            return measure(lambda: floor(x1), repeats=3, warmup=1)["samples"]

    if variants is None:
        variants = ("eager",) if not cfg.compile else REAL_VARIANTS if rec.threads == 1 else REAL_VARIANTS[:2]
    for variant in variants:
        samples = floor_stats()
        started, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--probe",
            variant,
            "--config",
            json.dumps(asdict(cfg)),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
        samples += floor_stats()
        if completed.returncode != 0:
            raise RuntimeError(f"real top-down probe {variant} failed: {completed.stderr[-2000:]}")
        probe = json.loads(completed.stdout.strip().splitlines()[-1])
        f_seconds = sorted(samples)[len(samples) // 2]
        persons = probe["persons"]
        tag = f"real_topdown/rle/{variant}"
        rec.add(line, f"{tag}/F", unit="ms", value=f_seconds * 1e3, note="bare ResNet-50 b1, 3 runs before + 3 after")
        for flip in ("flip", "noflip"):
            seconds = probe[f"{flip}_s"]
            views = 2 if flip == "flip" else 1
            rec.add(
                line,
                f"{tag}/{flip}/per_person",
                unit="ms",
                value=seconds / persons * 1e3,
                persons_per_s=persons / seconds,
                persons=persons,
                images=probe["images"],
                note="one pass over every image, first call and warm-ups included" if flip == "flip" else "one pass",
            )
            rec.ratio(line, f"{tag}/{flip}/per_person÷F", seconds / persons, f_seconds)
            rec.ratio(
                line,
                f"{tag}/{flip}/per_person÷fma_floor",
                seconds / persons,
                views * flops / peak,
                note="time per person / (network FLOPs x views / fp32 FMA peak)",
            )
        if probe["warmup_s"]:
            steady = (probe["flip_s"] - probe["warmup_s"]) / persons
            rec.ratio(
                line,
                f"{tag}/flip_without_warmup/per_person÷fma_floor",
                steady,
                2 * flops / peak,
                note="flip pass less the warm-up seconds (stats.compile_seconds)",
            )
        rec.add(line, f"{tag}/first_call", unit="s", value=probe["first_call_s"], note="first image, flip test")
        rec.add(line, f"{tag}/warmup", unit="s", value=probe["warmup_s"], note="export + session, or compiles")
        rec.add(
            line,
            f"{tag}/peak_rss",
            unit="MiB",
            value=probe["peak_rss_mib"],
            rss_model_mib=probe["rss_model_mib"],
            note="fresh process, VmHWM over both passes",
        )
        rec.add(
            line,
            f"{tag}/probe",
            unit="s",
            value=wall,
            cpu_s=cpu,
            note="the variant's whole subprocess (start-up, model, both passes): wall and CPU seconds",
        )


# ---------------------------------------------------------------------------------- every network's batch-1 forward


def _forward_networks(quick: bool) -> dict:
    """``name -> (method, config kwargs)`` of every top-down network with its headline config."""
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.mobilenet_v2 import PoseMobileNetV2Config

    if quick:
        return {"rle_tiny": ("rle", {})}
    networks = {}
    for depth in (50, 101, 152):
        for method in ("deeppose", "rle"):
            networks[f"{method}_r{depth}"] = (method, {"backbone_config": resnet_backbone_config(depth).to_dict()})
    networks["rle_mobilenetv2"] = ("rle", {"backbone_config": PoseMobileNetV2Config().to_dict()})
    for method in ("ipr", "dsnt", "debias_ipr"):
        networks[method] = (method, {})
    return networks


def _fma_cpu_peak(repeats: int = 7) -> float:
    """One core's FMA peak (the `pose_benchmark.compile_fma_kernel` kernel, 512-bit chains) timed by the process's
    CPU time rather than the wall clock, the yardstick of the CPU-time ratios; 0.0 without a compiler."""
    from pose_benchmark import compile_fma_kernel

    kernel = compile_fma_kernel()
    if kernel is None:
        return 0.0
    best, iterations = 0.0, 2_000_000
    for name, lanes in (("fma32", 8), ("fma64", 16)):
        function = getattr(kernel, name)
        for _ in range(repeats):
            start = time.process_time()
            function(iterations, 1.0)
            best = max(best, 2 * lanes * kernel.fma_chains() * iterations / max(time.process_time() - start, 1e-9))
    return best


def forward_floor_table(
    threads: int, repeats: int = 5, quick: bool = False, only: list | None = None, inductor: bool = True
) -> list[dict]:
    """Every top-down network at batch 1: eager, onnxruntime (and Inductor + freezing with ``inductor``), interleaved
    in rounds in one process; returns one row per network with the median milliseconds and the ratios to FLOPs / fp32
    FMA peak, by wall time and by the process's CPU time / threads (robust to other processes time-slicing the core)."""
    import torch
    from pose_benchmark import build_model, fp32_peak, model_flops
    from transformers import AutoConfig, AutoModelForPoseEstimation

    from hfpose.inference import optimize_for_inference

    torch.set_num_threads(threads)
    peak = fp32_peak(threads, quick)["flops"]
    cpu_peak = _fma_cpu_peak() * threads or peak
    print(json.dumps({"fp32_peak_gflops": peak / 1e9, "fma_cpu_time_peak_gflops": cpu_peak / 1e9}), flush=True)
    rows = []
    for name, (method, kwargs) in _forward_networks(quick).items():
        if only and name not in only:
            continue
        torch.manual_seed(0)
        model = (
            build_model(method, True)
            if quick
            else AutoModelForPoseEstimation.from_config(AutoConfig.for_model(f"hfpose_{method}", **kwargs)).eval()
        )
        width, height = model.config.input_size
        x1 = torch.randn(1, 3, int(height), int(width), generator=torch.Generator().manual_seed(0))
        flops = model_flops(model, x1)
        fns = {"eager": lambda m=model: m(pixel_values=x1)}
        ort = optimize_for_inference(model, backend="onnxruntime")
        ort(x1)
        fns["onnxruntime"] = lambda o=ort: o(x1)
        if inductor and not (only is None and method in ("dsnt", "debias_ipr")):  # same network as IPR
            compiled = optimize_for_inference(model)
            compiled(x1)
            fns["inductor"] = lambda c=compiled: c(x1)
        wall = {variant: [] for variant in fns}
        cpu = {variant: [] for variant in fns}
        with torch.inference_mode():
            for round_index in range(repeats + 1):  # round 0 is the warm-up
                for variant, fn in fns.items():
                    start, start_cpu = time.perf_counter(), time.process_time()
                    fn()
                    if round_index:
                        wall[variant].append(time.perf_counter() - start)
                        cpu[variant].append(time.process_time() - start_cpu)
        row = {"network": name, "threads": threads, "gflop": flops / 1e9, "fma_floor_ms": flops / peak * 1e3}
        for variant in fns:
            seconds, cpu_seconds = statistics.median(wall[variant]), statistics.median(cpu[variant])
            row[f"{variant}_ms"] = seconds * 1e3
            row[f"{variant}÷fma_floor"] = seconds / (flops / peak)
            # CPU seconds / threads: what the call costs when it has the cores to itself (on a shared machine the
            # wall time also counts the time other processes held the core)
            row[f"{variant}_cpu÷fma_floor"] = cpu_seconds / threads / (flops / cpu_peak)
            if variant != "eager":
                row[f"{variant}÷eager"] = statistics.median(a / b for a, b in zip(wall[variant], wall["eager"]))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--probe", choices=REAL_VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--forwards", action="store_true", help="every network's batch-1 forward vs the FMA floor")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="+", help="network names (e.g. rle_r50 rle_mobilenetv2)")
    parser.add_argument("--no-inductor", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.probe:
        import cv2
        import torch
        from pose_benchmark import BenchConfig

        cfg = BenchConfig(**json.loads(args.config))
        torch.set_num_threads(cfg.threads)
        cv2.setNumThreads(cfg.threads)
        print(json.dumps(probe_real_topdown(args.probe, cfg)))
        return 0
    if args.forwards:
        forward_floor_table(args.threads, args.repeats, args.quick, args.only, not args.no_inductor)
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
