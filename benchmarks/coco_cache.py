# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Parse time and peak RSS per rank for a synthetic COCO-train2017-sized annotation file: without the Arrow cache,
first run (one rank per machine parses, the other waits), and cached (both memory-map).

    python benchmarks/coco_cache.py --out outputs/bench_coco_cache [--images 118287 --annotations 262465]

Writes ``results.json`` and prints a table. Each rank is a fresh process (``resource.getrusage`` max RSS); the two
ranks of a run start together, as DDP processes do.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_annotations(path: Path, num_images: int, num_annotations: int, valid_fraction: float = 0.571, seed: int = 0):
    """COCO-format person keypoints of train2017's size: ~57% of the annotations have keypoints (149k of 262k)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    images = [{"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "width": 640, "height": 480} for i in range(num_images)]
    image_ids = rng.integers(1, num_images + 1, num_annotations)
    annotations = []
    for index in range(num_annotations):
        x, y = rng.uniform(0, 400), rng.uniform(0, 250)
        w, h = rng.uniform(20, 240), rng.uniform(40, 230)
        if rng.random() < valid_fraction:
            visible = rng.random(17) < 0.7
            points = np.stack([x + rng.uniform(0, w, 17), y + rng.uniform(0, h, 17), np.where(visible, 2, 0)], 1)
            points[~visible, :2] = 0
            keypoints, count = np.round(points, 2).reshape(-1).tolist(), int(visible.sum())
        else:
            keypoints, count = [0] * 51, 0
        annotations.append(
            {
                "id": index + 1,
                "image_id": int(image_ids[index]),
                "category_id": 1,
                "iscrowd": 0,
                "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                "area": round(w * h, 2),
                "keypoints": keypoints,
                "num_keypoints": count,
            }
        )
    category = {"id": 1, "name": "person", "keypoints": [f"k{i}" for i in range(17)], "skeleton": []}
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [category]}))


def rank(ann_file: str, cache_dir: str, use_cache: bool) -> dict:
    from hfpose.data import load_coco_keypoints
    from hfpose.data.cache import load_coco_cached

    start = time.perf_counter()
    root = Path(ann_file).parent
    dataset = load_coco_cached(
        load_coco_keypoints,
        root,
        "train2017",
        ann_file=ann_file,
        image_dir=root,
        num_keypoints=17,
        enabled=use_cache,
        cache_dir=cache_dir,
        mode="topdown",
        check_files=False,
    )
    _ = dataset[len(dataset) // 2]["keypoints"]  # touch a row
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 2),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rows": len(dataset),
    }


def run_ranks(ann_file: Path, cache_dir: Path, use_cache: bool, num_ranks: int = 2) -> list[dict]:
    command = [sys.executable, __file__, "--rank", str(ann_file), str(cache_dir), "1" if use_cache else "0"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(num_ranks)]
    return [json.loads(process.communicate()[0].strip().splitlines()[-1]) for process in processes]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="outputs/bench_coco_cache")
    parser.add_argument("--images", type=int, default=118287)
    parser.add_argument("--annotations", type=int, default=262465)
    parser.add_argument("--rank", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rank:
        print(json.dumps(rank(args.rank[0], args.rank[1], args.rank[2] == "1")))
        return 0
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ann_file = out / f"person_keypoints_synthetic_{args.images}_{args.annotations}.json"
    start = time.perf_counter()
    if not ann_file.is_file():  # deterministic (seed 0): an earlier run's file is the same
        make_annotations(ann_file, args.images, args.annotations)
    results = {
        "annotation_file_mib": round(ann_file.stat().st_size / 2**20, 1),
        "generate_seconds": round(time.perf_counter() - start, 1),
        "images": args.images,
        "annotations": args.annotations,
    }
    with tempfile.TemporaryDirectory(dir=out) as cache_dir:
        results["no_cache"] = run_ranks(ann_file, Path(cache_dir), use_cache=False)
        results["first_run"] = run_ranks(ann_file, Path(cache_dir), use_cache=True)
        results["cached"] = run_ranks(ann_file, Path(cache_dir), use_cache=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
