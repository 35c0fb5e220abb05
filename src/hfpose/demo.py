# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The demo (`hfpose demo`, `make demo`): train a tiny RLE model on coco-mini, evaluate COCO AP, draw a prediction.

Writes to ``output_dir`` (default ``outputs/demo``):
    metrics.json     COCO OKS AP/AR on the val split (ground-truth boxes, flip test), plus timing;
    prediction.png   the pipeline's skeletons drawn on a val image;
    loss_curve.png   training loss per optimizer step;
    model/           the trained model + image processor (`pipeline("keypoint-detection", model=...)` loads it).

The recipe is the shipped ``demo-rle-tiny-coco-mini`` (`hfpose.training.catalog`), so the demo runs from an installed
wheel. Eighty training images are far too few to learn pose: expect a COCO AP near 0 (see README). The point is that
every stage of the real recipe runs end to end on real images in a few minutes on 2 CPU cores.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["DEMO_RECIPE", "run_demo"]

DEMO_RECIPE = "demo-rle-tiny-coco-mini"


def plot_loss(history_file: Path, output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in history_file.read_text().splitlines() if line.strip()]
    steps = [r["step"] for r in records]
    losses = [r["loss"] for r in records]
    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=120)
    axis.plot(steps, losses, lw=1)
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("RLE loss")
    axis.set_title("hfpose demo: RLE (tiny ResNet) on coco-mini")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(output)
    plt.close(figure)


def draw_prediction(model_dir: Path, data_root: Path, output: Path) -> dict:
    import cv2
    import numpy as np
    from transformers import pipeline

    from .image_io import (
        load_rgb_image,  # (importing hfpose.demo imported hfpose: the task is registered)
    )
    from .training.evaluation_loop import coco_eval_images
    from .visualization import draw_keypoints

    records = coco_eval_images(data_root / "annotations" / "person_keypoints_val2017.json", data_root / "val2017")
    # The val image with the most people among those whose people are large enough to see.
    record = max(records, key=lambda r: (sum(b[3] > 150 for b in r["boxes"]), len(r["boxes"])))
    estimator = pipeline("keypoint-detection", model=str(model_dir))
    persons = estimator(str(record["path"]), boxes=[list(map(float, b)) for b in record["boxes"]])
    image = load_rgb_image(str(record["path"]), 0)  # EXIF-oriented, the frame the keypoints are in
    skeleton = estimator.model.config.skeleton
    as_arrays = [  # the pipeline's per-keypoint dicts (K, in joint order) -> (K, 2) keypoints and (K,) scores
        {
            "keypoints": np.array([[k["x"], k["y"]] for k in p["keypoints"]]),
            "scores": np.array([k["score"] for k in p["keypoints"]]),
        }
        for p in persons
    ]
    drawn = draw_keypoints(image, as_arrays, skeleton=skeleton, keypoint_threshold=0.0)
    cv2.imwrite(str(output), cv2.cvtColor(np.asarray(drawn), cv2.COLOR_RGB2BGR))
    return {"image": record["path"].name, "num_persons": len(persons)}


def run_demo(
    data_root: str | Path,
    output_dir: str | Path = "outputs/demo",
    recipe: str = DEMO_RECIPE,
    overrides: list[str] | None = None,
) -> dict:
    """Train, evaluate and draw; returns the metrics written to ``<output_dir>/metrics.json``.

    Args:
        data_root: a COCO-layout folder (``annotations/person_keypoints_train2017.json``, ``train2017/``, ...), e.g.
            coco-mini.
        output_dir: where everything goes (an interrupted run resumes from its checkpoints).
        recipe: a shipped recipe name or a YAML path; overrides: ``key=value`` recipe overrides.

    Raises:
        FileNotFoundError: if ``data_root`` has no COCO training annotations (names the path and the fix).
    """
    from .training import TrainingRecipe, train
    from .training.catalog import resolve_recipe

    data_root, output_dir = Path(data_root), Path(output_dir)
    if not (data_root / "annotations" / "person_keypoints_train2017.json").is_file():
        raise FileNotFoundError(
            f"no COCO annotations under {data_root} (annotations/person_keypoints_train2017.json); "
            "give the coco-mini folder with --data-root or HFPOSE_DATA"
        )
    recipe = TrainingRecipe.from_yaml(
        resolve_recipe(recipe), [f"data_root={data_root}", f"output_dir={output_dir}", *(overrides or [])]
    )
    start = time.time()
    result = train(recipe)  # resumes from <output_dir>/checkpoints if an earlier run was interrupted
    train_seconds = time.time() - start
    plot_loss(output_dir / "history.jsonl", output_dir / "loss_curve.png")
    shown = draw_prediction(result.model_dir, data_root, output_dir / "prediction.png")
    metrics = {
        **result.metrics,
        "train_seconds": round(train_seconds, 1),
        "optimizer_steps": result.global_step,
        "prediction_image": shown,
    }
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics
