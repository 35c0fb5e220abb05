#!/usr/bin/env python
# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""bfloat16 against float32 on the golden converted models: keypoint deviation and speed (``make bench-precision``).

Every model of the golden fixtures that hfpose converts (RLE, DeepPose, IPR, DSNT, Debias-IPR on ResNet-50; the
MMPose 0.29 AE HRNet-w32 and HigherHRNet-w32; random weights in MMPose's checkpoint layout) is converted, saved, and
loaded twice through ``pipeline("keypoint-detection", model=directory, dtype=...)``: float32 and bfloat16. Both run
the fixtures' own images (top-down: the fixtures' person boxes, flip test on; bottom-up: the fixtures' image, flip
test on) through the pipeline's stages (``preprocess`` → ``forward`` → ``postprocess``, the same calls
``pipeline(...)`` makes, after one decode per image), eagerly (``HFPOSE_OPTIMIZE=0``: the optimized backends are
float32 only, so bfloat16 is compared with the float32 path it replaces).

Rows (same format as ``benchmarks/pose_benchmark.py``, line ``PRECISION_LINE``), per model:

- ``precision/<model>/keypoints_px_max`` / ``_median``: Euclidean distance in image px between the bfloat16 and
  float32 keypoint of each person and joint (bottom-up: of the people matched by minimum mean distance);
- ``precision/<model>/keypoints_vs_box_max``: per-axis distance / the person box's width (x) or height (y)
  (bottom-up: / the image's width or height, ``keypoints_vs_image_max``);
- ``precision/<model>/scores_max``: keypoint score deviation (bottom-up also the person scores and the people counts);
- ``precision/<model>/network_max`` and ``network_vs_range``: the network outputs' largest deviation (after the
  pipeline's cast to float32), absolute and as a fraction of the float32 output's largest magnitude;
- ``precision/<model>/float32`` and ``bfloat16`` (seconds of the stages for all images) and the ratio
  ``precision/<model>/bfloat16÷float32``.

bfloat16 keeps 8 significant bits (relative rounding 2^-9 = 0.2 % per operation). On a CPU without AVX512_BF16 or
AMX (``cpu_bf16`` row: what ``/proc/cpuinfo`` lists), oneDNN emulates bfloat16 convolutions with float32 arithmetic
plus conversions, so bfloat16 is slower there, not faster; the speed rows only say something about a CPU with those
instructions, or a GPU.

Usage: ``python benchmarks/precision.py [--output-dir outputs/bench] [--threads 2] [--models rle hrnet_w32 ...]``;
other CPU kernels: run it again with ``ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2`` (much slower: oneDNN
has no AVX2 bfloat16 kernels, bfloat16 then runs about 30x slower than float32). Writes ``precision.json`` and
``precision.md``. About 90 s of CPU time (2 threads: under a minute on an idle 2-core machine; 2m50 measured on a
shared one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported
os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pose_benchmark import _decode, _Recorder, format_table  # noqa: E402

__all__ = [
    "PRECISION_LINE",
    "TOP_DOWN",
    "BOTTOM_UP",
    "cpu_bf16_flags",
    "convert_golden_model",
    "compare_dtypes",
    "deviation_summary",
    "run",
    "main",
]

PRECISION_LINE = 11
# golden fixture name → hfpose method (top-down: golden/models/<name>_outputs.npz + its head checkpoint)
TOP_DOWN = {"rle": "rle", "deeppose": "deeppose", "ipr": "ipr", "dsnt": "dsnt", "debias": "debias_ipr"}
# golden bottomup029 model → hfpose method
BOTTOM_UP = {"hrnet_w32": "ae_hrnet", "higherhrnet_w32": "ae_higherhrnet"}


def cpu_bf16_flags() -> list[str]:
    """The bfloat16 instructions ``/proc/cpuinfo`` lists (``avx512_bf16``, ``amx_bf16``); ``[]`` if none or unknown."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return sorted({flag for flag in line.split() if flag in ("avx512_bf16", "amx_bf16", "amx_tile")})
    except OSError:
        pass
    return []


# ------------------------------------------------------------------------------------------------- conversion


def _load_state(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def convert_golden_model(name: str, golden_dir: str | os.PathLike, output_dir: str | os.PathLike) -> dict:
    """Convert golden model ``name`` (a key of `TOP_DOWN` or `BOTTOM_UP`) with hfpose's converter and save it with its
    image processor in ``output_dir`` (loadable with ``pipeline("keypoint-detection", model=output_dir)``).

    Returns:
        ``{"name", "method", "directory", "bottom_up", "images": [file names], "boxes": [per image, COCO xywh image
        px] (top-down only)}``: the fixture's own inputs.
    Raises:
        ValueError: unknown ``name``.
    """
    import numpy as np
    from transformers import AutoConfig, AutoModelForPoseEstimation

    import hfpose  # noqa: F401  (registers the model types)
    from hfpose.hub.convert_mmpose import build_bottomup_config, convert_mmpose_state_dict
    from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor

    golden_dir, output_dir = Path(golden_dir), Path(output_dir)
    if name in TOP_DOWN:
        method = TOP_DOWN[name]
        golden = np.load(golden_dir / "models" / f"{name}_outputs.npz")
        files = json.loads(str(golden["meta_json"]))["checkpoint_files"]
        state = {}
        for file in files:
            path = golden_dir / file if (golden_dir / file).is_file() else golden_dir / "models" / file
            state.update(_load_state(path))
        config = AutoConfig.for_model(f"hfpose_{method}")
        width, height = (int(v) for v in config.input_size)
        processor = TopDownPoseImageProcessor(
            size={"height": height, "width": width},
            flip_indices=list(config.flip_indices),
            keypoint_names=[config.id2label[i] for i in range(config.num_labels)],
        )
        images = [str(f) for f in golden["image_files"]]
        boxes = [golden["bboxes_xywh"][golden["image_index"] == i].tolist() for i in range(len(images))]
    elif name in BOTTOM_UP:
        method = BOTTOM_UP[name]
        weights = golden_dir / "bottomup029" / "weights"
        state = _load_state(weights / "hrnet_w32_coco_512x512_udp_random.pth")
        if method == "ae_higherhrnet":  # the fixtures share HRNet-w32's backbone (bottomup029/README.md)
            head = _load_state(weights / "higherhrnet_w32_coco_512x512_udp_random_head.pth")
            state = {key: value for key, value in state.items() if key.startswith("backbone.")} | dict(head)
        config = build_bottomup_config(method, "w32")
        processor = BottomUpPoseImageProcessor(
            input_size=int(min(config.input_size)),
            flip_indices=list(config.flip_indices),
            keypoint_names=[config.id2label[i] for i in range(config.num_labels)],
        )
        golden = np.load(golden_dir / "bottomup029" / f"{name}.npz")
        images, boxes = [str(golden["img0_file_name"])], None
    else:
        raise ValueError(f"unknown golden model {name!r}; choose from {sorted(TOP_DOWN) + sorted(BOTTOM_UP)}")
    model = AutoModelForPoseEstimation.from_config(config)
    model.load_state_dict(convert_mmpose_state_dict({"state_dict": state}, method, config), strict=True)
    model.eval().save_pretrained(output_dir)
    processor.save_pretrained(output_dir)
    return {
        "name": name,
        "method": method,
        "directory": str(output_dir),
        "bottom_up": name in BOTTOM_UP,
        "images": images,
        "boxes": boxes,
    }


# ------------------------------------------------------------------------------------------------- comparison


def _run_stages(pipe, images: list, boxes: list | None, flip_test: bool | None = None) -> tuple[list, list, float]:
    """The pipeline's own stages on decoded images; returns ``(persons per image, network outputs per image,
    seconds)``. The outputs are what ``postprocess`` receives (float32, on the CPU)."""
    import torch

    persons, outputs = [], []
    start = time.perf_counter()
    for index, image in enumerate(images):
        item = {"image": image, "boxes": None if boxes is None else boxes[index], "index": index}
        with torch.inference_mode():
            model_outputs = pipe.forward(pipe.preprocess(item), flip_test=flip_test)
        outputs.append(model_outputs)
        persons.append(pipe.postprocess(model_outputs))
    return persons, outputs, time.perf_counter() - start


def _network_arrays(model_outputs) -> list:
    """Every floating tensor of the network outputs (main and flipped), as float32 numpy arrays."""
    import torch

    arrays = []
    for key in ("outputs", "outputs_flipped"):
        value = model_outputs.get(key)
        if value is None:
            continue
        for field in value.values():
            for tensor in field if isinstance(field, tuple) else (field,):
                if isinstance(tensor, torch.Tensor) and tensor.is_floating_point():
                    assert tensor.dtype == torch.float32, f"post-processing received {tensor.dtype}"
                    arrays.append(tensor.numpy())
    return arrays


def _keypoints(person: dict):
    import numpy as np

    keypoints = person["keypoints"]
    return np.array([[k["x"], k["y"]] for k in keypoints]), np.array([k["score"] for k in keypoints])


def deviation_summary(reference: list, other: list, sizes: list, bottom_up: bool) -> dict:
    """Deviation of ``other`` from ``reference`` (pipeline outputs, one list of persons per image).

    Args:
        reference, other: per image, the pipeline's persons (float32 run, bfloat16 run).
        sizes: per image, ``(n, 2)`` width and height in px each person's deviation is divided by (top-down: the
            person boxes; bottom-up: the image size, one row).
        bottom_up: people are matched by minimum mean keypoint distance (`scipy.optimize.linear_sum_assignment`;
            the grouping may find a different number of people); top-down persons correspond one to one.
    Returns:
        ``{"keypoints_px_max", "keypoints_px_median", "keypoints_vs_size_max", "within_1px", "scores_max",
        "person_scores_max", "people_reference", "people_other", "people_matched"}``.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    distances, relative, score_deviation, person_scores = [], [], [], []
    counts = [0, 0, 0]
    for persons_a, persons_b, size in zip(reference, other, sizes):
        counts[0] += len(persons_a)
        counts[1] += len(persons_b)
        if not persons_a or not persons_b:
            continue
        a = [_keypoints(p) for p in persons_a]
        b = [_keypoints(p) for p in persons_b]
        if bottom_up:
            cost = np.array([[np.linalg.norm(ka - kb, axis=-1).mean() for kb, _ in b] for ka, _ in a])
            rows, columns = linear_sum_assignment(cost)
            size = np.broadcast_to(np.asarray(size, np.float64).reshape(-1, 2)[:1], (len(rows), 2))
        else:
            rows = columns = np.arange(len(a))
        counts[2] += len(rows)
        for row, column, person_size in zip(rows, columns, np.asarray(size, np.float64).reshape(-1, 2)):
            (ka, sa), (kb, sb) = a[row], b[column]
            distances.append(np.linalg.norm(ka - kb, axis=-1))
            relative.append(np.abs(ka - kb) / person_size)
            score_deviation.append(np.abs(sa - sb))
            person_scores.append(abs(persons_a[row]["score"] - persons_b[column]["score"]))
    distances = np.concatenate(distances) if distances else np.zeros(0)
    return {
        "keypoints_px_max": float(distances.max()) if distances.size else float("nan"),
        "keypoints_px_median": float(np.median(distances)) if distances.size else float("nan"),
        "keypoints_vs_size_max": float(np.concatenate(relative).max()) if relative else float("nan"),
        "within_1px": float((distances <= 1.0).mean()) if distances.size else float("nan"),
        "scores_max": float(np.concatenate(score_deviation).max()) if score_deviation else float("nan"),
        "person_scores_max": float(max(person_scores)) if person_scores else float("nan"),
        "people_reference": counts[0],
        "people_other": counts[1],
        "people_matched": counts[2],
    }


def conditioning(model, pixel_values) -> float:
    """How much the network amplifies rounding: the largest deviation of its float32 outputs from a float64 run of
    the same weights, as a fraction of the outputs' largest magnitude, divided by float32's unit roundoff 2^-24.

    A run in a format of unit roundoff ``u`` then deviates by about ``amplification * u`` of the output range (up to
    saturation): for bfloat16, ``u = 2^-9``. Random-weight networks (the golden fixtures') amplify far more than
    trained ones, so this number says how much of a bfloat16 deviation is the format and how much the network.

    Args:
        model: float32 model in eval mode (a float64 copy is made). pixel_values: ``(B, 3, H, W)`` float32.
    """
    import copy

    import torch

    with torch.inference_mode():
        single = model(pixel_values=pixel_values)
        double = copy.deepcopy(model).double()(pixel_values=pixel_values.double())
    deviation, magnitude = 0.0, 0.0
    for key, value in single.items():
        pairs = zip(value, double[key]) if isinstance(value, tuple) else [(value, double[key])]
        for tensor, other in pairs:
            if isinstance(tensor, torch.Tensor) and tensor.is_floating_point():
                deviation = max(deviation, float((tensor.double() - other).abs().max()))
                magnitude = max(magnitude, float(tensor.abs().max()))
    return deviation / magnitude / 2.0**-24 if magnitude else float("nan")


def compare_dtypes(
    entry: dict,
    images_dir: str | os.PathLike,
    dtype=None,
    warmup: bool | None = None,
    flip_test: bool | None = None,
    max_images: int | None = None,
    amplification: bool = True,
) -> dict:
    """Run one converted model (`convert_golden_model`'s ``entry``) through the pipeline in float32 and in ``dtype``
    (default bfloat16) on the fixture's images, float32 first: one timed pass over all images, after one untimed
    warm-up call on the first person box (top-down; ``warmup`` defaults to True there and False for bottom-up, whose
    single image would double the run: its timed pass then includes the first-call costs of eager kernels).
    ``flip_test``: the pipeline's argument (default: the processor's, on); ``max_images``: the first ones only;
    ``amplification=False`` skips `conditioning` (a float64 forward).

    Returns:
        `deviation_summary` plus ``"network_max"``, ``"network_vs_range"`` (the network outputs' largest absolute
        deviation, and that / the float32 outputs' largest magnitude), ``"amplification"`` (`conditioning` on the
        first image's network input, without flip), ``"float32_s"``, ``"other_s"`` (seconds of the stages over all
        images) and ``"persons"``.
    Raises:
        AssertionError: the pipeline did not load the model in the requested dtype, or post-processing received
            something other than float32.
    """
    import numpy as np
    import torch
    from transformers import pipeline

    dtype = torch.bfloat16 if dtype is None else dtype
    names = entry["images"][:max_images]
    images = [_decode(str(Path(images_dir) / name)) for name in names]
    boxes = None if entry["boxes"] is None else entry["boxes"][: len(names)]
    runs = {}
    for key, run_dtype in (("float32", torch.float32), ("other", dtype)):
        pipe = pipeline("keypoint-detection", model=entry["directory"], dtype=run_dtype)
        if pipe.model.dtype != run_dtype:
            raise AssertionError(f"pipeline(dtype={run_dtype}) loaded a {pipe.model.dtype} model")
        if (not entry["bottom_up"]) if warmup is None else warmup:
            _run_stages(pipe, images[:1], None if boxes is None else [boxes[0][:1]], flip_test)
        runs[key] = _run_stages(pipe, images, boxes, flip_test)
        if key == "float32":
            first = pipe.preprocess({"image": images[0], "boxes": None if boxes is None else boxes[0]})
            factor = conditioning(pipe.model, first["inputs"]["pixel_values"]) if amplification else float("nan")
    (persons_a, outputs_a, seconds_a), (persons_b, outputs_b, seconds_b) = runs["float32"], runs["other"]
    if entry["bottom_up"]:
        sizes = [np.array([[image.shape[1], image.shape[0]]]) for image in images]
    else:
        sizes = [np.array([[box[2], box[3]] for box in image_boxes]) for image_boxes in boxes]
    summary = deviation_summary(persons_a, persons_b, sizes, entry["bottom_up"])
    network_max, network_range = 0.0, 0.0
    for model_a, model_b in zip(outputs_a, outputs_b):
        for array_a, array_b in zip(_network_arrays(model_a), _network_arrays(model_b)):
            network_max = max(network_max, float(np.abs(array_a - array_b).max()))
            network_range = max(network_range, float(np.abs(array_a).max()))
    summary.update(
        network_max=network_max,
        network_vs_range=network_max / network_range if network_range else float("nan"),
        amplification=factor,
        float32_s=seconds_a,
        other_s=seconds_b,
        persons=summary["people_reference"],
    )
    return summary


# ------------------------------------------------------------------------------------------------------ driver


def run(
    golden_dir: str | os.PathLike,
    data_root: str | os.PathLike,
    models: list[str] | None = None,
    threads: int = 1,
    work_dir: str | os.PathLike | None = None,
) -> list[dict]:
    """Convert and compare every model in ``models`` (default: all of `TOP_DOWN` and `BOTTOM_UP`); returns the rows."""
    import cv2
    import torch

    os.environ["HFPOSE_OPTIMIZE"] = "0"  # the float32 reference is the eager path that bfloat16 replaces
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    rec = _Recorder(threads)
    flags = cpu_bf16_flags()
    rec.add(
        PRECISION_LINE,
        "precision/cpu_bf16",
        unit="flags",
        value=None,
        flags=" ".join(flags) or "none",
        onednn_max_cpu_isa=os.environ.get("ONEDNN_MAX_CPU_ISA", "default"),
        note="native bfloat16 (AVX512_BF16 / AMX)" if flags else "no AVX512_BF16 / AMX: bfloat16 is emulated (slow)",
    )
    images_dir = Path(data_root) / "coco-mini" / "val2017"
    models = list(TOP_DOWN) + list(BOTTOM_UP) if models is None else models
    with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
        for name in models:
            started = time.perf_counter()
            entry = convert_golden_model(name, golden_dir, Path(scratch) / name)
            result = compare_dtypes(entry, images_dir)
            prefix = f"precision/{name}"
            size_name = "keypoints_vs_image_max" if entry["bottom_up"] else "keypoints_vs_box_max"
            for key, unit in (
                ("keypoints_px_max", "px"),
                ("keypoints_px_median", "px"),
                ("keypoints_vs_size_max", "fraction"),
                ("within_1px", "fraction"),
                ("scores_max", "score"),
                ("network_max", "abs"),
                ("network_vs_range", "fraction"),
                ("amplification", "x"),
            ):
                row_name = size_name if key == "keypoints_vs_size_max" else key
                rec.add(PRECISION_LINE, f"{prefix}/{row_name}", unit=unit, value=result[key])
            if entry["bottom_up"]:
                rec.add(PRECISION_LINE, f"{prefix}/person_scores_max", unit="score", value=result["person_scores_max"])
                rec.add(
                    PRECISION_LINE,
                    f"{prefix}/people",
                    unit="count",
                    value=result["people_reference"],
                    bfloat16=result["people_other"],
                    matched=result["people_matched"],
                )
            rec.add(PRECISION_LINE, f"{prefix}/float32", unit="s", value=result["float32_s"], persons=result["persons"])
            rec.add(PRECISION_LINE, f"{prefix}/bfloat16", unit="s", value=result["other_s"])
            rec.ratio(
                PRECISION_LINE,
                f"{prefix}/bfloat16÷float32",
                result["other_s"],
                result["float32_s"],
                note="time of the pipeline stages; > 1 where bfloat16 is emulated",
            )
            rec.add(PRECISION_LINE, f"{prefix}/wall", unit="s", value=time.perf_counter() - started)
    return rec.rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", default="outputs/bench")
    parser.add_argument("--golden", default=os.environ.get("HFPOSE_GOLDEN", "../shared/golden"))
    parser.add_argument("--data-root", default=os.environ.get("HFPOSE_DATA", "../shared/data"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", choices=list(TOP_DOWN) + list(BOTTOM_UP), default=None)
    args = parser.parse_args(argv)
    if not Path(args.golden).is_dir():
        print(f"precision: golden fixtures not found at {args.golden}; pass --golden or set HFPOSE_GOLDEN")
        return 2
    started = time.perf_counter()
    rows = run(args.golden, args.data_root, args.models, args.threads)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    report = {"wall_seconds": time.perf_counter() - started, "rows": rows}
    (output_dir / "precision.json").write_text(json.dumps(report, indent=1))
    header = f"# hfpose bfloat16 vs float32 (golden converted models)\n\nTotal wall {report['wall_seconds']:.0f} s.\n\n"
    (output_dir / "precision.md").write_text(header + format_table(rows))
    print(header + format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
